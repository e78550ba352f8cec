//! The reads the reconciliation makes: every escrowed order once, its settlement, the
//! orders changed since a time.

use super::*;

/// Every line of `scope`, read `limit` at a time.
async fn all_escrow_lines<S: OrderStore>(
    store: &S,
    scope: EscrowScope,
    limit: usize,
) -> Vec<EscrowLine> {
    let mut lines = Vec::new();
    let mut after = None;
    loop {
        let page = store.escrow_lines(scope, after, limit).await.unwrap();
        assert!(page.lines.len() <= limit);
        lines.extend(page.lines);
        match page.next {
            Some(next) => after = Some(next),
            None => return lines,
        }
    }
}

fn ids_of(lines: &[EscrowLine]) -> Vec<OrderId> {
    lines.iter().map(|line| line.order.id).collect()
}

pub async fn escrow_lines_page_through_every_order_with_an_escrow_once<S: OrderStore>(
    store: Arc<S>,
) {
    let unpaid = nth(placed(), 1);
    let escrowed: Vec<Order> = (2..=6).map(|n| nth(paid(), n)).collect();
    insert(store.as_ref(), std::slice::from_ref(&unpaid)).await;
    insert(store.as_ref(), &escrowed).await;
    let expected: Vec<OrderId> = escrowed.iter().map(|order| order.id).collect();
    for limit in [1, 2, 5, 100] {
        let lines = all_escrow_lines(store.as_ref(), EscrowScope::All, limit).await;
        assert_eq!(ids_of(&lines), expected, "{limit} a page");
        assert!(lines.iter().all(|line| line.settlement.is_none()));
    }
    let one = store
        .escrow_lines(EscrowScope::Order(escrowed[1].id), None, 10)
        .await
        .unwrap();
    assert_eq!(ids_of(&one.lines), [escrowed[1].id]);
    assert_eq!(one.next, None);
    let none = store
        .escrow_lines(EscrowScope::Order(unpaid.id), None, 10)
        .await
        .unwrap();
    assert!(none.lines.is_empty());
}

pub async fn a_paid_out_order_reads_with_the_settlement_its_latest_event_recorded<S: OrderStore>(
    store: Arc<S>,
) {
    let completed = order_in(OrderStatus::Completed);
    insert(store.as_ref(), std::slice::from_ref(&completed)).await;
    let split = order_domain::Settlement::from_parts(money("40.00"), money("92.00"), money("3.00"));
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(completed.id).await.unwrap();
    let first = uow.reserve_sequences(completed.id, 3).await.unwrap();
    let mut settled_early = event(&completed, first, 1);
    settled_early.story.details = serde_json::json!({"settlement": completed.release_settlement()});
    let mut settled = event(&completed, first + 1, 2);
    settled.story.details = serde_json::json!({"reason": "agreed", "settlement": split});
    let after = event(&completed, first + 2, 3);
    uow.append_outbox(vec![settled_early, settled, after])
        .await
        .unwrap();
    uow.commit().await.unwrap();
    let page = store
        .escrow_lines(EscrowScope::All, None, 10)
        .await
        .unwrap();
    assert_eq!(page.lines.len(), 1);
    assert_eq!(page.lines[0].order, completed);
    assert_eq!(page.lines[0].settlement, Some(split));
}

pub async fn changed_since_reads_each_changed_order_once<S: OrderStore>(store: Arc<S>) {
    let [a, b, quiet] = [7, 8, 9].map(|n| nth(paid(), n));
    let unpaid = nth(placed(), 10);
    insert(
        store.as_ref(),
        &[a.clone(), b.clone(), quiet.clone(), unpaid.clone()],
    )
    .await;
    // Events occur `n` seconds after t0: a at 1 and 4, b at 2, unpaid at 3.
    record_events(store.as_ref(), &a, 1, 1).await;
    record_events(store.as_ref(), &b, 1, 2).await;
    record_events(store.as_ref(), &unpaid, 1, 3).await;
    record_events(store.as_ref(), &a, 1, 4).await;
    let since = t0() + TimeDelta::seconds(2);
    for limit in [1, 2, 10] {
        let lines = all_escrow_lines(store.as_ref(), EscrowScope::ChangedSince(since), limit).await;
        let mut ids = ids_of(&lines);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), lines.len(), "each order once ({limit} a page)");
        assert!(ids.contains(&a.id) && ids.contains(&b.id), "{limit} a page");
        assert!(!ids.contains(&quiet.id), "an order that never changed");
        assert!(!ids.contains(&unpaid.id), "an order without an escrow");
    }
}
