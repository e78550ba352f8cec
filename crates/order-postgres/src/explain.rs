//! `EXPLAIN` of a diesel query with its binds, so that a test reads the plan of the very
//! query a method runs rather than of a copy of its text.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::QueryResult;
use diesel_async::RunQueryDsl;
use order_ports::StoreError;

use crate::error::store_error;

/// The query `Q`, explained: one row of text per line of the plan.
pub(crate) struct Explain<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN (COSTS OFF) ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl crate::PgUnitOfWork {
    /// The plan of `query`, as `EXPLAIN` prints it with sequential scans priced out for this
    /// transaction: on a table of any size, whether an index can serve the query at all.
    pub(crate) async fn plan_of<Q>(&mut self, query: Q) -> Result<String, StoreError>
    where
        Q: QueryFragment<Pg> + Send + 'static,
    {
        diesel::sql_query("SET LOCAL enable_seqscan = off")
            .execute(self.conn()?)
            .await
            .map_err(store_error)?;
        let lines: Vec<String> = Explain(query)
            .load(self.conn()?)
            .await
            .map_err(store_error)?;
        Ok(lines.join("\n"))
    }
}
