//! Statements sent together on one connection (pipelined): their results, or the error
//! that explains why they failed.
//!
//! Once a statement of a transaction fails, PostgreSQL answers every later one "current
//! transaction is aborted": an echo, whereas the first failure is the cause (a lock timeout
//! means busy, a unique violation means conflict). `try_join` reports whichever error it
//! polls first, which can be the echo — an internal error where the cause was a retryable
//! one. These helpers report the first failure *in the order the statements were sent*.

/// Awaits two statements sent together: both results, or the first failure in the order
/// they were sent.
pub(crate) async fn both<A, B, E>(
    first: impl std::future::Future<Output = Result<A, E>>,
    second: impl std::future::Future<Output = Result<B, E>>,
) -> Result<(A, B), E> {
    let (first, second) = futures_util::future::join(first, second).await;
    Ok((first?, second?))
}

/// [`both`] for any number of statements: all their results, or the first failure in the
/// order they were sent.
pub(crate) async fn all<T, E>(
    sent: impl IntoIterator<Item = impl std::future::Future<Output = Result<T, E>>>,
) -> Result<Vec<T>, E> {
    futures_util::future::join_all(sent)
        .await
        .into_iter()
        .collect()
}
