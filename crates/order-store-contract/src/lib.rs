//! The contract of the store ports, as one suite every adapter runs: the PostgreSQL adapter
//! on a fresh database a test, the in-memory one on a fresh store. What a use case may rely
//! on is what passes here on both.
//!
//! An adapter's test file calls [`store_contract!`] with an async expression giving a fresh
//! store (and anything that must live as long as it, such as its database), which writes one
//! `#[tokio::test]` per case.

pub mod cases;

/// Writes one test per case of the contract, each on the store `$fresh` gives: an async
/// expression evaluating to `(store, guard)`, the guard kept alive for the test.
#[macro_export]
macro_rules! store_contract {
    ($fresh:expr) => {
        $crate::store_contract!(@cases $fresh;
            a_committed_order_reads_back_and_an_uncommitted_one_does_not,
            a_dropped_unit_of_work_leaves_nothing_behind,
            a_second_live_order_for_a_listing_conflicts,
            an_update_from_a_status_the_order_left_is_stale,
            a_locked_order_waits_for_the_unit_of_work_holding_it,
            events_are_numbered_without_gaps_in_commit_order,
            a_second_dispute_for_an_order_conflicts_and_the_order_shows_its_dispute,
            a_claim_skips_rows_another_unit_of_work_holds,
            overdue_claims_take_exactly_the_orders_past_their_deadline,
            a_sweeps_backlog_is_the_deadline_of_its_longest_overdue_order,
            the_escalation_backlog_is_the_longest_unanswered_disputes_deadline,
            stale_intents_are_leased_once,
            the_history_pages_an_orders_events_in_sequence,
            the_feed_positions_committed_events_in_commit_order,
            each_visibility_lists_exactly_the_orders_it_admits,
            each_selection_lists_exactly_the_orders_it_matches,
            keyset_pages_walk_the_whole_list_forward_and_back,
            a_parcel_finds_exactly_the_orders_the_domain_says_it_follows,
            a_carrier_event_is_recorded_once_and_only_when_committed,
            a_carrier_event_recorded_concurrently_waits_and_is_refused,
            carrier_events_are_forgotten_after_their_time,
            a_delivery_problem_reads_back,
            escrow_lines_page_through_every_order_with_an_escrow_once,
            a_paid_out_order_reads_with_the_settlement_its_latest_event_recorded,
            changed_since_reads_each_changed_order_once,
            an_erased_order_and_its_dispute_read_back,
            erasure_claims_take_exactly_the_orders_the_domain_calls_due,
            an_erasure_sweep_skips_orders_another_unit_of_work_holds,
            a_users_own_erasure_waits_for_an_order_another_holds_and_takes_it_only_if_still_due,
            a_users_own_erasure_takes_orders_that_ended_together_in_id_order,
            a_request_marks_each_kept_order_of_the_user_once,
            ended_at_is_filled_in_for_orders_that_ended_before_it_was_recorded,
        );
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (store, _guard) = $fresh;
                $crate::cases::$case(std::sync::Arc::new(store)).await;
            }
        )*
    };
}
