//! `cargo xtask test`: the whole test suite, as CI runs it.

use std::path::Path;

use anyhow::Result;

use crate::cargo::{cargo, exec};
use crate::{bootstrap, slurm_test};

/// Runs bootstrap, the format check, clippy, the release build, the tests and the Slurm scenario,
/// stopping at the first failure.
pub fn run(root: &Path) -> Result<()> {
    bootstrap::ensure(root)?;
    exec(cargo(root).args(["fmt", "--all", "--", "--check"]))?;
    exec(cargo(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The linkage test inspects the release binary, so build it before testing.
    exec(cargo(root).args(["build", "--release", "-p", "latency-cli"]))?;
    // Property tests explore a new seed each run, said in the log so a failure can be replayed
    // (PROPTEST_RNG_SEED=N cargo test); a seed already in the environment is kept.
    let seed = std::env::var("PROPTEST_RNG_SEED").unwrap_or_else(|_| proptest_seed().to_string());
    eprintln!("xtask test: PROPTEST_RNG_SEED={seed} (set it to replay these property tests)");
    exec(
        cargo(root)
            .args(["test", "--workspace"])
            .env("BERT_LATENCY_REQUIRE_RELEASE_BINARY", "1")
            .env("PROPTEST_RNG_SEED", &seed),
    )?;
    // The cluster scenario of docs/cluster.md, on a real one-node Slurm.
    slurm_test::run(root)
}

/// A fresh seed for the property tests: std's per-process random hasher keys.
fn proptest_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}
