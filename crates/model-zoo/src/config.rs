//! `ModelEntry`: one model of a config file, and how its keys become an architecture.
//!
//! `pretrained_model_name` picks the base architecture (a built-in preset, or a local directory
//! holding a HuggingFace `config.json`); `model_config` overrides keys on top, strictly checked;
//! `pretrained_checkpoint` supplies weights (random, seeded, otherwise).

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::models::Task;
use crate::models::bert::BertConfig;
use crate::models::flex_bert::{FlexBertConfig, FlexSpec, NormKwargs};
use crate::models::modern_bert::{ModernBertConfig, global_every_n, normalize_config_json};
use crate::models::mosaic_bert::MosaicBertConfig;
use crate::presets::{PRESET_NAMES, preset};

/// The architectures a config entry can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    /// FlexBERT, its training names and knobs.
    FlexBert,
    /// HuggingFace ModernBERT.
    ModernBert,
    /// MosaicBERT.
    MosaicBert,
    /// Classic HuggingFace BERT.
    HfBert,
    /// Any TorchScript module whose forward takes `(input_ids, attention_mask)`; the file is
    /// `pretrained_checkpoint`.
    #[serde(rename = "torchscript")]
    TorchScript,
    /// An AOTInductor package (`.pt2`, from `torch._inductor.aoti_compile_and_package`, e.g.
    /// `scripts/export_aoti.py`) taking `(input_ids, attention_mask)`; the file is
    /// `pretrained_checkpoint`.
    Aoti,
    /// An ONNX model (`.onnx`, e.g. from `scripts/export_onnx.py`) run by ONNX Runtime, with inputs
    /// `input_ids` and `attention_mask`; the file is `pretrained_checkpoint`.
    Onnx,
}

impl ModelType {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FlexBert => "flex_bert",
            Self::ModernBert => "modern_bert",
            Self::MosaicBert => "mosaic_bert",
            Self::HfBert => "hf_bert",
            Self::TorchScript => "torchscript",
            Self::Aoti => "aoti",
            Self::Onnx => "onnx",
        }
    }

    /// Whether the model comes whole from a file another tool made (TorchScript, AOTInductor,
    /// ONNX) rather than being built from an architecture.
    pub fn is_external(self) -> bool {
        matches!(self, Self::TorchScript | Self::Aoti | Self::Onnx)
    }

    /// What an external model's file is, for messages: e.g. "the TorchScript file (.pt)".
    fn file_kind(self) -> &'static str {
        match self {
            Self::Aoti => "the AOTInductor package (.pt2, from scripts/export_aoti.py)",
            Self::Onnx => "the ONNX model (.onnx, from scripts/export_onnx.py)",
            _ => "the TorchScript file (.pt, from torch.jit.trace or torch.jit.script)",
        }
    }

    /// The base architecture used when an entry names none.
    pub fn default_pretrained_name(self) -> &'static str {
        match self {
            Self::FlexBert | Self::HfBert => "bert-base-uncased",
            Self::ModernBert => "answerdotai/ModernBERT-base",
            Self::MosaicBert => "mosaic-bert-base",
            Self::TorchScript | Self::Aoti | Self::Onnx => "",
        }
    }
}

/// What the model outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    /// Logits `[B, num_labels]`.
    Classification,
    /// Logits `[B, S, V]`.
    Mlm,
    /// Last hidden state `[B, S, H]`.
    Embedding,
}

fn default_num_labels() -> i64 {
    2
}

fn default_task() -> TaskType {
    TaskType::Classification
}

