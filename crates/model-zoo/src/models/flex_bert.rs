//! FlexBERT (`model_type: flex_bert`): a BERT-shaped encoder whose parts are chosen by config
//! strings (models.md §1), and the engine behind HuggingFace ModernBERT (`modern_bert`, see
//! [`super::modern_bert`]).
//!
//! Paper: Warner et al., "ModernBERT" (2024), <https://arxiv.org/abs/2412.13663>. Upstream:
//! AnswerDotAI/ModernBERT `src/bert_layers/{configuration_bert,embeddings,attention,mlp,layers,
//! normalization,model}.py`. Names are FlexBERT's training names (`bert.encoder.layers.N.attn.Wqkv`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tch::{Kind, Tensor};

use super::{Dims, Task};
use crate::error::{Error, Result};
use crate::layers::activation::Activation;
use crate::layers::attention::{
    WindowMask, additive, attend, attend_all, attend_window, key_mask, merge_heads, split_qkv,
    window_mask,
};
use crate::layers::linear::Linear;
use crate::layers::norm::{Norm, NormKind};
use crate::layers::params::{Init, ParamSource};
use crate::layers::rotary::Rotary;
use crate::layers::unpad::RealTokens;

/// Shared size checks: every architecture needs `hidden % heads == 0` and at least one layer.
///
/// # Errors
/// [`Error::Config`] naming the keys.
pub fn check_sizes(hidden: i64, heads: i64, layers: i64) -> Result<()> {
    if hidden <= 0 || heads <= 0 || layers <= 0 {
        return Err(Error::Config(format!(
            "hidden_size ({hidden}), num_attention_heads ({heads}) and num_hidden_layers ({layers}) must be positive"
        )));
    }
    if hidden % heads != 0 {
        return Err(Error::Config(format!(
            "hidden_size ({hidden}) is not divisible by num_attention_heads ({heads})"
        )));
    }
    Ok(())
}

/// `norm_kwargs` of FlexBERT: settings passed to the norm class.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormKwargs {
    /// Epsilon (1e-5 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps: Option<f64>,
    /// LayerNorm bias (true when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<bool>,
}

/// `FlexBertConfig`: every key that shapes FlexBERT's forward pass, with the class defaults of
/// upstream `FlexBertConfig`, except `final_norm`, which defaults to **true** here so that the
/// default pre-norm layout is complete for every task (upstream's default, pre-norm without a final
/// norm, fails its own MLM check). Sizes default to bert-base-uncased with the vocabulary rounded
/// to a multiple of 8.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlexBertConfig {
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Hidden size.
    pub hidden_size: i64,
    /// Encoder layers.
    pub num_hidden_layers: i64,
    /// Attention heads.
    pub num_attention_heads: i64,
    /// MLP width (GLU: `Wi` has 2× rows).
    pub intermediate_size: i64,
    /// MLP activation.
    pub hidden_act: String,
    /// Learned positions for `absolute_pos`.
    pub max_position_embeddings: i64,
    /// Padding token id.
    pub pad_token_id: i64,
    /// `absolute_pos` or `sans_pos`.
    pub embedding_layer: String,
    /// Norm after the embeddings.
    pub embed_norm: bool,
    /// `layernorm`, `rmsnorm` (or their `triton_` twins).
    pub normalization: String,
    /// Norm settings (`eps`, `bias`).
    pub norm_kwargs: NormKwargs,
    /// `base`, `rope`, `parallel`, `rope_parallel` (a `padded_`/`unpadded_` prefix is accepted).
    pub attention_layer: String,
    /// Bias on `Wqkv` (and `Wqkvff`).
    pub attn_qkv_bias: bool,
    /// Bias on the attention `Wo`.
    pub attn_out_bias: bool,
    /// Rotated channels per head (None: all).
    pub rotary_emb_dim: Option<i64>,
    /// RoPE theta of global layers.
    pub rotary_emb_base: f64,
    /// Interleaved (GPT-J) RoPE; only `false` (NeoX) is supported.
    pub rotary_emb_interleaved: bool,
    /// Total local window (e.g. 128: 64 each side); -1 for none.
    pub sliding_window: i64,
    /// Layer `i` is global when `i % n == 0`, else local; -1 for all global.
    pub global_attn_every_n_layers: i64,
    /// RoPE theta of local layers (-1: `rotary_emb_base`).
    pub local_attn_rotary_emb_base: f64,
    /// Rotated channels of local layers (None: as global).
    pub local_attn_rotary_emb_dim: Option<i64>,
    /// `mlp`, `glu` or `parallel_glu`.
    pub mlp_layer: String,
    /// Bias of `Wi`.
    pub mlp_in_bias: bool,
    /// Bias of the MLP `Wo`.
    pub mlp_out_bias: bool,
    /// `prenorm`, `postnorm` or `parallel_prenorm`.
    pub bert_layer: String,
    /// With `embed_norm`, layer 0 has no attention norm.
    pub skip_first_prenorm: bool,
    /// Norm after the last layer.
    pub final_norm: bool,
    /// `padded` or `unpadded` (same results; this build runs both padded).
    pub padding: String,
    /// MLM head activation.
    pub head_pred_act: String,
    /// MLM head dense bias.
    pub head_pred_bias: bool,
    /// MLM head norm.
    pub head_pred_norm: bool,
    /// MLM decoder bias.
    pub decoder_bias: bool,
    /// Decoder weight tied to the token embeddings.
    pub tie_word_embeddings: bool,
    /// `cls`, `mean` (unmasked, as upstream) or `max`.
    pub pooling_type: String,
    /// Classification head activation.
    pub head_class_act: String,
    /// Classification head dense bias.
    pub head_class_bias: bool,
    /// Classification head norm.
    pub head_class_norm: bool,
    /// Inference no-ops accepted for compatibility with FlexBERT yamls (dropouts, kernels,
    /// compilation, training losses); their values do not change the results.
    #[serde(flatten)]
    pub ignored: IgnoredKnobs,
}

