// The version of a libtorch install, read one way for the build scripts (through
// `libtorch_link.rs`) and for `cargo xtask bootstrap` (as a module): `version.py` of a PyTorch
// wheel's `torch` folder, or `build-version` of a standalone libtorch archive.

/// The version stated in `root` (a wheel's `torch` folder or a libtorch archive's root), e.g.
/// `2.11.0+cu130`; `None` when neither file is there or readable.
#[allow(dead_code)]
pub fn libtorch_version_in(root: &std::path::Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        let line = text.lines().find(|l| l.starts_with("__version__"))?;
        let value = line.split('=').nth(1)?.trim();
        return Some(value.trim_matches(|c| c == '\'' || c == '"').to_owned());
    }
    let text = std::fs::read_to_string(root.join("build-version")).ok()?;
    Some(text.trim().to_owned())
}