/// One entry of a config file's `models:` list (the Python tool's keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Display name; also the results' `model_name`.
    pub name: String,
    /// The architecture.
    pub model_type: ModelType,
    /// The output; `classification` by default.
    #[serde(default = "default_task")]
    pub task_type: TaskType,
    /// A built-in preset or a directory with a HuggingFace `config.json`; see
    /// [`ModelType::default_pretrained_name`] for the default.
    #[serde(default)]
    pub pretrained_model_name: Option<String>,
    /// A `.safetensors` file, or a directory holding `model.safetensors`.
    #[serde(default)]
    pub pretrained_checkpoint: Option<PathBuf>,
    /// Labels of the classification head; 2 by default.
    #[serde(default = "default_num_labels")]
    pub num_labels: i64,
    /// Architecture keys overriding the base, checked against the architecture's keys.
    #[serde(default)]
    pub model_config: Map<String, Value>,
}

/// A resolved architecture, ready to build.
#[derive(Debug, Clone, PartialEq)]
pub enum Architecture {
    /// BERT.
    Bert(BertConfig),
    /// MosaicBERT.
    Mosaic(MosaicBertConfig),
    /// FlexBERT or ModernBERT.
    Flex(FlexSpec),
    /// A model from another tool's file (TorchScript, AOTInductor, ONNX): only the vocabulary
    /// its inputs are drawn from is known.
    External {
        /// Which kind of file: [`ModelType::TorchScript`], [`ModelType::Aoti`] or
        /// [`ModelType::Onnx`].
        format: ModelType,
        /// Token ids are drawn below this (`model_config: {vocab_size: N}`, default 30522).
        vocab: i64,
    },
}

/// The vocabulary assumed for an external model when `model_config` names none (BERT's).
pub const TORCHSCRIPT_DEFAULT_VOCAB: i64 = 30522;

impl ModelEntry {
    /// The task with its label count.
    ///
    /// # Errors
    /// [`Error::Config`] when `num_labels` is below 1.
    pub fn task(&self) -> Result<Task> {
        Ok(match self.task_type {
            TaskType::Classification => {
                if self.num_labels < 1 {
                    return Err(Error::Config(format!(
                        "num_labels: {} must be at least 1",
                        self.num_labels
                    )));
                }
                Task::Classification {
                    num_labels: self.num_labels,
                }
            }
            TaskType::Mlm => Task::Mlm,
            TaskType::Embedding => Task::Embedding,
        })
    }

