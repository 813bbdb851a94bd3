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
    exec(
        cargo(root)
            .args(["test", "--workspace"])
            .env("BERT_LATENCY_REQUIRE_RELEASE_BINARY", "1"),
    )?;
    // The cluster scenario of docs/cluster.md, on a real one-node Slurm.
    slurm_test::run(root)
}
