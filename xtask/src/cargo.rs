//! Running cargo and other programs from a task, with the command echoed first.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A `cargo` command in the workspace root, using the cargo that runs this xtask.
pub fn cargo(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root);
    command
}

/// Builds the two binaries, `latency-analysis` and `analyze-latency`, in release mode.
pub fn build_release_binaries(root: &Path) -> Result<()> {
    exec(cargo(root).args([
        "build",
        "--release",
        "-p",
        "latency-cli",
        "-p",
        "analyze-cli",
    ]))
}

/// Runs `command`, echoing it first, and fails if it does not exit with success.
pub fn exec(command: &mut Command) -> Result<()> {
    let shown = show(command);
    eprintln!("$ {shown}");
    let status = command
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// cargo's target directory for this workspace (honours CARGO_TARGET_DIR and config files).
pub fn target_dir(root: &Path) -> Result<PathBuf> {
    let output = cargo(root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("could not run `cargo metadata`")?;
    if !output.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let json = String::from_utf8_lossy(&output.stdout);
    // One string field is all this needs; a JSON parser would be the xtask's largest dependency.
    let key = "\"target_directory\":\"";
    let start = json
        .find(key)
        .map(|i| i + key.len())
        .context("`cargo metadata` printed no target_directory")?;
    let end = json[start..]
        .find('"')
        .map(|i| start + i)
        .context("`cargo metadata` printed a truncated target_directory")?;
    Ok(PathBuf::from(json[start..end].replace("\\\\", "\\")))
}

fn show(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