    /// The base `config.json` this entry names.
    ///
    /// # Errors
    /// [`Error::Config`] for a name that is neither a preset nor a directory with a readable
    /// `config.json`.
    pub fn base_config(&self) -> Result<Map<String, Value>> {
        let name = self
            .pretrained_model_name
            .as_deref()
            .unwrap_or(self.model_type.default_pretrained_name());
        let value = if let Some(value) = preset(name) {
            value
        } else {
            let path = PathBuf::from(name).join("config.json");
            if !path.is_file() {
                return Err(Error::Config(format!(
                    "pretrained_model_name: '{name}' is neither a built-in preset ({}) nor a directory holding config.json \
                     (models are never downloaded)",
                    PRESET_NAMES.join(", ")
                )));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::Config(format!(
                    "pretrained_model_name: reading {}: {e}",
                    path.display()
                ))
            })?;
            serde_json::from_str(&text).map_err(|e| {
                Error::Config(format!(
                    "pretrained_model_name: {} is not valid JSON: {e}",
                    path.display()
                ))
            })?
        };
        match value {
            Value::Object(map) => Ok(map),
            _ => Err(Error::Config(format!(
                "pretrained_model_name: the config of '{name}' is not a JSON object"
            ))),
        }
    }

    /// Resolves the architecture: base config, then `model_config` overrides, then checks.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key at fault.
    pub fn architecture(&self) -> Result<Architecture> {
        if self.model_type.is_external() {
            return self.external();
        }
        let mut base = self.base_config()?;
        let family = base
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mismatch = || {
            Error::Config(format!(
                "pretrained_model_name: model_type '{}' cannot be built from a '{family}' config",
                self.model_type.as_str()
            ))
        };
        match self.model_type {
            ModelType::TorchScript | ModelType::Aoti | ModelType::Onnx => {
                unreachable!("returned above")
            }
            ModelType::HfBert => {
                if family != "bert" {
                    return Err(mismatch());
                }
                let config: BertConfig = lenient(base)?;
                let config = apply_overrides(&config, &self.model_config, "hf_bert")?;
                config.validate()?;
                Ok(Architecture::Bert(config))
            }
            ModelType::MosaicBert => {
                if family == "bert" {
                    // Upstream builds MosaicBERT's config from the BERT config.json as it is
                    // (its norms read layer_norm_eps from it), with the vocabulary padded to 8.
                    round_vocab(&mut base);
                } else if family != "mosaic_bert" {
                    return Err(mismatch());
                }
                let config: MosaicBertConfig = lenient(base)?;
                let config = apply_overrides(&config, &self.model_config, "mosaic_bert")?;
                config.validate()?;
                Ok(Architecture::Mosaic(config))
            }
            ModelType::ModernBert => {
                if family != "modernbert" {
                    return Err(mismatch());
                }
                normalize_config_json(&mut base)?;
                let has_layer_types = base.get("layer_types").is_some_and(|v| !v.is_null());
                if has_layer_types
                    && self.model_config.contains_key("global_attn_every_n_layers")
                    && !self.model_config.contains_key("layer_types")
                {
                    return Err(Error::Config(
                        "model_config.global_attn_every_n_layers: the base config's layer_types \
                         decides which layers are global (transformers ignores \
                         global_attn_every_n_layers then); override layer_types instead"
                            .to_owned(),
                    ));
                }
                let config: ModernBertConfig = lenient(base)?;
                let config = apply_overrides(&config, &self.model_config, "modern_bert")?;
                Ok(Architecture::Flex(config.resolve()?))
            }
            ModelType::FlexBert => {
                let config = flex_base(&family, base).ok_or_else(mismatch)??;
                let config = apply_overrides(&config, &self.model_config, "flex_bert")?;
                Ok(Architecture::Flex(config.resolve()?))
            }
        }
    }
}

impl ModelEntry {
    /// The checkpoint file the entry loads, checked to exist: a safetensors file (or a directory
    /// holding `model.safetensors`), or for `torchscript` the TorchScript file. `None` for random
    /// weights. A safetensors file's header is read and checked ([`crate::checkpoint::check_file`]),
    /// and a Git LFS pointer is refused either way, so that broken downloads fail here, before
    /// any model is built.
    ///
    /// # Errors
    /// [`Error::CheckpointFile`] naming the path and what is wrong.
    pub fn checkpoint_file(&self) -> Result<Option<PathBuf>> {
        let Some(path) = &self.pretrained_checkpoint else {
            return Ok(None);
        };
        if !self.model_type.is_external() {
            return crate::checkpoint::resolve(path).map(Some);
        }
        if path.is_file() {
            crate::checkpoint::check_not_lfs_pointer(path)?;
            Ok(Some(path.clone()))
        } else {
            Err(Error::CheckpointFile {
                path: path.clone(),
                message: format!(
                    "does not exist or is not a file (a {} entry needs {})",
                    self.model_type.as_str(),
                    self.model_type.file_kind()
                ),
            })
        }
    }

