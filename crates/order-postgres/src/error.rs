//! Database failures as the ports name them: the one place that decides which failure is
//! the caller's conflict, which is a passing outage and which is a bug.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use order_ports::StoreError;

pub(crate) fn store_error(error: DieselError) -> StoreError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(info.constraint_name().unwrap_or("unique").to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => StoreError::Stale,
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        // Lock and statement timeouts (set on every connection) mean "busy, try again".
        DieselError::DatabaseError(_, info) if info.message().contains("canceling statement") => {
            StoreError::Unavailable(info.message().to_owned())
        }
        DieselError::BrokenTransactionManager => {
            StoreError::Unavailable("the connection's transaction is broken".into())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

pub(crate) fn pool_error(
    error: diesel_async::pooled_connection::deadpool::PoolError,
) -> StoreError {
    StoreError::Unavailable(format!("no database connection: {error}"))
}

/// A stored value the domain refuses: the row was not written by this service's rules.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("corrupt {what} in the database: {detail}"))
}