/// FlexBERT knobs that do not change inference results.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IgnoredKnobs {
    /// Dropout.
    pub embed_dropout_prob: Option<f64>,
    /// Dropout.
    pub attention_probs_dropout_prob: Option<f64>,
    /// Dropout.
    pub attn_out_dropout_prob: Option<f64>,
    /// Dropout.
    pub hidden_dropout_prob: Option<f64>,
    /// Dropout.
    pub mlp_dropout_prob: Option<f64>,
    /// Dropout.
    pub head_class_dropout: Option<f64>,
    /// Dropout.
    pub head_pred_dropout: Option<f64>,
    /// Kernel choice.
    pub use_fa2: Option<bool>,
    /// Masking of the SDPA fallback (our attention is always masked).
    pub use_sdpa_attn_mask: Option<bool>,
    /// Unpadding of embeddings.
    pub unpad_embeddings: Option<bool>,
    /// `torch.compile`.
    pub compile_model: Option<bool>,
    /// Training-time MLM.
    pub masked_prediction: Option<bool>,
    /// Logit padding.
    pub pad_logits: Option<bool>,
    /// Unused by FlexBERT norms (models.md §1).
    pub layer_norm_eps: Option<f64>,
    /// Training loss.
    pub loss_function: Option<Value>,
    /// Training loss settings.
    pub loss_kwargs: Option<Value>,
    /// Deterministic FlashAttention.
    pub deterministic_fa2: Option<bool>,
    /// Embedding resizing.
    pub allow_embedding_resizing: Option<bool>,
    /// Initialisation.
    pub init_method: Option<Value>,
    /// Initialisation.
    pub initializer_range: Option<f64>,
}

impl Default for FlexBertConfig {
    fn default() -> Self {
        Self {
            vocab_size: 30528,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            max_position_embeddings: 512,
            pad_token_id: 0,
            embedding_layer: "absolute_pos".into(),
            embed_norm: true,
            normalization: "rmsnorm".into(),
            norm_kwargs: NormKwargs::default(),
            attention_layer: "base".into(),
            attn_qkv_bias: false,
            attn_out_bias: false,
            rotary_emb_dim: None,
            rotary_emb_base: 10000.0,
            rotary_emb_interleaved: false,
            sliding_window: -1,
            global_attn_every_n_layers: -1,
            local_attn_rotary_emb_base: -1.0,
            local_attn_rotary_emb_dim: None,
            mlp_layer: "mlp".into(),
            mlp_in_bias: false,
            mlp_out_bias: false,
            bert_layer: "prenorm".into(),
            skip_first_prenorm: false,
            final_norm: true,
            padding: "unpadded".into(),
            head_pred_act: "silu".into(),
            head_pred_bias: false,
            head_pred_norm: true,
            decoder_bias: true,
            tie_word_embeddings: true,
            pooling_type: "cls".into(),
            head_class_act: "silu".into(),
            head_class_bias: false,
            head_class_norm: false,
            ignored: IgnoredKnobs::default(),
        }
    }
}

