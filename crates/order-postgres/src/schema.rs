//! The tables of `migrations/`, for diesel's query builder.

diesel::table! {
    orders (id) {
        id -> Uuid,
        listing_id -> Uuid,
        buyer_id -> Uuid,
        seller_id -> Uuid,
        source -> Text,
        amount -> Numeric,
        fee_amount -> Numeric,
        shipping_cost -> Numeric,
        status -> Text,
        shipping_address -> Jsonb,
        tracking_number -> Nullable<Text>,
        carrier -> Nullable<Text>,
        escrow_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
        shipped_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
        completed_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
        cancellation_reason -> Nullable<Text>,
        status_before_dispute -> Nullable<Text>,
        escrow_intent -> Nullable<Jsonb>,
        escrow_intent_resume_at -> Nullable<Timestamptz>,
        pay_by -> Nullable<Timestamptz>,
        ship_by -> Nullable<Timestamptz>,
        ship_overdue_at -> Nullable<Timestamptz>,
        auto_complete_at -> Nullable<Timestamptz>,
        event_sequence -> BigInt,
        delivery_problem -> Nullable<Jsonb>,
        personal_data_erased_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        erasure_requested_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    disputes (id) {
        id -> Uuid,
        order_id -> Uuid,
        opened_by -> Uuid,
        buyer_id -> Uuid,
        seller_id -> Uuid,
        reason -> Text,
        evidence -> Array<Text>,
        status -> Text,
        resolution -> Nullable<Text>,
        refund_amount -> Nullable<Numeric>,
        admin_notes -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
        respond_by -> Nullable<Timestamptz>,
        responded_at -> Nullable<Timestamptz>,
        escalated_at -> Nullable<Timestamptz>,
        offers -> Jsonb,
    }
}

diesel::table! {
    outbox (seq) {
        seq -> BigInt,
        event_id -> Uuid,
        event_type -> Text,
        order_id -> Uuid,
        occurred_at -> Timestamptz,
        payload -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        published_at -> Nullable<Timestamptz>,
        parked_at -> Nullable<Timestamptz>,
        refusals -> Integer,
        sequence -> Nullable<BigInt>,
        actor_type -> Nullable<Text>,
        actor_id -> Nullable<Uuid>,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        details -> Nullable<Jsonb>,
        position -> Nullable<BigInt>,
        traceparent -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        request_hash -> Text,
        status_code -> Nullable<SmallInt>,
        response_body -> Nullable<Text>,
        created_at -> Timestamptz,
        claimed_by -> Nullable<Integer>,
        mentioned_ids -> Nullable<Array<Uuid>>,
    }
}

diesel::table! {
    carrier_events (event_id) {
        event_id -> Text,
        order_ids -> Array<Uuid>,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    order_counts (status, shard) {
        status -> Text,
        shard -> SmallInt,
        n -> BigInt,
    }
}

diesel::table! {
    dispute_counts (status, shard) {
        status -> Text,
        shard -> SmallInt,
        n -> BigInt,
    }
}

diesel::table! {
    user_order_counts (user_id, side) {
        user_id -> Uuid,
        side -> Text,
        n -> BigInt,
    }
}

diesel::joinable!(disputes -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(orders, disputes);
