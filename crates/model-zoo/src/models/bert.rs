//! Classic BERT (`model_type: hf_bert`), as HuggingFace transformers' `BertModel`,
//! `BertForMaskedLM` and `BertForSequenceClassification` compute it (models.md §4).
//!
//! Paper: Devlin et al., "BERT" (2019), <https://arxiv.org/abs/1810.04805>. Upstream:
//! transformers `src/transformers/models/bert/modeling_bert.py`. Names are the HuggingFace
//! state-dict keys (`bert.encoder.layer.N.attention.self.query.weight`, ...).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::{Dims, Task};
use crate::error::{Error, Result};
use crate::layers::activation::Activation;
use crate::layers::attention::{additive, attend, attend_all, key_mask, merge_heads, split_qkv};
use crate::layers::bert_head::BertHead;
use crate::layers::linear::Linear;
use crate::layers::norm::{Norm, NormKind};
use crate::layers::params::{Init, ParamSource};

/// `BertConfig`: the keys of a BERT `config.json` that shape the forward pass. Defaults are
/// bert-base-uncased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Hidden size.
    pub hidden_size: i64,
    /// Encoder layers.
    pub num_hidden_layers: i64,
    /// Attention heads.
    pub num_attention_heads: i64,
    /// Feed-forward width.
    pub intermediate_size: i64,
    /// Feed-forward activation.
    pub hidden_act: String,
    /// Learned positions (the longest sequence).
    pub max_position_embeddings: i64,
    /// Token types.
    pub type_vocab_size: i64,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Padding token id.
    pub pad_token_id: i64,
    /// Dropout (no effect at inference; accepted for compatibility).
    pub hidden_dropout_prob: f64,
    /// Attention dropout (no effect at inference).
    pub attention_probs_dropout_prob: f64,
    /// Initialiser range (random weights use 0.02 regardless).
    pub initializer_range: f64,
    /// Only `absolute` is supported.
    pub position_embedding_type: String,
}

impl Default for BertConfig {
    fn default() -> Self {
        Self {
            vocab_size: 30522,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            initializer_range: 0.02,
            position_embedding_type: "absolute".into(),
        }
    }
}

impl BertConfig {
    /// Checks combinations that cannot work.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key.
    pub fn validate(&self) -> Result<()> {
        super::flex_bert::check_sizes(
            self.hidden_size,
            self.num_attention_heads,
            self.num_hidden_layers,
        )?;
        Activation::parse("hidden_act", &self.hidden_act)?;
        if self.position_embedding_type != "absolute" {
            return Err(Error::Config(format!(
                "position_embedding_type: '{}' is not supported; expected absolute",
                self.position_embedding_type
            )));
        }
        Ok(())
    }
}

