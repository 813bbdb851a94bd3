//! Integration tests of model-zoo, in one binary (each extra binary costs a libtorch link).

/// `model_type: aoti`: AOTInductor packages made by scripts/export_aoti.py against transformers.
mod aoti;
/// Checkpoint loading: name reports, aliases, bad files.
mod checkpoint;
/// ModernBERT config.json files (transformers-v5 keys, legacy nulls) against transformers.
mod configs;
/// scripts/composer_to_safetensors.py on Composer and flat checkpoints.
mod converter;
/// Input generator: length distributions, bad arguments, real text.
mod inputs;
/// `model_type: onnx` through ONNX Runtime against transformers.
mod onnx;
/// Outputs against reference outputs of transformers and the plain-PyTorch references.
mod parity;
/// Built-in presets against published parameter counts.
mod presets;
/// all-MiniLM-L6-v2 from its PyPI package: outputs and token counts against Python.
mod published;
/// `model_type: torchscript` against PyTorch.
mod torchscript;
/// The unpadded and banded path against the padded one.
mod unpadded;

use std::path::PathBuf;

/// The `forward` example, which `cargo test` builds beside the test binaries.
pub fn forward_example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join("examples/forward");
    assert!(
        path.exists(),
        "{} is missing; run the tests with `cargo test`",
        path.display()
    );
    path
}

/// A file under `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A fresh temporary folder, unique to each call (tests run in parallel).
pub fn temp_dir(test: &str) -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("model-zoo-it-{test}-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
