//! Shared by the targets whose library entry point reads a file: the fuzz input is written to a
//! file of this process (in the temp folder, removed at exit by nobody: it is overwritten each run).

use std::path::PathBuf;

/// Writes `data` to `<tmp>/bert-latency-fuzz-<pid>-<name>` and returns the path.
pub fn write_temp(name: &str, data: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "bert-latency-fuzz-{}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, data).expect("writing the fuzz input to a temp file");
    path
}