fn strip_padding(value: &str) -> &str {
    value
        .strip_prefix("unpadded_")
        .or_else(|| value.strip_prefix("padded_"))
        .unwrap_or(value)
}

fn choice<'a>(key: &str, value: &'a str, valid: &[&str]) -> Result<&'a str> {
    if valid.contains(&value) {
        Ok(value)
    } else {
        Err(Error::Config(format!(
            "{key}: '{value}' is not one of {}",
            valid.join(", ")
        )))
    }
}

impl FlexBertConfig {
    /// Resolves the string knobs into a checked [`FlexSpec`] with FlexBERT's names.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key: an unknown choice, sizes that do not divide, a sliding
    /// window without local layers (or local layers without a window), a layer count that does not
    /// end on a global layer, parallel attention without the parallel layer, unsupported RoPE modes.
    pub fn resolve(&self) -> Result<FlexSpec> {
        check_sizes(
            self.hidden_size,
            self.num_attention_heads,
            self.num_hidden_layers,
        )?;
        let head_dim = self.hidden_size / self.num_attention_heads;
        let position = match choice(
            "embedding_layer",
            &self.embedding_layer,
            &["absolute_pos", "sans_pos"],
        )? {
            "absolute_pos" => Some(self.max_position_embeddings),
            _ => None,
        };
        let eps = self.norm_kwargs.eps.unwrap_or(1e-5);
        let normalization = choice(
            "normalization",
            &self.normalization,
            &["layernorm", "rmsnorm", "triton_layernorm", "triton_rmsnorm"],
        )?;
        let norm = if normalization.ends_with("rmsnorm") {
            NormKind::RmsNorm { eps }
        } else {
            NormKind::LayerNorm {
                eps,
                bias: self.norm_kwargs.bias.unwrap_or(true),
            }
        };
        let attention = choice(
            "attention_layer",
            strip_padding(&self.attention_layer),
            &["base", "rope", "parallel", "rope_parallel"],
        )?;
        let layer = choice(
            "bert_layer",
            strip_padding(&self.bert_layer),
            &["prenorm", "postnorm", "parallel_prenorm"],
        )?;
        let mlp = choice(
            "mlp_layer",
            strip_padding(&self.mlp_layer),
            &["mlp", "glu", "parallel_glu"],
        )?;
        let parallel = layer == "parallel_prenorm";
        if parallel != attention.ends_with("parallel") || parallel != (mlp == "parallel_glu") {
            return Err(Error::Config(format!(
                "bert_layer '{layer}', attention_layer '{attention}' and mlp_layer '{mlp}' do not fit: \
                 parallel_prenorm goes with parallel or rope_parallel attention and parallel_glu, and only with them"
            )));
        }
        choice("padding", &self.padding, &["padded", "unpadded"])?;
        if self.rotary_emb_interleaved {
            return Err(Error::Config("rotary_emb_interleaved: true is not supported; expected false (NeoX half rotation)".into()));
        }
        if !self.tie_word_embeddings {
            return Err(Error::Config(
                "tie_word_embeddings: false is not supported; expected true".into(),
            ));
        }
        let rope = attention.starts_with("rope");
        let rotary_dim = |key: &str, dim: Option<i64>| -> Result<i64> {
            let dim = dim.unwrap_or(head_dim);
            if dim <= 0 || dim > head_dim || dim % 2 != 0 {
                return Err(Error::Config(format!(
                    "{key}: {dim} must be even and within the head size {head_dim}"
                )));
            }
            Ok(dim)
        };
        let global_dim = rotary_dim("rotary_emb_dim", self.rotary_emb_dim)?;
        let local_dim = rotary_dim(
            "local_attn_rotary_emb_dim",
            self.local_attn_rotary_emb_dim.or(self.rotary_emb_dim),
        )?;
        let layers = self.num_hidden_layers;
        let every = self.global_attn_every_n_layers;
        let window = self.sliding_window;
        let layer_global: Vec<bool> = match (window > 0, every > 0) {
            (false, false) => vec![true; layers as usize],
            (true, true) => {
                if every == 1 {
                    return Err(Error::Config(
                        "sliding_window is set but global_attn_every_n_layers is 1, so no layer is local".into(),
                    ));
                }
                if (layers - 1) % every != 0 {
                    return Err(Error::Config(format!(
                        "global_attn_every_n_layers ({every}) must divide num_hidden_layers − 1 ({}) so that the last layer is global",
                        layers - 1
                    )));
                }
                (0..layers).map(|i| i % every == 0).collect()
            }
            (true, false) => {
                return Err(Error::Config(format!(
                    "sliding_window ({window}) is set but global_attn_every_n_layers is {every}: set it (e.g. 3) so that some layers are local"
                )));
            }
            (false, true) => {
                return Err(Error::Config(format!(
                    "global_attn_every_n_layers ({every}) makes local layers, but sliding_window is {window}: set a window (e.g. 128)"
                )));
            }
        };
        let local_base = if self.local_attn_rotary_emb_base > 0.0 {
            self.local_attn_rotary_emb_base
        } else {
            self.rotary_emb_base
        };
        let pooling = match choice("pooling_type", &self.pooling_type, &["cls", "mean", "max"])? {
            "cls" => Pooling::Cls,
            "mean" => Pooling::Mean { masked: false },
            _ => Pooling::Max,
        };
        Ok(FlexSpec {
            vocab: self.vocab_size,
            hidden: self.hidden_size,
            layers,
            heads: self.num_attention_heads,
            intermediate: self.intermediate_size,
            act: Activation::parse("hidden_act", &self.hidden_act)?,
            position,
            embed_norm: self.embed_norm,
            norm,
            rope: rope.then_some(RopeSpec {
                global_base: self.rotary_emb_base,
                local_base,
                global_dim,
                local_dim,
            }),
            qkv_bias: self.attn_qkv_bias,
            out_bias: self.attn_out_bias,
            window_half: (window > 0).then_some(window / 2),
            layer_global,
            glu: mlp != "mlp",
            mlp_in_bias: self.mlp_in_bias,
            mlp_out_bias: self.mlp_out_bias,
            layout: match layer {
                "prenorm" => Layout::PreNorm,
                "postnorm" => Layout::PostNorm,
                _ => Layout::ParallelPreNorm,
            },
            skip_first_prenorm: self.skip_first_prenorm && self.embed_norm,
            final_norm: self.final_norm,
            pred_head: HeadSpec {
                act: Activation::parse("head_pred_act", &self.head_pred_act)?,
                bias: self.head_pred_bias,
                norm: self.head_pred_norm,
            },
            decoder_bias: self.decoder_bias,
            class_head: HeadSpec {
                act: Activation::parse("head_class_act", &self.head_class_act)?,
                bias: self.head_class_bias,
                norm: self.head_class_norm,
            },
            pooling,
            names: Names::FLEX,
            zero_padding_rows: self.padding == "unpadded",
            unpadded: self.padding == "unpadded",
        })
    }
}

