//! The config file of `latency-analysis` (`crates/latency-cli/src/config.rs`, a binary crate, so
//! its few lines are replicated here): YAML through serde-saphyr into a `models:` list of
//! `model_zoo::ModelEntry`, then each entry's architecture (presets, `model_config` overrides,
//! validation, FlexBERT/ModernBERT resolution) and task. `checkpoint_file()` is left out: it
//! only looks at the file system.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model_zoo::ModelEntry;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[allow(dead_code)]
    models: Vec<ModelEntry>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = serde_saphyr::from_str::<ConfigFile>(text) else {
        return;
    };
    for entry in &file.models {
        // Errors are fine (they are reported to the user); panics, hangs and huge allocations
        // are not.
        let _ = entry.architecture();
        let _ = entry.task();
    }
});