    /// An external entry (`torchscript`, `aoti`, `onnx`): a checkpoint file is required, no
    /// `pretrained_model_name`, and `model_config` may hold `vocab_size` only.
    fn external(&self) -> Result<Architecture> {
        let kind = self.model_type.as_str();
        if self.pretrained_checkpoint.is_none() {
            return Err(Error::Config(format!(
                "pretrained_checkpoint: a {kind} entry needs {}",
                self.model_type.file_kind()
            )));
        }
        if self.pretrained_model_name.is_some() {
            return Err(Error::Config(format!(
                "pretrained_model_name: a {kind} entry takes its architecture from the file; \
                 remove this key"
            )));
        }
        let mut vocab = TORCHSCRIPT_DEFAULT_VOCAB;
        for (key, value) in &self.model_config {
            match (key.as_str(), value.as_i64()) {
                ("vocab_size", Some(n)) if n >= 4 => vocab = n,
                ("vocab_size", _) => {
                    return Err(Error::Config(format!(
                        "model_config.vocab_size: {value} is not a whole number >= 4"
                    )));
                }
                _ => {
                    return Err(Error::Config(format!(
                        "model_config.{key}: unknown key for {kind}; valid keys: vocab_size"
                    )));
                }
            }
        }
        Ok(Architecture::External {
            format: self.model_type,
            vocab,
        })
    }
}

fn round_vocab(config: &mut Map<String, Value>) {
    if let Some(vocab) = config.get("vocab_size").and_then(Value::as_i64) {
        config.insert("vocab_size".into(), Value::from((vocab + 7) / 8 * 8));
    }
}

/// FlexBERT from another family's config: BERT sizes with FlexBERT's defaults; ModernBERT as the
/// released FlexBERT configuration (models.md §1.8) with the config's sizes.
fn flex_base(family: &str, mut base: Map<String, Value>) -> Option<Result<FlexBertConfig>> {
    let mut config = FlexBertConfig::default();
    let int = |base: &Map<String, Value>, key: &str, default: i64| {
        base.get(key).and_then(Value::as_i64).unwrap_or(default)
    };
    let float = |base: &Map<String, Value>, key: &str, default: f64| {
        base.get(key).and_then(Value::as_f64).unwrap_or(default)
    };
    if family != "flex_bert" {
        // The keys read below must not be null (see `lenient`).
        for key in [
            "vocab_size",
            "max_position_embeddings",
            "hidden_act",
            "hidden_activation",
            "norm_eps",
            "global_rope_theta",
            "local_rope_theta",
            "local_attention",
            "global_attn_every_n_layers",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
        ] {
            if base.get(key).is_some_and(Value::is_null) {
                let expected = if key.ends_with("act") || key.ends_with("activation") {
                    "a string"
                } else {
                    "a number"
                };
                return Some(Err(Error::Config(null_message(
                    key,
                    expected,
                    "of flex_bert",
                ))));
            }
        }
    }
    match family {
        "flex_bert" => return Some(lenient(base)),
        "bert" | "mosaic_bert" => {
            round_vocab(&mut base);
            config.vocab_size = int(&base, "vocab_size", config.vocab_size);
            config.max_position_embeddings = int(
                &base,
                "max_position_embeddings",
                config.max_position_embeddings,
            );
            if let Some(act) = base.get("hidden_act").and_then(Value::as_str) {
                config.hidden_act = act.to_owned();
            }
        }
        "modernbert" => {
            if let Err(e) = normalize_config_json(&mut base) {
                return Some(Err(e));
            }
            if let Some(Value::Array(types)) = base.remove("layer_types") {
                let types: Vec<String> = types
                    .iter()
                    .map(|t| t.as_str().unwrap_or("").to_owned())
                    .collect();
                match global_every_n(&types) {
                    Some(n) => {
                        base.insert("global_attn_every_n_layers".into(), Value::from(n));
                    }
                    None => {
                        return Some(Err(Error::Config(
                            "layer_types: flex_bert supports only 'global every n layers' \
                             patterns (layer i global when i % n == 0); use model_type \
                             modern_bert for this one"
                                .into(),
                        )));
                    }
                }
            }
            config.vocab_size = int(&base, "vocab_size", 50368);
            config.max_position_embeddings = int(&base, "max_position_embeddings", 8192);
            config.embedding_layer = "sans_pos".into();
            config.normalization = "layernorm".into();
            config.norm_kwargs = NormKwargs {
                eps: Some(float(&base, "norm_eps", 1e-5)),
                bias: Some(false),
            };
            config.attention_layer = "rope".into();
            config.rotary_emb_base = float(&base, "global_rope_theta", 160_000.0);
            config.local_attn_rotary_emb_base = float(&base, "local_rope_theta", 10_000.0);
            config.sliding_window = int(&base, "local_attention", 128);
            config.global_attn_every_n_layers = int(&base, "global_attn_every_n_layers", 3);
            config.mlp_layer = "glu".into();
            config.hidden_act = base
                .get("hidden_activation")
                .and_then(Value::as_str)
                .unwrap_or("gelu")
                .into();
            config.skip_first_prenorm = true;
            config.head_pred_act = "gelu".into();
            config.head_class_act = "gelu".into();
        }
        _ => return None,
    }
    config.hidden_size = int(&base, "hidden_size", config.hidden_size);
    config.num_hidden_layers = int(&base, "num_hidden_layers", config.num_hidden_layers);
    config.num_attention_heads = int(&base, "num_attention_heads", config.num_attention_heads);
    config.intermediate_size = int(&base, "intermediate_size", config.intermediate_size);
    config.pad_token_id = int(&base, "pad_token_id", config.pad_token_id);
    Some(Ok(config))
}

