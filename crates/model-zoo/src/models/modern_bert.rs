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
    /// Layer `i` is global when `i % n == 0`.
    pub global_attn_every_n_layers: i64,
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

/// Rewrites a newer transformers ModernBERT `config.json` (`layer_types`, `rope_parameters`) into
/// the classic keys this crate reads, in place. A layer pattern that is not "global every n" is an
/// error.
///
/// # Errors
/// [`Error::Config`] for an unsupported `layer_types` pattern.
pub fn normalize_config_json(json: &mut serde_json::Map<String, Value>) -> Result<()> {
    if let Some(Value::Array(types)) = json.remove("layer_types") {
        let global: Vec<bool> = types
            .iter()
            .map(|t| t.as_str() == Some("full_attention"))
            .collect();
        let every = (1..=global.len())
            .find(|&n| global.iter().enumerate().all(|(i, &g)| g == (i % n == 0)));
        match every {
            Some(n) if n > 0 => {
                json.insert("global_attn_every_n_layers".into(), Value::from(n as i64));
            }
            _ => {
                return Err(Error::Config(
                    "layer_types: only 'global every n layers' patterns are supported".into(),
                ));
            }
        }
    }
    if let Some(Value::Object(rope)) = json.remove("rope_parameters") {
        for (kind, key) in [
            ("full_attention", "global_rope_theta"),
            ("sliding_attention", "local_rope_theta"),
        ] {
            if let Some(theta) = rope.get(kind).and_then(|p| p.get("rope_theta")) {
                json.insert(key.into(), theta.clone());
            }
        }
    }
    if let (None, Some(eps)) = (json.get("norm_eps"), json.get("layer_norm_eps").cloned()) {
        json.insert("norm_eps".into(), eps);
    }
    Ok(())
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
        let every = self.global_attn_every_n_layers;
        if every < 1 {
            return Err(Error::Config(format!(
                "global_attn_every_n_layers: {every} must be at least 1"
            )));
        }
        if self.local_attention < 2 && every > 1 {
            return Err(Error::Config(format!(
                "local_attention ({}) must be at least 2 when layers are local (global_attn_every_n_layers {every})",
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
            window_half: (every > 1).then_some(self.local_attention / 2),
            layer_global: (0..self.num_hidden_layers)
                .map(|i| i % every == 0)
                .collect(),
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
