//! Money and the arithmetic the marketplace does with it.
//!
//! Amounts are exact decimals with two places, never negative and never above what the
//! database column (`NUMERIC(12,2)`) can hold. Nothing here rounds a caller's amount: an
//! input with more than two significant decimals is rejected, and the only rounding in the
//! service is the fee's, done once, half up, in [`FeeRate::fee_on`].

mod fee;
mod settlement;

pub use fee::FeeRate;
pub use settlement::Settlement;

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a value is not money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Ensure this value is greater than or equal to 0.")]
    /// Below zero.
    Negative,
    #[error("Ensure that there are no more than 2 decimal places.")]
    /// Finer than a cent.
    TooManyDecimals,
    #[error("Ensure that there are no more than 12 digits in total (at most 9999999999.99).")]
    /// More than [`Money::max`].
    TooLarge,
    #[error("A valid number is required.")]
    /// Not a decimal number at all.
    NotANumber,
}

/// A non-negative amount of the marketplace's currency, exactly two decimal places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    // On the wire: a decimal string with two places.
    schema(value_type = String, pattern = r"^\d{1,10}\.\d{2}$", example = "125.00")
)]
pub struct Money(Decimal);

impl Money {
    /// Zero, with its two places: it prints "0.00" like every other amount.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, 2));

    /// The largest amount a `NUMERIC(12,2)` column holds.
    pub fn max() -> Money {
        Money(Decimal::new(999_999_999_999, 2))
    }

    /// Takes `value` as money if it is exact to the cent, not negative and not too large.
    /// `1.50` and `1.500` are the same amount and both accepted; `1.505` is not.
    pub fn new(value: Decimal) -> Result<Money, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        if value.round_dp(2) != value {
            return Err(MoneyError::TooManyDecimals);
        }
        if value > Self::max().0 {
            return Err(MoneyError::TooLarge);
        }
        let mut cents = value.abs();
        cents.rescale(2);
        Ok(Money(cents))
    }

    /// `cents / 100`, for tests and literals.
    pub fn from_cents(cents: u64) -> Result<Money, MoneyError> {
        Money::new(Decimal::from(cents) / Decimal::ONE_HUNDRED)
    }

    /// The amount, with two decimal places.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Whether it is 0.00.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The sum, unless it exceeds [`Money::max`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        Money::new(self.0 + other.0)
    }

    /// The difference, unless it would be negative.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        Money::new(self.0 - other.0)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The scale is always 2, so this prints "125.00", never "125" or "1.25E2".
        self.0.fmt(f)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        // Exponents are valid decimals but no client of a money API means them.
        if trimmed.is_empty() || trimmed.contains(['e', 'E']) {
            return Err(MoneyError::NotANumber);
        }
        let value = Decimal::from_str_exact(trimmed).map_err(|_| MoneyError::NotANumber)?;
        Money::new(value)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;

    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Money::new(value)
    }
}

impl Sum for Money {
    /// Sums parts of an amount that is itself money; panics only if the parts exceed
    /// [`Money::max`], which the settlement arithmetic rules out.
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        let total: Decimal = iter.map(Money::amount).sum();
        Money::new(total).expect("a sum of settlement parts fits in NUMERIC(12,2)")
    }
}

/// Money goes on the wire as a decimal string with two places: `"125.00"`.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Money is read from a decimal string or a JSON number, with the same rules as [`Money::new`].
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal amount with at most two decimal places")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                // A float's shortest decimal form is what the client wrote: 0.1 is "0.1".
                v.to_string().parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str) -> Result<Money, MoneyError> {
        s.parse()
    }

    #[test]
    fn money_always_prints_two_places() {
        assert_eq!(money("125").unwrap().to_string(), "125.00");
        assert_eq!(money("0.5").unwrap().to_string(), "0.50");
        assert_eq!(money("1.500").unwrap().to_string(), "1.50");
    }

    #[test]
    fn zero_prints_with_two_places_too() {
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(serde_json::to_string(&Money::ZERO).unwrap(), "\"0.00\"");
    }

    #[test]
    fn money_rejects_what_it_would_have_to_round() {
        assert_eq!(money("1.005"), Err(MoneyError::TooManyDecimals));
    }

    #[test]
    fn money_is_never_negative() {
        assert_eq!(money("-0.01"), Err(MoneyError::Negative));
        assert_eq!(money("-0").unwrap(), Money::ZERO);
    }

    #[test]
    fn money_fits_numeric_12_2() {
        assert_eq!(money("9999999999.99").unwrap(), Money::max());
        assert_eq!(money("10000000000.00"), Err(MoneyError::TooLarge));
        assert_eq!(
            Money::max().checked_add(Money::from_cents(1).unwrap()),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn money_rejects_text_and_exponents() {
        assert_eq!(money("abc"), Err(MoneyError::NotANumber));
        assert_eq!(money(""), Err(MoneyError::NotANumber));
        assert_eq!(money("1e3"), Err(MoneyError::NotANumber));
        assert_eq!(money("NaN"), Err(MoneyError::NotANumber));
    }

    #[test]
    fn money_serializes_as_a_string_and_reads_strings_or_numbers() {
        let m: Money = serde_json::from_str("\"125.5\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"125.50\"");
        assert_eq!(
            serde_json::from_str::<Money>("125").unwrap(),
            m.checked_sub(money("0.5").unwrap()).unwrap()
        );
        assert_eq!(
            serde_json::from_str::<Money>("0.1").unwrap(),
            money("0.10").unwrap()
        );
        assert!(serde_json::from_str::<Money>("0.125").is_err());
        assert!(serde_json::from_str::<Money>("-3").is_err());
        assert!(serde_json::from_str::<Money>("true").is_err());
    }

    #[test]
    fn subtracting_more_than_there_is_is_an_error() {
        assert_eq!(
            money("1.00").unwrap().checked_sub(money("1.01").unwrap()),
            Err(MoneyError::Negative)
        );
    }
}
