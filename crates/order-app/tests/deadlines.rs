//! The deadline worker's sweeps, on rows the store claims as due.

mod support;

use order_domain::fixtures::*;
use order_domain::order::Sweep;
use order_domain::OrderStatus;
use support::World;

#[tokio::test]
async fn an_order_the_domain_refuses_is_left_alone_and_the_rest_of_its_batch_goes_on() {
    // A Buy It Now order has no payment deadline: were the store to claim it as an unpaid
    // auction, the domain refuses to expire it.
    let refused = buy_now_placed();
    let due = placed();
    let (service, journal) = World::holding(refused.clone())
        .and(due.clone())
        .misclaiming(Sweep::UnpaidAuction, refused.id)
        .service();

    let sweep = service.enforce_deadlines(2).await.unwrap();

    assert_eq!(sweep.payments_expired, vec![due.id]);
    assert_eq!(sweep.refused, 1);
    assert!(sweep.ship_overdue.is_empty() && sweep.disputes_escalated.is_empty());
    let cancelled = journal.latest_order(due.id).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(journal.latest_order(refused.id), None, "left alone");
}

#[tokio::test]
async fn an_order_auto_completion_refuses_is_left_alone_and_the_next_due_one_completes() {
    // A paid order has no completion deadline: were the store to claim it as due, the
    // domain refuses to complete it. Claimed first, it must not stop the sweep.
    let refused = paid();
    let due = renumbered(shipped(), 2);
    let (service, journal) = World::holding(refused.clone())
        .and(due.clone())
        .misclaiming(Sweep::DueCompletion, refused.id)
        .releasing(1)
        .service();

    let sweep = service.complete_due(10).await.unwrap();

    assert_eq!(sweep.refused, vec![refused.id]);
    assert_eq!(sweep.completed, vec![due.id]);
    assert!(sweep.failed.is_empty());
    let completed = journal.latest_order(due.id).unwrap();
    assert_eq!(completed.status, OrderStatus::Completed);
    assert_eq!(journal.latest_order(refused.id), None, "left alone");
}
