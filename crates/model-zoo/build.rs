//! Links libtorch for this crate's tests and examples (see `build-support/libtorch_link.rs`),
//! compiles the C++ shim for AOTInductor packages (`csrc/aoti.cpp`, always), and the one for CUDA
//! allocator statistics (`csrc/cuda_memory.cpp`) where libtorch has CUDA.

use std::path::{Path, PathBuf};

include!("../../build-support/libtorch_link.rs");

fn main() {
    println!("cargo:rustc-check-cfg=cfg(cuda_shim)");
    println!("cargo:rustc-check-cfg=cfg(aoti_shim)");
    link_libtorch();
    if let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        let lib = PathBuf::from(lib);
        build_aoti_shim(&lib);
        build_cuda_shim(&lib);
    }
}

/// Compiles `csrc/aoti.cpp` (`model_type: aoti`) against libtorch's own headers, with libtorch's
/// C++ ABI, and sets `cfg(aoti_shim)`; `torch::inductor::AOTIModelPackageLoader` is exported by
/// `libtorch_cpu.so`, CPU and CUDA builds alike. Without the loader's header (a libtorch without
/// its C++ headers) the crate refuses `aoti` entries with an error saying so.
fn build_aoti_shim(lib: &Path) {
    let lib = &lib.canonicalize().unwrap_or_else(|_| lib.to_owned());
    println!("cargo:rerun-if-changed=csrc/aoti.cpp");
    let Some(include) = lib.parent().map(|root| root.join("include")) else {
        return;
    };
    let header = include.join("torch/csrc/inductor/aoti_package/model_package_loader.h");
    if !header.exists() {
        println!(
            "cargo:warning=libtorch at {} has no {}: `model_type: aoti` will be refused (the PyPI \
             torch wheel that `cargo xtask bootstrap` installs has the header)",
            lib.display(),
            header.display()
        );
        return;
    }
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file("csrc/aoti.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .warnings(false)
        .compile("bert_latency_aoti_shim");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    // dladdr/dlopen (in libc since glibc 2.34, in libdl before).
    println!("cargo:rustc-link-lib=dylib=dl");
    println!("cargo:rustc-cfg=aoti_shim");
}

/// Compiles the shim against libtorch's own headers when `libc10_cuda.so` is there, and sets
/// `cfg(cuda_shim)`; otherwise the crate reports CUDA allocator memory as unavailable.
fn build_cuda_shim(lib: &Path) {
    // The configured path may go through the checkout's `.libtorch` link; the NVIDIA wheels sit
    // beside the real folder.
    let lib = &lib.canonicalize().unwrap_or_else(|_| lib.to_owned());
    println!("cargo:rerun-if-changed=csrc/cuda_memory.cpp");
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    if !lib.join("libc10_cuda.so").exists() {
        return;
    }
    let Some(torch_include) = lib.parent().map(|root| root.join("include")) else {
        return;
    };
    let (Some(runtime), Some(crt)) = (
        header_dir(lib, "cuda_runtime_api.h"),
        header_dir(lib, "crt/host_config.h"),
    ) else {
        println!(
            "cargo:warning=libtorch at {} has CUDA but the CUDA runtime headers (cuda_runtime_api.h, \
             crt/host_config.h) were not found; run `cargo xtask bootstrap` or set CUDA_HOME. \
             CUDA allocator memory will not be reported",
            lib.display()
        );
        return;
    };
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file("csrc/cuda_memory.cpp")
        .include(&torch_include)
        .include(&runtime)
        .include(&crt)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .warnings(false)
        .compile("bert_latency_cuda_shim");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=c10_cuda");
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-cfg=cuda_shim");
}

/// The first include folder holding `header`: the NVIDIA wheels beside a PyPI torch
/// (`<site-packages>/nvidia/*/include`), the headers `cargo xtask bootstrap` adds beside them
/// (`<install>/cuda-headers/nvidia/*/include`), then `$CUDA_HOME/include`, then
/// `/usr/local/cuda/include`.
fn header_dir(lib: &Path, header: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    // lib = <install>/site-packages/torch/lib
    let site = lib.parent().and_then(Path::parent);
    let roots = [
        site.map(|s| s.join("nvidia")),
        site.and_then(Path::parent)
            .map(|install| install.join("cuda-headers/nvidia")),
    ];
    for root in roots.into_iter().flatten() {
        if let Ok(entries) = std::fs::read_dir(&root) {
            let mut dirs: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path().join("include"))
                .collect();
            dirs.sort();
            candidates.extend(dirs);
        }
    }
    if let Some(home) = std::env::var_os("CUDA_HOME") {
        candidates.push(PathBuf::from(home).join("include"));
    }
    candidates.push(PathBuf::from("/usr/local/cuda/include"));
    candidates.into_iter().find(|dir| dir.join(header).exists())
}
