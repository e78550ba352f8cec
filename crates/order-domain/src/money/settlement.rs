use serde::{Deserialize, Serialize};

use super::{FeeRate, Money};
use crate::error::DomainError;

/// Where an order's escrow goes when it is paid out: every cent of the order's total to
/// exactly one of the buyer, the seller and the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settlement {
    buyer_refund: Money,
    seller_amount: Money,
    fee_amount: Money,
}

impl Settlement {
    /// The sale goes through: the seller gets `total − fee`, the platform the fee.
    ///
    /// ```
    /// use order_domain::{Money, Settlement};
    ///
    /// let total: Money = "135.00".parse()?; // 125.00 and 10.00 shipping
    /// let settlement = Settlement::release(total, "6.25".parse()?);
    /// assert_eq!(settlement.seller_amount(), "128.75".parse()?);
    /// assert_eq!(settlement.fee_amount(), "6.25".parse()?);
    /// assert_eq!(settlement.buyer_refund(), Money::ZERO);
    /// assert_eq!(settlement.total(), total);
    /// # Ok::<(), order_domain::money::MoneyError>(())
    /// ```
    pub fn release(total: Money, fee: Money) -> Settlement {
        let seller_amount = total
            .checked_sub(fee)
            .expect("an order's fee never exceeds its total");
        Settlement {
            buyer_refund: Money::ZERO,
            seller_amount,
            fee_amount: fee,
        }
    }

    /// The sale is undone: the buyer gets everything back and nobody earns a fee.
    pub fn full_refund(total: Money) -> Settlement {
        Settlement {
            buyer_refund: total,
            seller_amount: Money::ZERO,
            fee_amount: Money::ZERO,
        }
    }

    /// The buyer gets `refund` (strictly between 0 and the total), the platform its rate on
    /// whatever of the item's amount the seller keeps, and the seller the rest.
    ///
    /// ```
    /// use order_domain::{FeeRate, Money, Settlement};
    ///
    /// let money = |s: &str| s.parse::<Money>().unwrap();
    /// // 100.00 plus 10.00 shipping; the buyer gets 40.00 back.
    /// let split = Settlement::partial_refund(money("100.00"), money("10.00"), money("40.00"), FeeRate::default())?;
    /// assert_eq!(split.buyer_refund(), money("40.00"));
    /// assert_eq!(split.fee_amount(), money("3.00")); // 5 % of the 60.00 the seller keeps
    /// assert_eq!(split.seller_amount(), money("67.00"));
    /// assert_eq!(split.total(), money("110.00"));
    ///
    /// // A refund of nothing, or of everything, is not a partial refund.
    /// assert!(Settlement::partial_refund(money("100.00"), money("10.00"), money("110.00"), FeeRate::default()).is_err());
    /// # Ok::<(), order_domain::DomainError>(())
    /// ```
    pub fn partial_refund(
        amount: Money,
        shipping_cost: Money,
        refund: Money,
        rate: FeeRate,
    ) -> Result<Settlement, DomainError> {
        let total = amount
            .checked_add(shipping_cost)
            .expect("an order's total fits in NUMERIC(12,2)");
        if refund.is_zero() || refund >= total {
            return Err(DomainError::invalid(
                "refund_amount",
                format!(
                    "Ensure this value is greater than 0.00 and less than the order total {total}."
                ),
            ));
        }
        let kept_of_amount = amount.checked_sub(refund).unwrap_or(Money::ZERO);
        let fee_amount = rate.fee_on(kept_of_amount);
        // refund < total and fee ≤ amount − refund (when positive), so this never goes below 0.
        let seller_amount = total
            .checked_sub(refund)
            .and_then(|rest| rest.checked_sub(fee_amount))
            .expect("the seller's share of a partial refund is never negative");
        Ok(Settlement {
            buyer_refund: refund,
            seller_amount,
            fee_amount,
        })
    }

    /// The parts as another party reports them (the Wallet's account of a payout), to be
    /// compared with the order's own: no rule is checked, they need not even add up.
    pub fn from_parts(buyer_refund: Money, seller_amount: Money, fee_amount: Money) -> Settlement {
        Settlement {
            buyer_refund,
            seller_amount,
            fee_amount,
        }
    }

    /// What goes back to the buyer.
    pub fn buyer_refund(&self) -> Money {
        self.buyer_refund
    }

    /// What the seller is paid.
    pub fn seller_amount(&self) -> Money {
        self.seller_amount
    }

    /// What the platform earns.
    pub fn fee_amount(&self) -> Money {
        self.fee_amount
    }

    /// What the three parties get together: always the order's total.
    pub fn total(&self) -> Money {
        [self.buyer_refund, self.seller_amount, self.fee_amount]
            .into_iter()
            .sum()
    }
}
