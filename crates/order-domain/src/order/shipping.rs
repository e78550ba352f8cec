//! What the seller and the buyer say about getting the item from one to the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// A carrier's tracking number: 1–64 letters, digits and hyphens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingNumber(String);

impl TrackingNumber {
    /// The longest tracking number taken, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Trims `value` and takes it if it is 1–64 letters, digits and hyphens.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let value = value.trim();
        let valid_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if value.is_empty() || value.len() > Self::MAX_CHARS || !valid_chars {
            return Err(DomainError::invalid(
                "tracking_number",
                "Enter 1 to 64 letters, digits or hyphens.",
            ));
        }
        Ok(TrackingNumber(value.to_owned()))
    }

    /// The tracking number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The carrier's name: 1–32 printable characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Carrier(String);

impl Carrier {
    /// The longest name taken, in characters.
    pub const MAX_CHARS: usize = 32;

    /// Trims `value` and takes it if it is 1–32 printable characters.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let value = value.trim();
        let length = value.chars().count();
        if length == 0 || length > Self::MAX_CHARS || value.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "carrier",
                "Enter 1 to 32 printable characters.",
            ));
        }
        Ok(Carrier(value.to_owned()))
    }

    /// The carrier's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the item goes: a flat object of named lines (`{"name": …, "line1": …, "city": …}`).
///
/// The marketplace's clients send different address layouts, so the service keeps the
/// keys they chose and only bounds the size (20 keys of ≤ 64 characters, values of ≤ 512).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct ShippingAddress(BTreeMap<String, String>);

impl ShippingAddress {
    /// The most lines an address may have.
    pub const MAX_KEYS: usize = 20;
    /// The longest key, in characters.
    pub const MAX_KEY_CHARS: usize = 64;
    /// The longest value, in characters.
    pub const MAX_VALUE_CHARS: usize = 512;

    /// Takes `lines` if they are within the bounds above and hold no NUL.
    pub fn new(lines: BTreeMap<String, String>) -> Result<Self, DomainError> {
        if lines.len() > Self::MAX_KEYS {
            return Err(DomainError::invalid(
                "shipping_address",
                format!(
                    "Ensure this object has no more than {} keys.",
                    Self::MAX_KEYS
                ),
            ));
        }
        for (key, value) in &lines {
            crate::text::no_null_characters("shipping_address", key)?;
            crate::text::no_null_characters("shipping_address", value)?;
            let key_chars = key.chars().count();
            if key_chars == 0 || key_chars > Self::MAX_KEY_CHARS {
                return Err(DomainError::invalid(
                    "shipping_address",
                    format!("Keys have 1 to {} characters.", Self::MAX_KEY_CHARS),
                ));
            }
            if value.chars().count() > Self::MAX_VALUE_CHARS {
                return Err(DomainError::invalid(
                    "shipping_address",
                    format!(
                        "Ensure \"{key}\" has no more than {} characters.",
                        Self::MAX_VALUE_CHARS
                    ),
                ));
            }
        }
        Ok(ShippingAddress(lines))
    }

    /// The address's lines, by key.
    pub fn lines(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Whether it has no lines at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

macro_rules! string_newtype_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = DomainError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    )*};
}
pub(crate) use string_newtype_conversions;

string_newtype_conversions!(TrackingNumber, Carrier);

impl TryFrom<BTreeMap<String, String>> for ShippingAddress {
    type Error = DomainError;

    fn try_from(lines: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        ShippingAddress::new(lines)
    }
}

impl From<ShippingAddress> for BTreeMap<String, String> {
    fn from(address: ShippingAddress) -> Self {
        address.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_numbers_are_letters_digits_and_hyphens() {
        assert_eq!(
            TrackingNumber::parse("1Z-999-AA1").unwrap().as_str(),
            "1Z-999-AA1"
        );
        assert!(TrackingNumber::parse("").is_err());
        assert!(TrackingNumber::parse("1Z 999").is_err());
        assert!(TrackingNumber::parse("ÄÖ").is_err());
        assert!(TrackingNumber::parse(&"A".repeat(64)).is_ok());
        assert!(TrackingNumber::parse(&"A".repeat(65)).is_err());
    }

    #[test]
    fn carriers_are_short_printable_names() {
        assert_eq!(Carrier::parse(" La Poste ").unwrap().as_str(), "La Poste");
        assert!(Carrier::parse("   ").is_err());
        assert!(
            Carrier::parse("DHL\n").is_ok(),
            "surrounding whitespace is trimmed"
        );
        assert!(Carrier::parse("DH\u{7}L").is_err());
        assert!(Carrier::parse(&"é".repeat(32)).is_ok());
        assert!(Carrier::parse(&"é".repeat(33)).is_err());
    }

    #[test]
    fn addresses_are_bounded() {
        let too_many: BTreeMap<_, _> = (0..21).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(ShippingAddress::new(too_many).is_err());
        let long_value = BTreeMap::from([("line1".to_owned(), "x".repeat(513))]);
        assert!(ShippingAddress::new(long_value).is_err());
        let empty_key = BTreeMap::from([(String::new(), "x".to_owned())]);
        assert!(ShippingAddress::new(empty_key).is_err());
        let null = BTreeMap::from([("line1".to_owned(), "a\0b".to_owned())]);
        assert!(
            ShippingAddress::new(null).is_err(),
            "PostgreSQL cannot store NUL"
        );
    }

    #[test]
    fn an_address_must_be_a_flat_object_of_strings() {
        assert!(serde_json::from_str::<ShippingAddress>(r#"{"city": "Lyon"}"#).is_ok());
        assert!(serde_json::from_str::<ShippingAddress>(r#"{"zip": 69001}"#).is_err());
        assert!(serde_json::from_str::<ShippingAddress>(r#""Lyon""#).is_err());
    }
}