/// RoPE settings per layer kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RopeSpec {
    /// Theta of global layers.
    pub global_base: f64,
    /// Theta of local layers.
    pub local_base: f64,
    /// Rotated channels in global layers.
    pub global_dim: i64,
    /// Rotated channels in local layers.
    pub local_dim: i64,
}

/// Layer layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `h = x + attn(norm(x)); out = h + mlp(norm(h))`.
    PreNorm,
    /// `h = norm(x + attn(x)); out = norm(h + mlp(h))`.
    PostNorm,
    /// `out = x + attn(qkv) + mlp(ff)` with one norm and a fused `Wqkvff`.
    ParallelPreNorm,
}

/// Pooling of the classification head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Token 0.
    Cls,
    /// Mean over positions; `masked` (HF ModernBERT) over real tokens only, else over all S.
    Mean {
        /// Whether padding is excluded.
        masked: bool,
    },
    /// Max over all positions.
    Max,
}

/// A head's dense → activation → optional norm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadSpec {
    /// Activation.
    pub act: Activation,
    /// Dense bias.
    pub bias: bool,
    /// Whether a norm follows.
    pub norm: bool,
}

/// Where the backbone's tensors live in a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    /// Embedding module path.
    pub embeddings: &'static str,
    /// Layer list path.
    pub layers: &'static str,
    /// Final norm path.
    pub final_norm: &'static str,
}

impl Names {
    /// FlexBERT's training names.
    pub const FLEX: Self = Self {
        embeddings: "bert.embeddings",
        layers: "bert.encoder.layers",
        final_norm: "bert.final_norm",
    };
    /// HuggingFace ModernBERT's names.
    pub const HF: Self = Self {
        embeddings: "model.embeddings",
        layers: "model.layers",
        final_norm: "model.final_norm",
    };
}