/// Token-id keys: transformers accepts `null` (and ModernBERT a list of `eos_token_id`s), and
/// they do not enter the forward pass, so such values are dropped.
const TOKEN_ID_KEYS: [&str; 5] = [
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    "cls_token_id",
    "sep_token_id",
];

/// Reads a base config, ignoring keys the architecture does not use (config.json files carry many).
///
/// A `null` is kept for the architecture's optional keys (where it means what transformers'
/// `None` means), dropped for token ids and for keys the architecture does not read, and refused
/// for every other key the architecture reads: transformers cannot build with `None` there either
/// (arithmetic on `None`, or its typed v5 configs refuse it), and a silent default would measure a
/// different model.
fn lenient<C: DeserializeOwned + Serialize + Default>(base: Map<String, Value>) -> Result<C> {
    let defaults = match serde_json::to_value(C::default()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut known = Map::new();
    for (key, value) in base {
        if TOKEN_ID_KEYS.contains(&key.as_str()) && !value.is_i64() {
            continue;
        }
        if value.is_null() {
            match defaults.get(&key) {
                // A key the architecture does not read.
                None => continue,
                // An optional key: null means None.
                Some(Value::Null) => {}
                Some(default) => {
                    return Err(Error::Config(null_message(
                        &key,
                        kind_of(default),
                        &default.to_string(),
                    )));
                }
            }
        }
        known.insert(key, value);
    }
    serde_path_to_error::deserialize(Value::Object(known)).map_err(|e| {
        Error::Config(format!(
            "pretrained_model_name: key '{}': {}",
            e.path(),
            e.inner()
        ))
    })
}

fn null_message(key: &str, expected: &str, default: &str) -> String {
    format!(
        "pretrained_model_name: key '{key}' is null in config.json, where {expected} is expected \
         (the reference code cannot build the model with None there either); remove the key to \
         use the default {default}"
    )
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
        Value::Null => "a value",
    }
}

