// Shared by the build scripts of the crates that link libtorch (`model-zoo`, `latency-cli`), which
// pull it in with `include!`. Cargo passes `rustc-link-arg` only to the artifacts of the package whose
// build script printed it, so every package that produces an executable linked to libtorch runs this.
//
// It does three things:
// 1. embeds an rpath to libtorch's folder, so binaries, tests and examples run without
//    `LD_LIBRARY_PATH`;
// 2. links `libtorch_cuda.so` with `--no-as-needed` where libtorch has it: no symbol of it is
//    referenced, so the default `--as-needed` would drop it and CUDA would be silently unavailable;
// 3. checks that the libtorch is the version tch expects, and exposes its folder, version and CUDA
//    flag to the crate as `BERT_LATENCY_LIBTORCH_{LIB,VERSION,CUDA}`.

/// The PyTorch release that tch 0.24 is generated against.
const EXPECTED_TORCH_VERSION: &str = "2.11.0";

fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH_BYPASS_VERSION_CHECK");
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        panic!(
            "torch-sys did not report its libtorch folder (DEP_TCH_LIBTORCH_LIB); \
             this crate must depend on torch-sys directly"
        );
    };
    let lib = std::path::PathBuf::from(lib);
    // The configured path usually goes through the checkout's `.libtorch` link; the rpath uses the
    // real folder so that binaries keep working when the checkout moves or is deleted.
    let lib = lib.canonicalize().unwrap_or(lib);
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let has_cuda = lib.join("libtorch_cuda.so").exists();

    if linux {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        if has_cuda {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg=-ltorch_cuda");
            println!("cargo:rustc-link-arg=-Wl,--as-needed");
        }
    }

    let version = libtorch_version(&lib);
    if let Some(version) = &version {
        let release = version.split('+').next().unwrap_or(version);
        if release != EXPECTED_TORCH_VERSION
            && std::env::var_os("LIBTORCH_BYPASS_VERSION_CHECK").is_none()
        {
            panic!(
                "libtorch at {} is version {version}, but tch 0.24 needs {EXPECTED_TORCH_VERSION}; \
                 run `cargo xtask bootstrap` (or point LIBTORCH at a {EXPECTED_TORCH_VERSION} install)",
                lib.display()
            );
        }
    }
    println!("cargo:rustc-env=BERT_LATENCY_LIBTORCH_LIB={}", lib.display());
    println!(
        "cargo:rustc-env=BERT_LATENCY_LIBTORCH_VERSION={}",
        version.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rustc-env=BERT_LATENCY_LIBTORCH_CUDA={}", u8::from(has_cuda));
}

/// The libtorch version: `torch/version.py` for a PyTorch wheel, `build-version` for a standalone
/// libtorch archive. `None` when neither file is there.
fn libtorch_version(lib: &std::path::Path) -> Option<String> {
    let root = lib.parent()?;
    println!("cargo:rerun-if-changed={}", root.join("version.py").display());
    println!("cargo:rerun-if-changed={}", root.join("build-version").display());
    libtorch_version_in(root)
}

include!("libtorch_version.rs");