/// A resolved, checked FlexBERT architecture.
#[derive(Debug, Clone, PartialEq)]
pub struct FlexSpec {
    /// Vocabulary size.
    pub vocab: i64,
    /// Hidden size.
    pub hidden: i64,
    /// Layers.
    pub layers: i64,
    /// Heads.
    pub heads: i64,
    /// MLP width.
    pub intermediate: i64,
    /// MLP activation.
    pub act: Activation,
    /// Learned position table size, if `absolute_pos`.
    pub position: Option<i64>,
    /// Norm after the embeddings.
    pub embed_norm: bool,
    /// Norm kind.
    pub norm: NormKind,
    /// RoPE, if the attention is rotary.
    pub rope: Option<RopeSpec>,
    /// `Wqkv` bias.
    pub qkv_bias: bool,
    /// Attention `Wo` bias.
    pub out_bias: bool,
    /// Half window of local layers.
    pub window_half: Option<i64>,
    /// Per layer: global (true) or local.
    pub layer_global: Vec<bool>,
    /// GLU MLP.
    pub glu: bool,
    /// `Wi` bias.
    pub mlp_in_bias: bool,
    /// MLP `Wo` bias.
    pub mlp_out_bias: bool,
    /// Layer layout.
    pub layout: Layout,
    /// Layer 0 without attention norm.
    pub skip_first_prenorm: bool,
    /// Final norm.
    pub final_norm: bool,
    /// MLM head.
    pub pred_head: HeadSpec,
    /// MLM decoder bias.
    pub decoder_bias: bool,
    /// Classification head.
    pub class_head: HeadSpec,
    /// Pooling.
    pub pooling: Pooling,
    /// Checkpoint names.
    pub names: Names,
    /// Unpadded semantics: padding rows are zero before the final norm, as upstream's unpadded
    /// encoder re-pads with zeros (this changes unmasked mean and max pooling).
    pub zero_padding_rows: bool,
    /// Run unpadded: token-wise layers on real tokens only, attention per sequence (global without
    /// a mask, local banded). Outputs at real tokens equal the padded path's.
    pub unpadded: bool,
}

struct FlexLayer {
    attn_norm: Norm,
    mlp_norm: Norm,
    wqkv: Option<Linear>,
    wqkvff: Option<Linear>,
    attn_out: Linear,
    wi: Option<Linear>,
    mlp_out: Linear,
    global: bool,
}

/// Applies a projection that the layout guarantees to exist (`new` builds exactly the ones each
/// layout uses).
fn project(linear: &Option<Linear>, x: &Tensor) -> Tensor {
    match linear {
        Some(linear) => linear.forward(x),
        None => unreachable!("FlexBert::new builds every projection its layout uses"),
    }
}

struct Head {
    dense: Linear,
    norm: Norm,
    act: Activation,
}

impl Head {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.norm.forward(&self.act.forward(&self.dense.forward(x)))
    }
}

enum FlexHead {
    Classification { head: Head, classifier: Linear },
    Mlm { head: Head, bias: Option<Tensor> },
    Embedding,
}

/// A built FlexBERT / ModernBERT model.
pub struct FlexBert {
    spec: FlexSpec,
    tok_embeddings: Tensor,
    position_embeddings: Option<Tensor>,
    embedding_norm: Norm,
    layers: Vec<FlexLayer>,
    final_norm: Norm,
    head: FlexHead,
    rotary: Option<(Rotary, Rotary)>,
}

