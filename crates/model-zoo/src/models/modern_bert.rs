//! HuggingFace ModernBERT (`model_type: modern_bert`): FlexBERT with the released ModernBERT
//! layout, HuggingFace's tensor names (`model.layers.N.attn.Wqkv.weight`), its config keys, and its
//! heads (masked mean or CLS pooling; models.md §2).
//!
//! Upstream: transformers `src/transformers/models/modernbert/modeling_modernbert.py`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::flex_bert::{FlexSpec, HeadSpec, Layout, Names, Pooling, RopeSpec, check_sizes};
use crate::error::{Error, Result};
use crate::layers::activation::Activation;
use crate::layers::norm::NormKind;

/// `ModernBertConfig`: the keys of a ModernBERT `config.json` that shape the forward pass, with
/// transformers' class defaults (= ModernBERT-base), except `classifier_pooling`, which the class
/// defaults to `cls` and the released checkpoints set to `mean`: presets carry `mean`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModernBertConfig {
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Hidden size.
    pub hidden_size: i64,
    /// GLU width (`Wi` has 2× rows).
    pub intermediate_size: i64,
    /// Layers.
    pub num_hidden_layers: i64,
    /// Attention heads.
    pub num_attention_heads: i64,
    /// MLP activation.
    pub hidden_activation: String,
    /// Longest sequence (sizes the RoPE tables built up front).
    pub max_position_embeddings: i64,
    /// LayerNorm epsilon.
    pub norm_eps: f64,
    /// LayerNorm bias.
    pub norm_bias: bool,
    /// RoPE theta of global layers.
    pub global_rope_theta: f64,
    /// RoPE theta of local layers.
    pub local_rope_theta: f64,
    /// Total local window (128: 64 each side).
    pub local_attention: i64,
    /// Layer `i` is global when `i % n == 0` (when `layer_types` is absent).
    pub global_attn_every_n_layers: i64,
    /// transformers v5: each layer's kind, `full_attention` (global) or `sliding_attention`
    /// (local); one entry per layer. Decides over `global_attn_every_n_layers`, as in
    /// transformers.
    pub layer_types: Option<Vec<String>>,
    /// Bias on `Wqkv` and `Wo`.
    pub attention_bias: bool,
    /// Bias on the MLP.
    pub mlp_bias: bool,
    /// MLM decoder bias.
    pub decoder_bias: bool,
    /// `cls` or `mean` (masked).
    pub classifier_pooling: String,
    /// Head dense bias.
    pub classifier_bias: bool,
    /// Head activation.
    pub classifier_activation: String,
    /// Padding token id.
    pub pad_token_id: i64,
    /// Beginning-of-sequence id.
    pub bos_token_id: i64,
    /// End-of-sequence id.
    pub eos_token_id: i64,
    /// CLS id.
    pub cls_token_id: i64,
    /// SEP id.
    pub sep_token_id: i64,
    /// Only `true` is supported.
    pub tie_word_embeddings: bool,
    /// Dropouts, initialiser and kernel settings: accepted, no effect on inference.
    #[serde(flatten)]
    pub ignored: IgnoredModernBertKeys,
}

/// ModernBERT keys with no effect on inference results.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IgnoredModernBertKeys {
    /// Dropout.
    pub embedding_dropout: Option<f64>,
    /// Dropout.
    pub attention_dropout: Option<f64>,
    /// Dropout.
    pub mlp_dropout: Option<f64>,
    /// Dropout.
    pub classifier_dropout: Option<f64>,
    /// Initialiser.
    pub initializer_range: Option<f64>,
    /// Initialiser.
    pub initializer_cutoff_factor: Option<f64>,
    /// Kernel setting.
    pub deterministic_flash_attn: Option<bool>,
    /// Training-time MLM.
    pub sparse_prediction: Option<bool>,
    /// Training-time MLM.
    pub sparse_pred_ignore_index: Option<i64>,
    /// `torch.compile`.
    pub reference_compile: Option<Value>,
    /// Logit re-padding.
    pub repad_logits_with_grad: Option<bool>,
}

impl Default for ModernBertConfig {
    fn default() -> Self {
        Self {
            vocab_size: 50368,
            hidden_size: 768,
            intermediate_size: 1152,
            num_hidden_layers: 22,
            num_attention_heads: 12,
            hidden_activation: "gelu".into(),
            max_position_embeddings: 8192,
            norm_eps: 1e-5,
            norm_bias: false,
            global_rope_theta: 160_000.0,
            local_rope_theta: 10_000.0,
            local_attention: 128,
            global_attn_every_n_layers: 3,
            layer_types: None,
            attention_bias: false,
            mlp_bias: false,
            decoder_bias: true,
            classifier_pooling: "cls".into(),
            classifier_bias: false,
            classifier_activation: "gelu".into(),
            pad_token_id: 50283,
            bos_token_id: 50281,
            eos_token_id: 50282,
            cls_token_id: 50281,
            sep_token_id: 50282,
            tie_word_embeddings: true,
            ignored: IgnoredModernBertKeys::default(),
        }
    }
}

