//! A unit of work dropped without committing is rolled back.

use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, TransactionManager};

use super::PgUnitOfWork;

impl Drop for PgUnitOfWork {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        // Rolling back needs a round trip, which Drop cannot await; without a runtime the
        // pool sees the open transaction as a broken connection and discards it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) =
                    AnsiTransactionManager::rollback_transaction(&mut *connection).await
                {
                    tracing::warn!(%error, "rollback failed; dropping the connection");
                    let _ = Object::take(connection);
                }
            });
        }
    }
}
