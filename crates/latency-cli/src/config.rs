//! Reading the config file: a YAML `models:` list in the Python tool's format, checked entry by
//! entry before anything runs.

use std::path::Path;

use anyhow::{Context, Result, bail};
use model_zoo::ModelEntry;
use serde::Deserialize;

/// The built-in default config, used when `--config-file` does not exist (as the Python tool did).
pub const DEFAULT_CONFIG: &str = include_str!("../../../configs/latency_config.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    models: Vec<ModelEntry>,
}

/// The text of `path`, or of the built-in default when it does not exist; the flag says which.
///
/// # Errors
/// The file exists but cannot be read.
pub fn text(path: &Path) -> Result<(String, bool)> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        Ok((text, false))
    } else {
        Ok((DEFAULT_CONFIG.to_owned(), true))
    }
}

/// The entries of `path`, or of the built-in default when it does not exist; the flag says which.
///
/// # Errors
/// A YAML error with its line and column, an empty list, duplicate names, or the first entry whose
/// keys do not make an architecture (named by position and name).
pub fn load(path: &Path) -> Result<(Vec<ModelEntry>, bool)> {
    let (text, builtin) = text(path)?;
    let shown = if builtin {
        "built-in default config".to_owned()
    } else {
        path.display().to_string()
    };
    let file: ConfigFile =
        serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("config {shown}: {e}"))?;
    if file.models.is_empty() {
        bail!("config {shown}: the models list is empty");
    }
    for (index, entry) in file.models.iter().enumerate() {
        let label = format!("config {shown}: entry {} ('{}')", index + 1, entry.name);
        if file.models[..index].iter().any(|e| e.name == entry.name) {
            bail!("{label}: the name is used by an earlier entry");
        }
        entry.architecture().with_context(|| label.clone())?;
        entry.task().with_context(|| label.clone())?;
        entry
            .checkpoint_file()
            .with_context(|| format!("{label}: pretrained_checkpoint"))?;
    }
    Ok((file.models, builtin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_default_is_valid() {
        let (entries, builtin) = load(Path::new("/nonexistent/latency_config.yaml")).unwrap();
        assert!(builtin);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["modernbert-base", "mosaic-bert-base", "bert-base"]);
    }
}