/// The RoPE types transformers implements besides `default` (`ROPE_INIT_FUNCTIONS` in 5.24).
const SCALED_ROPE_TYPES: [&str; 6] = [
    "dynamic",
    "linear",
    "llama3",
    "longrope",
    "proportional",
    "yarn",
];

/// Rewrites a transformers-v5 ModernBERT `config.json` (`rope_parameters` per layer type, the
/// legacy `rope_scaling`) into the classic keys this crate reads, in place, checking each key as
/// transformers' `ModernBertConfig` does. `layer_types` stays (see
/// [`ModernBertConfig::layer_types`]); its entries are checked here and the legacy `attention` is
/// renamed `full_attention`, as transformers does.
///
/// # Errors
/// [`Error::Config`] naming the key: a layer type other than `full_attention` /
/// `sliding_attention`, a flat or unknown `rope_parameters` entry, a RoPE type other than
/// `default` (scaled RoPE is not implemented; unknown types are unknown to transformers too), a
/// `partial_rotary_factor` other than 1 (transformers' ModernBERT ignores it and rotates whole
/// heads), a `null` or non-number `rope_theta`, or an unknown key inside a layer type's entry.
pub fn normalize_config_json(json: &mut serde_json::Map<String, Value>) -> Result<()> {
    match json.get_mut("layer_types") {
        None => {}
        Some(Value::Null) => {
            // transformers derives them from global_attn_every_n_layers, as without the key.
            json.remove("layer_types");
        }
        Some(Value::Array(types)) => {
            for (index, kind) in types.iter_mut().enumerate() {
                if kind.as_str() == Some("attention") {
                    *kind = Value::from("full_attention");
                }
                check_layer_type(index, kind.as_str().unwrap_or(""), kind)?;
            }
        }
        Some(other) => {
            return Err(Error::Config(format!(
                "layer_types: {other} is not a list of 'full_attention' / 'sliding_attention'"
            )));
        }
    }
    let scaling = json.remove("rope_scaling").filter(|v| !v.is_null());
    let mut per_type = match json.remove("rope_parameters") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(Error::Config(format!(
                "rope_parameters: {other} is not a map from layer type (full_attention, \
                 sliding_attention) to RoPE parameters"
            )));
        }
    };
    // The first unknown key in sorted order, whatever order the map keeps.
    if let Some(key) = per_type
        .keys()
        .filter(|k| !["full_attention", "sliding_attention"].contains(&k.as_str()))
        .min()
    {
        return Err(Error::Config(format!(
            "rope_parameters.{key}: transformers' ModernBERT reads only \
             rope_parameters.full_attention and rope_parameters.sliding_attention (it refuses a \
             flat rope_parameters); nest the parameters under the layer type"
        )));
    }
    for (kind, theta_key) in [
        ("full_attention", "global_rope_theta"),
        ("sliding_attention", "local_rope_theta"),
    ] {
        let mut params = match per_type.remove(kind) {
            // transformers fills in {"rope_type": "default"} with the legacy theta.
            None => serde_json::Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(Error::Config(format!(
                    "rope_parameters.{kind}: {other} is not a map of RoPE parameters"
                )));
            }
        };
        match &scaling {
            None => {}
            // transformers merges the legacy rope_scaling into both layer types.
            Some(Value::Object(extra)) => params.extend(extra.clone()),
            Some(other) => {
                return Err(Error::Config(format!(
                    "rope_scaling: {other} is not a map of RoPE parameters"
                )));
            }
        }
        let source = if scaling.is_some() {
            format!("rope_parameters.{kind} (with rope_scaling)")
        } else {
            format!("rope_parameters.{kind}")
        };
        let rope_type = params
            .get("rope_type")
            .or_else(|| params.get("type"))
            .cloned()
            .unwrap_or_else(|| Value::from("default"));
        match rope_type.as_str() {
            Some("default") => {}
            Some(t) if SCALED_ROPE_TYPES.contains(&t) => {
                return Err(Error::Config(format!(
                    "{source}.rope_type: '{t}' (scaled RoPE) is not supported; only 'default' is"
                )));
            }
            _ => {
                return Err(Error::Config(format!(
                    "{source}.rope_type: {rope_type} is not a RoPE type transformers knows \
                     (default, {}); bert-latency supports 'default'",
                    SCALED_ROPE_TYPES.join(", ")
                )));
            }
        }
        for (key, value) in &params {
            match key.as_str() {
                "rope_type" | "type" => {}
                "rope_theta" => match value.as_f64() {
                    Some(theta) if theta > 0.0 => {
                        json.insert(theta_key.into(), value.clone());
                    }
                    _ => {
                        return Err(Error::Config(format!(
                            "{source}.rope_theta: {value} is not a positive number (transformers \
                             cannot build RoPE from it either)"
                        )));
                    }
                },
                "partial_rotary_factor" if value.as_f64() == Some(1.0) => {}
                "partial_rotary_factor" => {
                    return Err(Error::Config(format!(
                        "{source}.partial_rotary_factor: {value} is ignored by transformers' \
                         ModernBERT, which rotates whole heads; remove it or set 1.0"
                    )));
                }
                other => {
                    return Err(Error::Config(format!(
                        "{source}.{other}: unknown key for 'default' RoPE (expected rope_type, \
                         rope_theta)"
                    )));
                }
            }
        }
    }
    if let (None, Some(eps)) = (json.get("norm_eps"), json.get("layer_norm_eps").cloned()) {
        json.insert("norm_eps".into(), eps);
    }
    Ok(())
}

