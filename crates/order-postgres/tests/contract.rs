//! The store ports' contract, on PostgreSQL: a fresh database a case.

use order_postgres::test_db::TestDatabase;
use order_postgres::PgStore;

order_store_contract::store_contract!({
    let db = TestDatabase::new();
    (PgStore::new(db.pool()), db)
});