impl FlexBert {
    /// Builds the model for `task` from a resolved `spec`, taking every parameter from `params`.
    /// RoPE tables cover `max_len` positions (they grow on demand for longer inputs).
    pub fn new(spec: FlexSpec, task: Task, params: &mut dyn ParamSource, max_len: i64) -> Self {
        let (h, n) = (spec.hidden, spec.names);
        // tie_word_embeddings (the only setting supported): the decoder is the token table, and
        // safetensors' save_model keeps `decoder.weight` for ModernBERT (first in sorted order).
        let tok_name = format!("{}.tok_embeddings.weight", n.embeddings);
        params.tie(&tok_name, "decoder.weight");
        let tok_embeddings = params.take(&tok_name, &[spec.vocab, h], Init::Normal(0.02));
        let position_embeddings = spec.position.map(|p| {
            params.take(
                &format!("{}.position_embeddings.weight", n.embeddings),
                &[p, h],
                Init::Normal(0.02),
            )
        });
        let embedding_norm = if spec.embed_norm {
            Norm::new(params, &format!("{}.norm", n.embeddings), h, spec.norm)
        } else {
            Norm::Identity
        };
        let wi_rows = if spec.glu {
            2 * spec.intermediate
        } else {
            spec.intermediate
        };
        let layers = (0..spec.layers)
            .map(|i| {
                let p = format!("{}.{i}", n.layers);
                let parallel = spec.layout == Layout::ParallelPreNorm;
                let attn_norm = if parallel || (i == 0 && spec.skip_first_prenorm) {
                    Norm::Identity
                } else {
                    Norm::new(params, &format!("{p}.attn_norm"), h, spec.norm)
                };
                let mlp_norm = if parallel {
                    Norm::new(params, &format!("{p}.norm"), h, spec.norm)
                } else {
                    Norm::new(params, &format!("{p}.mlp_norm"), h, spec.norm)
                };
                FlexLayer {
                    attn_norm,
                    mlp_norm,
                    wqkv: (!parallel).then(|| {
                        Linear::new(params, &format!("{p}.attn.Wqkv"), h, 3 * h, spec.qkv_bias)
                    }),
                    wqkvff: parallel.then(|| {
                        Linear::new(
                            params,
                            &format!("{p}.Wqkvff"),
                            h,
                            3 * h + wi_rows,
                            spec.qkv_bias,
                        )
                    }),
                    attn_out: Linear::new(params, &format!("{p}.attn.Wo"), h, h, spec.out_bias),
                    wi: (!parallel).then(|| {
                        Linear::new(params, &format!("{p}.mlp.Wi"), h, wi_rows, spec.mlp_in_bias)
                    }),
                    mlp_out: Linear::new(
                        params,
                        &format!("{p}.mlp.Wo"),
                        spec.intermediate,
                        h,
                        spec.mlp_out_bias,
                    ),
                    global: spec.layer_global[i as usize],
                }
            })
            .collect();
        let final_norm = if spec.final_norm {
            Norm::new(params, n.final_norm, h, spec.norm)
        } else {
            Norm::Identity
        };
        let make_head = |params: &mut dyn ParamSource, s: HeadSpec| Head {
            dense: Linear::new(params, "head.dense", h, h, s.bias),
            norm: if s.norm {
                Norm::new(params, "head.norm", h, spec.norm)
            } else {
                Norm::Identity
            },
            act: s.act,
        };
        let head = match task {
            Task::Classification { num_labels } => FlexHead::Classification {
                head: make_head(params, spec.class_head),
                classifier: Linear::new(params, "classifier", h, num_labels, true),
            },
            Task::Mlm => {
                params.allow_unused("decoder.weight");
                FlexHead::Mlm {
                    head: make_head(params, spec.pred_head),
                    bias: spec
                        .decoder_bias
                        .then(|| params.take("decoder.bias", &[spec.vocab], Init::Zeros)),
                }
            }
            Task::Embedding => FlexHead::Embedding,
        };
        let device = tok_embeddings.device();
        let rotary = spec.rope.map(|r| {
            (
                Rotary::new(r.global_dim, r.global_base, max_len, device),
                Rotary::new(r.local_dim, r.local_base, max_len, device),
            )
        });
        Self {
            spec,
            tok_embeddings,
            position_embeddings,
            embedding_norm,
            layers,
            final_norm,
            head,
            rotary,
        }
    }

    /// Shape facts.
    pub fn dims(&self) -> Dims {
        Dims {
            vocab: self.spec.vocab,
            hidden: self.spec.hidden,
            layers: self.spec.layers,
            heads: self.spec.heads,
        }
    }

    /// FLOPs of one forward pass over `batch` sequences of `seq` tokens; local layers attend to at
    /// most `window + 1` keys per query.
    pub fn flops(&self, batch: i64, seq: i64) -> f64 {
        let tokens = (batch * seq) as f64;
        let h = self.spec.hidden;
        let mut total = 0.0;
        for layer in &self.layers {
            let linears: f64 = [
                layer.wqkv.as_ref(),
                layer.wqkvff.as_ref(),
                Some(&layer.attn_out),
                layer.wi.as_ref(),
                Some(&layer.mlp_out),
            ]
            .into_iter()
            .flatten()
            .map(Linear::flops_per_row)
            .sum();
            let keys = match (layer.global, self.spec.window_half) {
                (false, Some(half)) => seq.min(2 * half + 1),
                _ => seq,
            };
            total += tokens * (linears + 4.0 * (keys * h) as f64);
        }
        total
            + match &self.head {
                FlexHead::Classification { head, classifier } => {
                    batch as f64 * (head.dense.flops_per_row() + classifier.flops_per_row())
                }
                FlexHead::Mlm { head, .. } => {
                    tokens * (head.dense.flops_per_row() + 2.0 * (h * self.spec.vocab) as f64)
                }
                FlexHead::Embedding => 0.0,
            }
    }

