//! Names the schema: a hash of `migrations/`, so that the test databases' template is
//! rebuilt whenever a migration changes (`MIGRATIONS_HASH`).
//!
//! `tests/build_script.rs` runs this script's binary for another checkout.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

fn hash_dir(dir: &Path, hasher: &mut DefaultHasher) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the migrations directory is readable")
        .map(|entry| entry.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        path.file_name().hash(hasher);
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else {
            std::fs::read(&path)
                .expect("a readable migration")
                .hash(hasher);
        }
    }
}

fn main() {
    // Read when the script runs, not when it is compiled: two checkouts sharing one target
    // directory share this script's binary, and each must hash its own migrations.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let migrations = Path::new(&manifest_dir).join("../../migrations");
    println!("cargo:rerun-if-changed={}", migrations.display());
    let mut hasher = DefaultHasher::new();
    hash_dir(&migrations, &mut hasher);
    println!("cargo:rustc-env=MIGRATIONS_HASH={:016x}", hasher.finish());
}