/// Checks one `layer_types` entry: the two kinds transformers' ModernBERT runs.
fn check_layer_type(index: usize, kind: &str, raw: &Value) -> Result<()> {
    if matches!(kind, "full_attention" | "sliding_attention") {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "layer_types[{index}]: {raw} is not 'full_attention' or 'sliding_attention' (the layer \
             types transformers' ModernBERT runs)"
        )))
    }
}

/// `n` when `layer_types` is "layer `i` is global when `i % n == 0`" (FlexBERT's only pattern).
pub fn global_every_n(types: &[String]) -> Option<i64> {
    let global: Vec<bool> = types.iter().map(|t| t == "full_attention").collect();
    (1..=global.len())
        .find(|&n| global.iter().enumerate().all(|(i, &g)| g == (i % n == 0)))
        .map(|n| n as i64)
}

impl ModernBertConfig {
    /// Resolves into a checked [`FlexSpec`] with HuggingFace's names.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key.
    pub fn resolve(&self) -> Result<FlexSpec> {
        check_sizes(
            self.hidden_size,
            self.num_attention_heads,
            self.num_hidden_layers,
        )?;
        let layer_global: Vec<bool> = match &self.layer_types {
            Some(types) => {
                if types.len() as i64 != self.num_hidden_layers {
                    return Err(Error::Config(format!(
                        "layer_types: {} entries, but num_hidden_layers is {}; they must be \
                         equal (transformers refuses this too)",
                        types.len(),
                        self.num_hidden_layers
                    )));
                }
                for (index, kind) in types.iter().enumerate() {
                    let kind = if kind == "attention" {
                        "full_attention"
                    } else {
                        kind
                    };
                    check_layer_type(index, kind, &Value::from(kind))?;
                }
                types.iter().map(|t| t != "sliding_attention").collect()
            }
            None => {
                let every = self.global_attn_every_n_layers;
                if every < 1 {
                    return Err(Error::Config(format!(
                        "global_attn_every_n_layers: {every} must be at least 1"
                    )));
                }
                (0..self.num_hidden_layers)
                    .map(|i| i % every == 0)
                    .collect()
            }
        };
        let any_local = layer_global.iter().any(|g| !g);
        if self.local_attention < 2 && any_local {
            let why = if self.layer_types.is_some() {
                "layer_types has sliding_attention layers".to_owned()
            } else {
                format!(
                    "global_attn_every_n_layers is {}",
                    self.global_attn_every_n_layers
                )
            };
            return Err(Error::Config(format!(
                "local_attention ({}) must be at least 2 when layers are local ({why})",
                self.local_attention
            )));
        }
        if !self.tie_word_embeddings {
            return Err(Error::Config(
                "tie_word_embeddings: false is not supported; expected true".into(),
            ));
        }
        let pooling = match self.classifier_pooling.as_str() {
            "cls" => Pooling::Cls,
            "mean" => Pooling::Mean { masked: true },
            other => {
                return Err(Error::Config(format!(
                    "classifier_pooling: '{other}' is not one of cls, mean"
                )));
            }
        };
        let head_dim = self.hidden_size / self.num_attention_heads;
        let head = HeadSpec {
            act: Activation::parse("classifier_activation", &self.classifier_activation)?,
            bias: self.classifier_bias,
            norm: true,
        };
        Ok(FlexSpec {
            vocab: self.vocab_size,
            hidden: self.hidden_size,
            layers: self.num_hidden_layers,
            heads: self.num_attention_heads,
            intermediate: self.intermediate_size,
            act: Activation::parse("hidden_activation", &self.hidden_activation)?,
            position: None,
            embed_norm: true,
            norm: NormKind::LayerNorm {
                eps: self.norm_eps,
                bias: self.norm_bias,
            },
            rope: Some(RopeSpec {
                global_base: self.global_rope_theta,
                local_base: self.local_rope_theta,
                global_dim: head_dim,
                local_dim: head_dim,
            }),
            qkv_bias: self.attention_bias,
            out_bias: self.attention_bias,
            window_half: any_local.then_some(self.local_attention / 2),
            layer_global,
            glu: true,
            mlp_in_bias: self.mlp_bias,
            mlp_out_bias: self.mlp_bias,
            layout: Layout::PreNorm,
            skip_first_prenorm: true,
            final_norm: true,
            pred_head: head,
            decoder_bias: self.decoder_bias,
            class_head: head,
            pooling,
            names: Names::HF,
            zero_padding_rows: false,
            // HF ModernBERT unpads too (with FlashAttention); outputs at real tokens are the same.
            unpadded: true,
        })
    }
}
