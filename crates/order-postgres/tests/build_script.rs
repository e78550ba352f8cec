//! The build script hashes the migrations of the checkout it is run for. Two checkouts
//! sharing one target directory share the script's compiled binary: a path fixed when it
//! was compiled would hash the other checkout's migrations (or panic if they are gone).

use std::path::{Path, PathBuf};
use std::process::Command;

/// This crate's compiled build script: the newest of the profile's `order-postgres-*`.
fn build_script() -> PathBuf {
    let test = std::env::current_exe().unwrap();
    // target/<profile>/deps/<this test> → target/<profile>/build
    let build = test.parent().unwrap().parent().unwrap().join("build");
    std::fs::read_dir(&build)
        .unwrap()
        .map(|entry| entry.unwrap().path().join("build-script-build"))
        .filter(|script| {
            script.exists()
                && script
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|name| name.to_string_lossy().starts_with("order-postgres-"))
        })
        .max_by_key(|script| script.metadata().unwrap().modified().unwrap())
        .expect("the build script was compiled with this test")
}

/// A checkout with one migration of `content`; what the script prints for it.
fn run_for_checkout(root: &Path, content: &str) -> String {
    let crate_dir = root.join("crates/order-postgres");
    let migration = root.join("migrations/2026-01-01-000000_first");
    std::fs::create_dir_all(&crate_dir).unwrap();
    std::fs::create_dir_all(&migration).unwrap();
    std::fs::write(migration.join("up.sql"), content).unwrap();
    let output = Command::new(build_script())
        .env("CARGO_MANIFEST_DIR", &crate_dir)
        .env("OUT_DIR", root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn hash(printed: &str) -> &str {
    printed
        .lines()
        .find_map(|line| line.strip_prefix("cargo:rustc-env=MIGRATIONS_HASH="))
        .unwrap()
}

#[test]
fn the_build_script_hashes_the_migrations_of_the_checkout_it_runs_for() {
    let scratch =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("build-script-{}", std::process::id()));
    let one = run_for_checkout(&scratch.join("one"), "CREATE TABLE a ();");
    let same = run_for_checkout(&scratch.join("two"), "CREATE TABLE a ();");
    let other = run_for_checkout(&scratch.join("three"), "CREATE TABLE b ();");
    std::fs::remove_dir_all(&scratch).unwrap();

    assert_eq!(
        hash(&one),
        hash(&same),
        "the same migrations, the same hash"
    );
    assert_ne!(hash(&one), hash(&other), "other migrations, another hash");
    assert!(
        one.contains(&format!(
            "cargo:rerun-if-changed={}",
            scratch
                .join("one/crates/order-postgres/../../migrations")
                .display()
        )),
        "{one}"
    );
}
