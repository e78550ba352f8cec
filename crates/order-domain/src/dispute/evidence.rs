use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::order::string_newtype_conversions;

/// Why a party disputes an order: 10–5000 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisputeReason(String);

impl DisputeReason {
    /// The fewest characters a reason may have, after trimming.
    pub const MIN_CHARS: usize = 10;
    /// The most characters a reason may have.
    pub const MAX_CHARS: usize = 5000;

    /// Trims `value` and takes it if its length is within bounds and it holds no NUL.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        crate::text::no_null_characters("reason", value)?;
        let value = value.trim();
        let length = value.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&length) {
            return Err(DomainError::invalid(
                "reason",
                format!(
                    "Enter {} to {} characters.",
                    Self::MIN_CHARS,
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(DisputeReason(value.to_owned()))
    }

    /// A reason whose text was erased: [`crate::personal::ERASED_TEXT`], shorter than a
    /// reason may be written, so that no caller can write it.
    pub fn erased() -> Self {
        DisputeReason(crate::personal::ERASED_TEXT.to_owned())
    }

    /// A reason as it was stored: one that passed [`DisputeReason::parse`], or an erased one.
    pub fn stored(value: &str) -> Result<Self, DomainError> {
        if value == crate::personal::ERASED_TEXT {
            return Ok(DisputeReason::erased());
        }
        DisputeReason::parse(value)
    }

    /// The reason's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A link to evidence (a photo, a chat log): an absolute http or https URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EvidenceUrl(String);

impl EvidenceUrl {
    /// The longest URL taken, in bytes.
    pub const MAX_CHARS: usize = 2048;

    /// Takes `value` (trimmed) if it is an http or https URL with a host and no whitespace.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let value = value.trim();
        let invalid = || DomainError::invalid("evidence", "Enter a valid http or https URL.");
        let lower = value.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(invalid)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_name = host.rsplit('@').next().unwrap_or_default();
        let host_name = host_name.split(':').next().unwrap_or_default();
        if value.len() > Self::MAX_CHARS
            || host_name.is_empty()
            || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid());
        }
        Ok(EvidenceUrl(value.to_owned()))
    }

    /// The URL as given, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_conversions!(DisputeReason, EvidenceUrl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_an_http_or_https_url_with_a_host() {
        assert!(EvidenceUrl::parse("https://img.example.com/a.jpg").is_ok());
        assert!(EvidenceUrl::parse("HTTP://example.com").is_ok());
        assert!(EvidenceUrl::parse("ftp://example.com/a").is_err());
        assert!(EvidenceUrl::parse("javascript:alert(1)").is_err());
        assert!(EvidenceUrl::parse("https://").is_err());
        assert!(EvidenceUrl::parse("https:///path").is_err());
        assert!(EvidenceUrl::parse("https://exa mple.com").is_err());
        assert!(EvidenceUrl::parse(&format!("https://e.com/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn a_reason_has_ten_to_five_thousand_characters() {
        assert!(DisputeReason::parse("too short").is_err());
        assert!(DisputeReason::parse("   padded     ").is_err());
        assert!(DisputeReason::parse("never arrived").is_ok());
        assert!(DisputeReason::parse(&"x".repeat(5000)).is_ok());
        assert!(DisputeReason::parse(&"x".repeat(5001)).is_err());
        assert!(DisputeReason::parse("a reason with \0 inside").is_err());
    }
}