    /// The (global, local) rotary tables for `seq` positions: the prebuilt ones when long
    /// enough, else tables built for this length.
    fn tables(&self, seq: i64, device: tch::Device) -> Option<(Rotary, Rotary)> {
        match &self.rotary {
            Some(tables) if tables.0.len() >= seq => {
                Some((tables.0.shallow_clone(), tables.1.shallow_clone()))
            }
            Some(_) => self.rotary_for(seq, device),
            None => None,
        }
    }

    fn rotary_for(&self, seq: i64, device: tch::Device) -> Option<(Rotary, Rotary)> {
        let r = self.spec.rope?;
        Some((
            Rotary::new(r.global_dim, r.global_base, seq, device),
            Rotary::new(r.local_dim, r.local_base, seq, device),
        ))
    }

    /// Runs the model on right-padded `input_ids` and `attention_mask` (`[B, S]`, int64): unpadded
    /// when the spec says so, else padded with masks.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Tensor {
        self.forward_with_lengths(input_ids, attention_mask, None)
    }

    /// [`FlexBert::forward`] with the rows' real-token counts known on the host (`[B]`), which
    /// spares the unpadded path a device-to-host copy of them.
    pub fn forward_with_lengths(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        lengths: Option<&[i64]>,
    ) -> Tensor {
        if self.spec.unpadded {
            self.forward_unpadded(input_ids, attention_mask, lengths)
        } else {
            self.forward_padded(input_ids, attention_mask)
        }
    }

    /// One layer on `x` (`[B, S, H]` or `[T, H]`), with `attention` mapping the fused q|k|v
    /// projection to the attention output before `Wo`.
    fn layer(
        &self,
        layer: &FlexLayer,
        x: &Tensor,
        attention: &dyn Fn(&Tensor) -> Tensor,
    ) -> Tensor {
        let attention = |qkv: &Tensor| layer.attn_out.forward(&attention(qkv));
        let mlp = |ff: &Tensor| {
            let inner = if self.spec.glu {
                let i = self.spec.intermediate;
                self.spec.act.forward(&ff.narrow(-1, 0, i)) * ff.narrow(-1, i, i)
            } else {
                self.spec.act.forward(ff)
            };
            layer.mlp_out.forward(&inner)
        };
        match self.spec.layout {
            Layout::PreNorm => {
                let h = x + attention(&project(&layer.wqkv, &layer.attn_norm.forward(x)));
                let ff = project(&layer.wi, &layer.mlp_norm.forward(&h));
                &h + mlp(&ff)
            }
            Layout::PostNorm => {
                let h = layer
                    .attn_norm
                    .forward(&(x + attention(&project(&layer.wqkv, x))));
                let ff = project(&layer.wi, &h);
                layer.mlp_norm.forward(&(&h + mlp(&ff)))
            }
            Layout::ParallelPreNorm => {
                let fused = project(&layer.wqkvff, &layer.mlp_norm.forward(x));
                let h3 = 3 * self.spec.hidden;
                let width = *fused.size().last().unwrap_or(&h3);
                let qkv = fused.narrow(-1, 0, h3);
                let ff = fused.narrow(-1, h3, width - h3);
                x + attention(&qkv) + mlp(&ff)
            }
        }
    }

    /// The padded path: every position runs through every layer; masks keep padding out of
    /// attention.
    fn forward_padded(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Tensor {
        let seq = input_ids.size()[1];
        let device = input_ids.device();
        let mut x = Tensor::embedding(&self.tok_embeddings, input_ids, -1, false, false);
        if let Some(positions) = &self.position_embeddings {
            let pos = Tensor::arange(seq, (Kind::Int64, device));
            x += Tensor::embedding(positions, &pos, -1, false, false);
        }
        x = self.embedding_norm.forward(&x);
        let kind = x.kind();
        let keys = key_mask(attention_mask);
        let global_mask = additive(&keys, kind);
        let local_mask = self.spec.window_half.map(|half| {
            additive(
                &keys.logical_and(&window_mask(seq, half, device).unsqueeze(0).unsqueeze(0)),
                kind,
            )
        });
        let rotary = self.tables(seq, device);
        let heads = self.spec.heads;
        for layer in &self.layers {
            let mask = match (&local_mask, layer.global) {
                (Some(local), false) => local,
                _ => &global_mask,
            };
            let attention = |qkv: &Tensor| {
                let (mut q, mut k, v) = split_qkv(qkv, heads);
                if let Some(tables) = &rotary {
                    let table = if layer.global { &tables.0 } else { &tables.1 };
                    q = table.apply(&q);
                    k = table.apply(&k);
                }
                merge_heads(&attend(&q, &k, &v, mask))
            };
            x = self.layer(layer, &x, &attention);
        }
        self.output(x, attention_mask)
    }

    /// The unpadded path: embeddings, projections, MLPs and norms run on the real tokens only
    /// (`[T, H]`); attention runs per sequence on its own tokens (global layers without a mask,
    /// local layers banded, see [`attend_window`]). Pad positions of the output are zero for MLM
    /// and embeddings; classification pools as the padded path does.
    fn forward_unpadded(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        lengths: Option<&[i64]>,
    ) -> Tensor {
        let device = input_ids.device();
        let tokens = RealTokens::new(attention_mask, lengths);
        let ids = tokens.gather(input_ids);
        let mut x = Tensor::embedding(&self.tok_embeddings, &ids, -1, false, false);
        if let Some(positions) = &self.position_embeddings {
            x += Tensor::embedding(positions, &tokens.positions(), -1, false, false);
        }
        x = self.embedding_norm.forward(&x);
        let kind = x.kind();
        let lengths = &tokens.lengths;
        let longest = tokens.longest();
        let rotary = self.tables(longest, device);
        let windows: Vec<Option<WindowMask>> = lengths
            .iter()
            .map(|&len| {
                self.spec
                    .window_half
                    .map(|half| WindowMask::new(len, half, kind, device))
            })
            .collect();
        let heads = self.spec.heads;
        let hidden = self.spec.hidden;
        for layer in &self.layers {
            let attention = |qkv: &Tensor| {
                let mut start = 0;
                let mut outputs = Vec::with_capacity(lengths.len());
                for (&len, window) in lengths.iter().zip(&windows) {
                    if len == 0 {
                        continue;
                    }
                    let (mut q, mut k, v) =
                        split_qkv(&qkv.narrow(0, start, len).unsqueeze(0), heads);
                    start += len;
                    if let Some(tables) = &rotary {
                        let table = if layer.global { &tables.0 } else { &tables.1 };
                        q = table.apply(&q);
                        k = table.apply(&k);
                    }
                    let out = match (window, layer.global) {
                        (Some(mask), false) => {
                            attend_window(&q, &k, &v, self.spec.window_half.unwrap_or(0), mask)
                        }
                        _ => attend_all(&q, &k, &v),
                    };
                    outputs.push(merge_heads(&out).view([len, hidden]));
                }
                Tensor::cat(&outputs, 0)
            };
            x = self.layer(layer, &x, &attention);
        }
        // Back to [B, S, ·]: zeros at padding.
        match &self.head {
            FlexHead::Classification { .. } => self.output(tokens.repad(&x), attention_mask),
            FlexHead::Mlm { head, bias } => {
                let x = self.final_norm.forward(&x);
                tokens.repad(&head.forward(&x).linear(&self.tok_embeddings, bias.as_ref()))
            }
            FlexHead::Embedding => tokens.repad(&self.final_norm.forward(&x)),
        }
    }

    /// Final norm and head over padded hidden states `x` `[B, S, H]`.
    fn output(&self, x: Tensor, attention_mask: &Tensor) -> Tensor {
        let kind = x.kind();
        let x = if self.spec.zero_padding_rows {
            self.final_norm
                .forward(&(x * attention_mask.to_kind(kind).unsqueeze(-1)))
        } else {
            self.final_norm.forward(&x)
        };
        match &self.head {
            FlexHead::Classification { head, classifier } => {
                let pooled = match self.spec.pooling {
                    Pooling::Cls => x.select(1, 0),
                    Pooling::Mean { masked: false } => x.mean_dim(1, false, kind),
                    Pooling::Mean { masked: true } => {
                        let m = attention_mask.to_kind(kind).unsqueeze(-1);
                        (&x * &m).sum_dim_intlist(1, false, kind)
                            / m.sum_dim_intlist(1, false, kind)
                    }
                    Pooling::Max => x.amax(1, false),
                };
                classifier.forward(&head.forward(&pooled))
            }
            FlexHead::Mlm { head, bias } => {
                head.forward(&x).linear(&self.tok_embeddings, bias.as_ref())
            }
            FlexHead::Embedding => x,
        }
    }
}
