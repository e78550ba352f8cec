use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use super::Money;

/// The platform's share of an order's amount, a fraction between 0 and 1 (`FEE_RATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeeRate(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a fee rate is a decimal between 0 and 1, such as 0.05")]
pub struct InvalidFeeRate;

impl FeeRate {
    /// Takes `rate` if it is between 0 and 1 inclusive.
    pub fn new(rate: Decimal) -> Result<FeeRate, InvalidFeeRate> {
        if rate.is_sign_negative() || rate > Decimal::ONE {
            return Err(InvalidFeeRate);
        }
        Ok(FeeRate(rate))
    }

    /// The rate, such as 0.05 for five percent.
    pub fn rate(self) -> Decimal {
        self.0
    }

    /// `round_half_up(rate × amount, 2)`. The rate is at most 1, so the fee never exceeds
    /// the amount it is taken from.
    ///
    /// ```
    /// use order_domain::{FeeRate, Money};
    ///
    /// let five_percent = FeeRate::default();
    /// assert_eq!(five_percent.fee_on("125.00".parse()?), "6.25".parse()?);
    /// // Half a cent rounds up, so no fraction of a cent is lost or invented.
    /// assert_eq!(five_percent.fee_on("0.10".parse()?), "0.01".parse()?);
    /// assert_eq!(five_percent.fee_on(Money::ZERO), Money::ZERO);
    /// # Ok::<(), order_domain::money::MoneyError>(())
    /// ```
    pub fn fee_on(self, amount: Money) -> Money {
        let fee = (self.0 * amount.amount())
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Money::new(fee).expect("a fee of at most the amount is money")
    }
}

impl Default for FeeRate {
    /// 5 %, the marketplace's standard fee.
    fn default() -> Self {
        FeeRate(Decimal::new(5, 2))
    }
}

impl FromStr for FeeRate {
    type Err = InvalidFeeRate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rate = Decimal::from_str_exact(s.trim()).map_err(|_| InvalidFeeRate)?;
        FeeRate::new(rate)
    }
}

impl fmt::Display for FeeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_rounds_half_up_to_the_cent() {
        let rate = FeeRate::default();
        // 5 % of 0.10 is 0.005: half a cent rounds up.
        assert_eq!(rate.fee_on("0.10".parse().unwrap()).to_string(), "0.01");
        // 5 % of 0.09 is 0.0045: less than half rounds down.
        assert_eq!(rate.fee_on("0.09".parse().unwrap()).to_string(), "0.00");
        assert_eq!(rate.fee_on("125.00".parse().unwrap()).to_string(), "6.25");
    }

    #[test]
    fn fee_rate_is_between_zero_and_one() {
        assert!("1.01".parse::<FeeRate>().is_err());
        assert!("-0.01".parse::<FeeRate>().is_err());
        assert!("five".parse::<FeeRate>().is_err());
        assert_eq!("0.05".parse::<FeeRate>().unwrap(), FeeRate::default());
    }
}