// upstream: modeling_bert.py BertLayer (self-attention, output, intermediate, output)
struct BertLayer {
    /// Query, key and value fused into one `[3H, H]` product (outputs q | k | v).
    qkv: Linear,
    attention_output: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

/// A built BERT model.
pub struct Bert {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    token_type_embeddings: Tensor,
    embedding_norm: Norm,
    layers: Vec<BertLayer>,
    head: BertHead,
    act: Activation,
    heads: i64,
    dims: Dims,
}

impl Bert {
    /// Builds the model for `task`, taking every parameter from `params`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration.
    pub fn new(config: &BertConfig, task: Task, params: &mut dyn ParamSource) -> Result<Self> {
        config.validate()?;
        let h = config.hidden_size;
        let norm = NormKind::LayerNorm {
            eps: config.layer_norm_eps,
            bias: true,
        };
        let emb = |p: &mut dyn ParamSource, name: &str, rows: i64| {
            p.take(
                &format!("bert.embeddings.{name}.weight"),
                &[rows, h],
                Init::Normal(0.02),
            )
        };
        // The MLM decoder is the word table (a file may store only the decoder's name).
        params.tie(
            "bert.embeddings.word_embeddings.weight",
            "cls.predictions.decoder.weight",
        );
        let word_embeddings = emb(params, "word_embeddings", config.vocab_size);
        let position_embeddings = emb(
            params,
            "position_embeddings",
            config.max_position_embeddings,
        );
        let token_type_embeddings = emb(params, "token_type_embeddings", config.type_vocab_size);
        let embedding_norm = Norm::new(params, "bert.embeddings.LayerNorm", h, norm);
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let p = format!("bert.encoder.layer.{i}");
                BertLayer {
                    qkv: Linear::fuse(
                        ["query", "key", "value"]
                            .iter()
                            .map(|name| {
                                Linear::new(
                                    params,
                                    &format!("{p}.attention.self.{name}"),
                                    h,
                                    h,
                                    true,
                                )
                            })
                            .collect(),
                    ),
                    attention_output: Linear::new(
                        params,
                        &format!("{p}.attention.output.dense"),
                        h,
                        h,
                        true,
                    ),
                    attention_norm: Norm::new(
                        params,
                        &format!("{p}.attention.output.LayerNorm"),
                        h,
                        norm,
                    ),
                    intermediate: Linear::new(
                        params,
                        &format!("{p}.intermediate.dense"),
                        h,
                        config.intermediate_size,
                        true,
                    ),
                    output: Linear::new(
                        params,
                        &format!("{p}.output.dense"),
                        config.intermediate_size,
                        h,
                        true,
                    ),
                    output_norm: Norm::new(params, &format!("{p}.output.LayerNorm"), h, norm),
                }
            })
            .collect();
        let head = BertHead::new(
            params,
            task,
            h,
            config.vocab_size,
            norm,
            Activation::parse("hidden_act", &config.hidden_act)?,
        );
        Ok(Self {
            word_embeddings,
            position_embeddings,
            token_type_embeddings,
            embedding_norm,
            layers,
            head,
            act: Activation::parse("hidden_act", &config.hidden_act)?,
            heads: config.num_attention_heads,
            dims: Dims {
                vocab: config.vocab_size,
                hidden: h,
                layers: config.num_hidden_layers,
                heads: config.num_attention_heads,
            },
        })
    }

    /// Shape facts.
    pub fn dims(&self) -> Dims {
        self.dims
    }

    /// FLOPs of one forward pass over `batch` sequences of `seq` tokens (matmuls and attention).
    pub fn flops(&self, batch: i64, seq: i64) -> f64 {
        let tokens = (batch * seq) as f64;
        let per_layer: f64 = self.layers.first().map_or(0.0, |l| {
            [&l.qkv, &l.attention_output, &l.intermediate, &l.output]
                .iter()
                .map(|lin| lin.flops_per_row())
                .sum()
        });
        let attention = 4.0 * (seq * self.dims.hidden) as f64; // QKᵀ and AV per query token
        let head = self
            .head
            .flops(batch, seq, self.dims.hidden, self.dims.vocab);
        self.dims.layers as f64 * tokens * (per_layer + attention) + head
    }

    /// Runs the model on right-padded `input_ids` and `attention_mask` (`[B, S]`, int64).
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Tensor {
        self.forward_with_lengths(input_ids, attention_mask, None)
    }

    /// [`Bert::forward`] with the rows' real-token counts known on the host (`[B]`): whether any
    /// row is padded is then read from them, not from the mask (a device-to-host sync on CUDA).
    pub fn forward_with_lengths(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        lengths: Option<&[i64]>,
    ) -> Tensor {
        let seq = input_ids.size()[1];
        let positions = Tensor::arange(seq, (Kind::Int64, input_ids.device()));
        let mut x = Tensor::embedding(&self.word_embeddings, input_ids, -1, false, false)
            + Tensor::embedding(&self.position_embeddings, &positions, -1, false, false)
            + self.token_type_embeddings.get(0);
        x = self.embedding_norm.forward(&x);
        // Without padding no mask is needed, and libtorch's fused attention kernels run unmasked
        // (transformers makes the same check).
        let padded = match lengths {
            Some(lengths) => lengths.iter().any(|&len| len < seq),
            None => attention_mask.eq(0).any().int64_value(&[]) != 0,
        };
        let mask = padded.then(|| additive(&key_mask(attention_mask), x.kind()));
        for layer in &self.layers {
            let (q, k, v) = split_qkv(&layer.qkv.forward(&x), self.heads);
            let context = merge_heads(&match &mask {
                Some(mask) => attend(&q, &k, &v, mask),
                None => attend_all(&q, &k, &v),
            });
            let attended = layer
                .attention_norm
                .forward(&(layer.attention_output.forward(&context) + &x));
            let inner = self.act.forward(&layer.intermediate.forward(&attended));
            x = layer
                .output_norm
                .forward(&(layer.output.forward(&inner) + &attended));
        }
        self.head.forward(&x, &self.word_embeddings)
    }
}
