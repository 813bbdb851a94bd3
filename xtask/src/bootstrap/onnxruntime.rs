//! ONNX Runtime for `model_type: onnx`: the shared library of the `onnxruntime` wheel from PyPI
//! (CPU execution provider), installed once per user with `pip install --no-deps --target` into
//! `<cache>/onnxruntime-<version>/site-packages` (about 30 MB). The checkout's `.onnxruntime` link
//! points at the wheel's `onnxruntime/capi` folder, which `.cargo/config.toml` hands to model-zoo's
//! build script as `BERT_LATENCY_ONNXRUNTIME`: the binaries load `libonnxruntime.so.*` from there
//! at run time (the `ort` crate's `load-dynamic` mode), unless `ORT_DYLIB_PATH` names another.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::{pip_install_no_deps, point_link};

/// The ONNX Runtime release installed (its C API serves the older API version `ort` asks for).
pub const VERSION: &str = "1.32.0";

/// The library folder inside an install's `site-packages`.
const CAPI: &str = "onnxruntime/capi";

/// The shared library in `capi`, if there is one (`libonnxruntime.so.<version>`).
pub fn library_in(capi: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(capi)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    // The fully versioned name sorts last: libonnxruntime.so < .so.1 < .so.1.32.0.
    found.sort();
    found.pop()
}

fn check(site: &Path) -> Result<()> {
    match library_in(&site.join(CAPI)) {
        Some(_) => Ok(()),
        None => bail!("{} holds no libonnxruntime.so", site.join(CAPI).display()),
    }
}

/// Installs the wheel under `cache` unless it is there, and points `root/.onnxruntime` at its
/// library folder.
pub fn ensure(cache: &Path, root: &Path) -> Result<PathBuf> {
    let install = cache.join(format!("onnxruntime-{VERSION}"));
    let site = install.join("site-packages");
    if check(&site).is_ok() {
        eprintln!(
            "bootstrap: ONNX Runtime {VERSION} found at {}",
            site.display()
        );
    } else {
        eprintln!(
            "bootstrap: installing onnxruntime=={VERSION} (its shared library, about 30 MB, once \
             per user) into {}",
            site.display()
        );
        pip_install_no_deps(&install, &format!("onnxruntime=={VERSION}"), check)?;
    }
    let capi = site.join(CAPI);
    point_link(&root.join(".onnxruntime"), &capi)?;
    Ok(capi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versioned_library_is_chosen() {
        let dir = std::env::temp_dir().join(format!("xtask-ort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(library_in(&dir), None);
        for name in [
            "libonnxruntime.so.1",
            "libonnxruntime.so.1.32.0",
            "other.so",
        ] {
            std::fs::write(dir.join(name), "x").unwrap();
        }
        assert_eq!(library_in(&dir), Some(dir.join("libonnxruntime.so.1.32.0")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