/// Applies `overrides` to `base`: every key must be one of the architecture's keys and have its type.
///
/// # Errors
/// [`Error::Config`] naming the unknown key with the valid ones, or the key whose value has the
/// wrong type.
pub fn apply_overrides<C: Serialize + DeserializeOwned>(
    base: &C,
    overrides: &Map<String, Value>,
    arch: &str,
) -> Result<C> {
    let Value::Object(mut map) =
        serde_json::to_value(base).map_err(|e| Error::Config(e.to_string()))?
    else {
        return Err(Error::Config(format!(
            "{arch} configuration is not a key-value map"
        )));
    };
    for (key, value) in overrides {
        if !map.contains_key(key) {
            let mut valid: Vec<&str> = map.keys().map(String::as_str).collect();
            valid.sort_unstable();
            return Err(Error::Config(format!(
                "model_config: unknown key '{key}' for {arch}; valid keys: {}",
                valid.join(", ")
            )));
        }
        map.insert(key.clone(), value.clone());
    }
    serde_path_to_error::deserialize(Value::Object(map))
        .map_err(|e| Error::Config(format!("model_config: key '{}': {}", e.path(), e.inner())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(yaml_like: Value) -> ModelEntry {
        serde_json::from_value(yaml_like).unwrap()
    }

    #[test]
    fn flex_bert_with_empty_model_config_builds_for_every_task() {
        for task in ["classification", "mlm", "embedding"] {
            let e = entry(
                serde_json::json!({"name": "f", "model_type": "flex_bert", "task_type": task, "model_config": {}}),
            );
            let Architecture::Flex(spec) = e.architecture().unwrap() else {
                panic!()
            };
            assert_eq!((spec.hidden, spec.layers, spec.vocab), (768, 12, 30528));
            assert!(spec.final_norm);
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key() {
        let e = entry(
            serde_json::json!({"name": "f", "model_type": "hf_bert", "model_config": {"hiden_size": 12}}),
        );
        let err = e.architecture().unwrap_err().to_string();
        assert!(
            err.contains("unknown key 'hiden_size' for hf_bert; valid keys: ")
                && err.contains("hidden_size"),
            "{err}"
        );
        let e = entry(
            serde_json::json!({"name": "f", "model_type": "modern_bert", "model_config": {"hidden_size": "big"}}),
        );
        let err = e.architecture().unwrap_err().to_string();
        assert!(
            err.contains("model_config: key 'hidden_size': invalid type: string \"big\""),
            "{err}"
        );
        let e = entry(
            serde_json::json!({"name": "f", "model_type": "flex_bert", "model_config": {"norm_kwargs": {"epsilon": 1}}}),
        );
        let err = e.architecture().unwrap_err().to_string();
        assert!(err.contains("norm_kwargs"), "{err}");
    }

    #[test]
    fn impossible_combinations_are_errors() {
        let cases = [
            (
                serde_json::json!({"model_type": "hf_bert", "model_config": {"hidden_size": 100}}),
                "not divisible",
            ),
            (
                serde_json::json!({"model_type": "flex_bert", "model_config": {"sliding_window": 128}}),
                "so that some layers are local",
            ),
            (
                serde_json::json!({"model_type": "flex_bert", "model_config": {"sliding_window": 128, "global_attn_every_n_layers": 1}}),
                "no layer is local",
            ),
            (
                serde_json::json!({"model_type": "flex_bert", "model_config": {"global_attn_every_n_layers": 3, "sliding_window": 64, "num_hidden_layers": 12}}),
                "last layer is global",
            ),
            (
                serde_json::json!({"model_type": "flex_bert", "model_config": {"attention_layer": "flash"}}),
                "attention_layer: 'flash' is not one of",
            ),
            (
                serde_json::json!({"model_type": "flex_bert", "model_config": {"mlp_layer": "parallel_glu"}}),
                "do not fit",
            ),
            (
                serde_json::json!({"model_type": "modern_bert", "pretrained_model_name": "bert-base-uncased"}),
                "cannot be built from a 'bert' config",
            ),
            (
                serde_json::json!({"model_type": "hf_bert", "pretrained_model_name": "no/such-model"}),
                "neither a built-in preset",
            ),
            (
                serde_json::json!({"model_type": "hf_bert", "model_config": {"hidden_act": "gelu_fancy"}}),
                "unknown activation 'gelu_fancy'",
            ),
        ];
        for (mut value, want) in cases {
            value["name"] = "x".into();
            let wanted = want.to_string();
            let err = entry(value.clone())
                .architecture()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| panic!("{value} was accepted"));
            assert!(err.contains(&wanted), "{value}: {err}");
        }
    }

    #[test]
    fn entries_reject_unknown_keys() {
        let err = serde_json::from_value::<ModelEntry>(
            serde_json::json!({"name": "x", "model_type": "hf_bert", "use_pretrained": true}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown field `use_pretrained`"), "{err}");
        let err = serde_json::from_value::<ModelEntry>(
            serde_json::json!({"name": "x", "model_type": "gpt"}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("unknown variant `gpt`") && err.contains("flex_bert"),
            "{err}"
        );
    }

    #[test]
    fn issue_13_a_null_where_a_value_is_read_is_refused_naming_the_key() {
        let dir = std::env::temp_dir().join(format!("model-zoo-null-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let with = |config: Value, model_type: &str| {
            std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
            entry(serde_json::json!({"name": "n", "model_type": model_type,
                "pretrained_model_name": dir.display().to_string()}))
            .architecture()
        };
        let bert = |key: &str| {
            let mut config = preset("bert-base-uncased").unwrap();
            config[key] = Value::Null;
            config
        };
        // Read keys: refused; unread keys and token ids: fine.
        for key in ["layer_norm_eps", "hidden_size", "hidden_act"] {
            let err = with(bert(key), "hf_bert").unwrap_err().to_string();
            assert!(err.contains(&format!("key '{key}' is null")), "{err}");
            // FlexBERT does not read BERT's layer_norm_eps (models.md §1).
            let flex = with(bert(key), "flex_bert");
            if key == "layer_norm_eps" {
                flex.unwrap();
            } else {
                let err = flex.unwrap_err().to_string();
                assert!(err.contains(&format!("key '{key}' is null")), "{err}");
            }
        }
        with(bert("classifier_dropout"), "hf_bert").unwrap();
        with(bert("pad_token_id"), "hf_bert").unwrap();
        // MosaicBERT reads BERT's layer_norm_eps (upstream's norms use config.layer_norm_eps).
        let err = with(bert("layer_norm_eps"), "mosaic_bert")
            .unwrap_err()
            .to_string();
        assert!(err.contains("key 'layer_norm_eps' is null"), "{err}");
    }

    /// Issue 13 item 4: mosaicml/examples' `bert_layers.py` norms use `config.layer_norm_eps`, and
    /// its default config (bert-base-uncased's) says 1e-12; a BERT config.json's value is kept.
    #[test]
    fn issue_13_mosaic_bert_layer_norm_eps_is_upstreams() {
        let eps = |name: &str| {
            let e = entry(serde_json::json!({"name": "m", "model_type": "mosaic_bert",
                "pretrained_model_name": name}));
            let Architecture::Mosaic(config) = e.architecture().unwrap() else {
                panic!("{name}")
            };
            config.layer_norm_eps
        };
        assert_eq!(eps("mosaic-bert-base"), 1e-12);
        assert_eq!(eps("bert-base-uncased"), 1e-12);
        assert_eq!(MosaicBertConfig::default().layer_norm_eps, 1e-12);
        let dir = std::env::temp_dir().join(format!("model-zoo-mosaic-eps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut bert = preset("bert-base-uncased").unwrap();
        bert["layer_norm_eps"] = 1e-3.into();
        std::fs::write(dir.join("config.json"), bert.to_string()).unwrap();
        assert_eq!(eps(&dir.display().to_string()), 1e-3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn modernbert_flex_preset_is_the_released_layout() {
        let e = entry(
            serde_json::json!({"name": "m", "model_type": "flex_bert", "pretrained_model_name": "answerdotai/ModernBERT-base"}),
        );
        let Architecture::Flex(spec) = e.architecture().unwrap() else {
            panic!()
        };
        assert_eq!(spec.layer_global.iter().filter(|g| **g).count(), 8);
        assert_eq!(spec.window_half, Some(64));
        assert_eq!(spec.rope.unwrap().global_base, 160_000.0);
    }
}
