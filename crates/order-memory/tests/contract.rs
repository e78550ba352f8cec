//! The store ports' contract, on the in-memory store.

order_store_contract::store_contract!((order_memory::MemoryStore::new(), ()));
