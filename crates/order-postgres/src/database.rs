//! Databases made from nothing: the demo's, the bench's and the tests' templates start
//! from an empty database of a known name.

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

/// Drops the database `name` — ending its sessions — and creates it again, empty. `admin`
/// is connected to another database of the same server. Each statement runs on its own:
/// neither may run inside a transaction block. The error names the statement that failed.
pub async fn recreate_database(admin: &mut AsyncPgConnection, name: &str) -> Result<(), String> {
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .map_err(|e| format!("{statement}: {e}"))?;
    }
    Ok(())
}
