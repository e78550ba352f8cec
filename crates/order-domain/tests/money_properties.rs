//! The money rules (fee, release, partial refund), checked over the whole range of amounts
//! against integer arithmetic on cents, which shares no code with the decimal arithmetic
//! under test.

use order_domain::money::{FeeRate, Money, Settlement};
use proptest::prelude::*;
use rust_decimal::Decimal;

const MAX_CENTS: u64 = 999_999_999_999;

fn cents(m: Money) -> u64 {
    let scaled = m.amount() * Decimal::ONE_HUNDRED;
    assert!(scaled.fract().is_zero(), "{m} is exact to the cent");
    u64::try_from(scaled.trunc().mantissa()).unwrap() / 10u64.pow(scaled.trunc().scale())
}

fn from_cents(c: u64) -> Money {
    Money::from_cents(c).unwrap()
}

/// A rate in basis points (0.01 %), so that the oracle can stay in integers.
fn rate(bps: u64) -> FeeRate {
    FeeRate::new(Decimal::new(bps as i64, 4)).unwrap()
}

/// round_half_up(bps / 10000 × cents / 100, 2) in cents, with integers only.
fn oracle_fee(amount_cents: u64, bps: u64) -> u64 {
    let exact = amount_cents as u128 * bps as u128; // in 1/10000 of a cent
    ((exact + 5_000) / 10_000) as u64
}

/// Amount and shipping whose sum fits NUMERIC(12,2), amount > 0.
fn order_amounts() -> impl Strategy<Value = (u64, u64)> {
    (1..=MAX_CENTS).prop_flat_map(|amount| (Just(amount), 0..=(MAX_CENTS - amount)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn the_fee_is_the_rate_times_the_amount_rounded_half_up(amount in 0..=MAX_CENTS, bps in 0u64..=10_000) {
        prop_assert_eq!(cents(rate(bps).fee_on(from_cents(amount))), oracle_fee(amount, bps));
    }

    #[test]
    fn a_release_pays_out_the_total_to_the_cent((amount, shipping) in order_amounts(), bps in 0u64..=10_000) {
        let fee = rate(bps).fee_on(from_cents(amount));
        let total = from_cents(amount + shipping);
        let settlement = Settlement::release(total, fee);
        prop_assert_eq!(cents(settlement.seller_amount()), amount + shipping - oracle_fee(amount, bps));
        prop_assert_eq!(cents(settlement.fee_amount()), oracle_fee(amount, bps));
        prop_assert_eq!(settlement.buyer_refund(), Money::ZERO);
        prop_assert_eq!(settlement.total(), total);
    }

    #[test]
    fn a_partial_refund_pays_out_the_total_to_the_cent(
        (amount, shipping, refund) in order_amounts()
            .prop_filter("a partial refund needs a total of 2 cents", |(a, s)| a + s >= 2)
            .prop_flat_map(|(a, s)| (Just(a), Just(s), 1..(a + s))),
        bps in 0u64..=10_000,
    ) {
        let settlement = Settlement::partial_refund(
            from_cents(amount), from_cents(shipping), from_cents(refund), rate(bps),
        ).unwrap();
        let fee = oracle_fee(amount.saturating_sub(refund), bps);
        prop_assert_eq!(cents(settlement.buyer_refund()), refund);
        prop_assert_eq!(cents(settlement.fee_amount()), fee);
        prop_assert_eq!(cents(settlement.seller_amount()), amount + shipping - refund - fee);
        prop_assert_eq!(
            cents(settlement.buyer_refund()) + cents(settlement.seller_amount()) + cents(settlement.fee_amount()),
            amount + shipping
        );
        for part in [settlement.buyer_refund(), settlement.seller_amount(), settlement.fee_amount()] {
            prop_assert!(!part.amount().is_sign_negative() || part.is_zero());
        }
    }

    #[test]
    fn a_refund_outside_zero_and_the_total_is_rejected(
        (amount, shipping) in order_amounts(),
        over in 0u64..=1_000,
        zero in any::<bool>(),
        bps in 0u64..=10_000,
    ) {
        let total = amount + shipping;
        let refund = if zero { 0 } else { (total + over).min(MAX_CENTS) };
        prop_assume!(refund == 0 || refund >= total);
        let outcome = Settlement::partial_refund(from_cents(amount), from_cents(shipping), from_cents(refund), rate(bps));
        prop_assert!(outcome.is_err());
    }

    #[test]
    fn a_full_refund_gives_the_buyer_everything(total in 0..=MAX_CENTS) {
        let settlement = Settlement::full_refund(from_cents(total));
        prop_assert_eq!(cents(settlement.buyer_refund()), total);
        prop_assert_eq!(settlement.total(), from_cents(total));
    }

    #[test]
    fn money_reads_back_what_it_prints(c in 0..=MAX_CENTS) {
        let m = from_cents(c);
        prop_assert_eq!(m.to_string().parse::<Money>().unwrap(), m);
        prop_assert_eq!(m.to_string().split('.').nth(1).map(str::len), Some(2));
    }
}
