use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Why an unpaid order was cancelled (for example "payment window expired"): 1–500 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CancellationReason(String);

impl CancellationReason {
    /// The longest reason taken, in characters.
    pub const MAX_CHARS: usize = 500;

    /// Trims `value` and takes it if it has 1 to [`Self::MAX_CHARS`] characters and no NUL.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        crate::text::no_null_characters("reason", value)?;
        let value = value.trim();
        let length = value.chars().count();
        if length == 0 || length > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "reason",
                format!("Enter 1 to {} characters.", Self::MAX_CHARS),
            ));
        }
        Ok(CancellationReason(value.to_owned()))
    }

    /// A reason whose text was erased: [`crate::personal::ERASED_TEXT`].
    pub fn erased() -> Self {
        CancellationReason(crate::personal::ERASED_TEXT.to_owned())
    }

    /// The reason's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_newtype_conversions!(CancellationReason);

/// Why a seller or an admin refunds, releases, splits, cancels or extends: 1–500
/// characters, as a cancellation's reason.
pub type ActionReason = CancellationReason;
