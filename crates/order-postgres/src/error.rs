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
        ref lost if connection_lost(lost) => StoreError::Unavailable(lost.to_string()),
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

/// Whether `error` says the connection itself is gone (the server restarted, or ended the
/// session), rather than anything about the statement: the statement never ran, or its
/// transaction is lost with the connection.
pub(crate) fn connection_lost(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        // SQLSTATE class 57P: admin_shutdown, crash_shutdown, cannot_connect_now. Diesel
        // keeps the message, not the code.
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.starts_with("terminating connection")
                || message.contains("the database system is shutting down")
                || message.contains("the database system is starting up")
        }
        _ => false,
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
