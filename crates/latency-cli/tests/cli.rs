//! Runs the real `latency-analysis` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_latency-analysis"))
}

/// The entries of the binary's dynamic section marked NEEDED, read with `readelf -d`.
fn needed_libraries(binary: &Path) -> Vec<String> {
    let output = Command::new("readelf")
        .args(["-d", "--wide"])
        .arg(binary)
        .output()
        .expect("readelf (binutils) must be installed to check the linkage");
    assert!(
        output.status.success(),
        "readelf failed on {}",
        binary.display()
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| Some(line.split('[').nth(1)?.trim_end_matches(']').to_owned()))
        .collect()
}

fn assert_links_libtorch_cuda(binary: &Path) {
    let needed = needed_libraries(binary);
    assert!(
        needed.iter().any(|lib| lib == "libtorch_cuda.so"),
        "{} does not list libtorch_cuda.so as NEEDED (so CUDA would be unavailable): {needed:?}",
        binary.display()
    );
}

/// libtorch here is the CUDA wheel, so every binary must keep libtorch_cuda.so despite
/// `--as-needed` (see build-support/libtorch_link.rs).
#[test]
fn binaries_link_libtorch_cuda() {
    let cuda_build = option_env!("BERT_LATENCY_LIBTORCH_CUDA") == Some("1");
    assert!(
        cuda_build,
        "this test expects the CUDA libtorch that `cargo xtask bootstrap` installs"
    );
    assert_links_libtorch_cuda(&binary());

    // The release binary sits beside the debug one: target/{debug,release}/latency-analysis.
    let release = binary()
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("release").join("latency-analysis"))
        .unwrap();
    if release.exists() {
        assert_links_libtorch_cuda(&release);
    } else if std::env::var_os("BERT_LATENCY_REQUIRE_RELEASE_BINARY").is_some() {
        panic!(
            "{} is missing: build it with `cargo build --release -p latency-cli`",
            release.display()
        );
    } else {
        eprintln!(
            "note: {} not built; only the debug binary was checked",
            release.display()
        );
    }
}

#[test]
fn runs_libtorch_without_ld_library_path() {
    let output = Command::new(binary())
        .env_remove("LD_LIBRARY_PATH")
        .args([
            "--device",
            "cpu",
            "--batch-size",
            "1",
            "--sequence-length",
            "16",
        ])
        .args([
            "--warmup-batches",
            "1",
            "--measure-batches",
            "3",
            "--threads",
            "1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("libtorch 2.11.0"), "{stdout}");
    assert!(
        stdout.contains("device: cpu; intra-op threads: 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("matmul [16, 768] x [768, 768] fp32, 1 warm-up + 3 measured"),
        "{stdout}"
    );
}

#[test]
fn cuda_without_a_gpu_is_a_clear_error() {
    if !Path::new("/dev/nvidia0").exists() {
        let output = Command::new(binary())
            .args(["--device", "cuda"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("device 'cuda' requested, but libtorch sees no CUDA device"),
            "{stderr}"
        );
    }
    let output = Command::new(binary())
        .args(["--device", "tpu"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown device 'tpu'"));
}

#[test]
fn help_lists_every_python_flag() {
    let output = Command::new(binary()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--config-file",
        "--output-file",
        "--batch-size",
        "--sequence-length",
        "--num-samples",
        "--warmup-batches",
        "--measure-batches",
        "--device",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}
