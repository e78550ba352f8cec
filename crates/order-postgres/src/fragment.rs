//! The few pieces of SQL diesel's query builder cannot write, as query fragments that
//! keep their statements in the prepared-statement cache: an SQL literal (`dsl::sql`) or
//! `sql_query` would be prepared anew on every run, a second round trip each time.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryResult;
use uuid::Uuid;

use crate::page::PagePlan;

/// `(table.created_at, table.id) < (…)` (or `>`): the row comparison that an index on
/// `(…, created_at DESC, id DESC)` serves directly.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Keyset {
    pub table: &'static str,
    /// Rows before the position (`<`, reading newest first) or after it (`>`).
    pub before: bool,
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Expression for Keyset {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for Keyset {}

impl ValidGrouping<()> for Keyset {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for Keyset {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Keyset {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("(");
        out.push_identifier(self.table)?;
        out.push_sql(".created_at, ");
        out.push_identifier(self.table)?;
        out.push_sql(if self.before { ".id) < (" } else { ".id) > (" });
        out.push_bind_param::<Timestamptz, _>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<SqlUuid, _>(&self.id)?;
        out.push_sql(")");
        Ok(())
    }
}

/// `prefix query suffix`, read as rows of `ST`: `EXPLAIN` of a statement, or a count over a
/// capped subquery.
pub(crate) struct Around<Q, ST> {
    prefix: &'static str,
    query: Q,
    suffix: &'static str,
    sql_type: PhantomData<ST>,
}

impl<Q, ST> Around<Q, ST> {
    pub fn new(prefix: &'static str, query: Q, suffix: &'static str) -> Self {
        Around {
            prefix,
            query,
            suffix,
            sql_type: PhantomData,
        }
    }
}

impl<Q: QueryFragment<Pg>, ST> QueryFragment<Pg> for Around<Q, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.prefix);
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(self.suffix);
        Ok(())
    }
}

impl<Q, ST: 'static> QueryId for Around<Q, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, ST> Query for Around<Q, ST> {
    type SqlType = ST;
}

/// `(part) UNION ALL (part) … ORDER BY … LIMIT … OFFSET …`: lists, each already in keyset
/// order and cut to the rows the page can need, merged. PostgreSQL reads each through its
/// own index and merges them (a Merge Append), where `a OR b` or `= ANY` in one query
/// would read every matching row and sort them.
pub(crate) struct MergedPages<P, ST> {
    parts: Vec<P>,
    /// The position of `created_at` in the selection; `id` is the first column.
    created_at_column: usize,
    descending: bool,
    offset: i64,
    limit: i64,
    sql_type: PhantomData<ST>,
}

impl<P, ST> MergedPages<P, ST> {
    pub fn new(parts: Vec<P>, created_at_column: usize, plan: &PagePlan) -> Self {
        MergedPages {
            parts,
            created_at_column,
            descending: plan.descending,
            offset: plan.offset,
            limit: plan.limit,
            sql_type: PhantomData,
        }
    }
}

impl<P: QueryFragment<Pg>, ST> QueryFragment<Pg> for MergedPages<P, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (n, part) in self.parts.iter().enumerate() {
            out.push_sql(if n == 0 { "(" } else { ") UNION ALL (" });
            part.walk_ast(out.reborrow())?;
        }
        let direction = if self.descending { "DESC" } else { "ASC" };
        // Positions, since an order's part names two `id`s (the order's and its dispute's).
        out.push_sql(&format!(
            ") ORDER BY {} {direction}, 1 {direction} LIMIT ",
            self.created_at_column
        ));
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(" OFFSET ");
        out.push_bind_param::<BigInt, _>(&self.offset)?;
        Ok(())
    }
}

impl<P, ST: 'static> QueryId for MergedPages<P, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<P, ST> Query for MergedPages<P, ST> {
    type SqlType = ST;
}

/// A statement kept in the prepared-statement cache under its SQL text. Diesel leaves out
/// of the cache every UPDATE, every multi-row INSERT and every INSERT of a derived record
/// (their text varies with their values: which columns change, how many rows), so each
/// run would prepare it anew, one more round trip. Keyed by its text and bind types, a
/// cached statement is exactly right; what diesel avoids is a cache that grows with every
/// variant. The service's writes have a few dozen variants (one per transition and event
/// count), so it stays small.
pub(crate) struct Cached<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// `lower(orders.tracking_number COLLATE "C") = … AND lower(orders.carrier COLLATE "C") = …`:
/// the domain's `ParcelKey` rule (ASCII case folded, whatever the database's locale), in
/// the words of the `orders_by_parcel` index, so that the index serves it.
#[derive(Clone, Debug)]
pub(crate) struct ParcelMatch {
    /// Already folded, as `ParcelKey` holds it.
    pub tracking_number: String,
    /// Already folded.
    pub carrier: String,
}

impl Expression for ParcelMatch {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for ParcelMatch {}

impl SelectableExpression<crate::schema::orders::table> for ParcelMatch {}

impl ValidGrouping<()> for ParcelMatch {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for ParcelMatch {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for ParcelMatch {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("lower(\"orders\".\"tracking_number\" COLLATE \"C\") = ");
        out.push_bind_param::<Text, _>(&self.tracking_number)?;
        out.push_sql(" AND lower(\"orders\".\"carrier\" COLLATE \"C\") = ");
        out.push_bind_param::<Text, _>(&self.carrier)?;
        Ok(())
    }
}
