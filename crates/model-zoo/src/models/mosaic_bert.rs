//! MosaicBERT (`model_type: mosaic_bert`): BERT with ALiBi instead of position embeddings, a fused
//! QKV projection with bias, a gated (GLU) feed-forward block with post-norm (models.md §3).
//!
//! LayerNorm epsilon as upstream's `bert_layers.py` (mosaicml/examples): the embedding,
//! attention-output and MLP norms use `layer_norm_eps` (default 1e-12, BERT's), the MLM head's
//! `BertPredictionHeadTransform` norm is always 1e-12. models.md §3 says 1e-5; see docs/models.md.
//!
//! Paper: Portes et al., "MosaicBERT" (2023), <https://arxiv.org/abs/2312.17482>. Upstream:
//! mosaicml/examples `bert/src/bert_layers.py`, and the ModernBERT repository's
//! `src/bert_layers/mosaic_layers`. Names are its training names
//! (`bert.encoder.layer.N.attention.self.Wqkv.weight`, ...).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::{Dims, Task};
use crate::error::Result;
use crate::layers::activation::Activation;
use crate::layers::attention::{attend, merge_heads, split_qkv};
use crate::layers::bert_head::BertHead;
use crate::layers::linear::Linear;
use crate::layers::norm::{Norm, NormKind};
use crate::layers::params::{Init, ParamSource};
use crate::layers::unpad::RealTokens;

/// The MosaicBERT configuration keys that shape the forward pass. Defaults are MosaicBERT-base:
/// BERT-base sizes, intermediate 3072, vocabulary 30528 (30522 rounded up to a multiple of 8),
/// LayerNorm eps 1e-12.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MosaicBertConfig {
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Hidden size.
    pub hidden_size: i64,
    /// Encoder layers.
    pub num_hidden_layers: i64,
    /// Attention heads (ALiBi slopes follow the count).
    pub num_attention_heads: i64,
    /// GLU width I: `gated_layers` is `[2I, H]`.
    pub intermediate_size: i64,
    /// GLU activation.
    pub hidden_act: String,
    /// Token types (all inputs use type 0).
    pub type_vocab_size: i64,
    /// Epsilon of the embedding, attention-output and MLP LayerNorms (upstream's default is
    /// BERT's 1e-12). The MLM head's norm ignores it: upstream hard-codes 1e-12 there.
    pub layer_norm_eps: f64,
    /// Padding token id.
    pub pad_token_id: i64,
    /// ALiBi table size built up front (longer inputs extend it); no effect on results.
    pub alibi_starting_size: i64,
    /// Only `layernorm` is supported.
    pub normalization: String,
    /// MLM head activation.
    pub head_pred_act: String,
    /// Unused by the maths; accepted because BERT configs carry it.
    pub max_position_embeddings: i64,
    /// Dropout (no effect at inference).
    pub hidden_dropout_prob: f64,
    /// Attention dropout (no effect at inference).
    pub attention_probs_dropout_prob: f64,
}

impl Default for MosaicBertConfig {
    fn default() -> Self {
        Self {
            vocab_size: 30528,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            alibi_starting_size: 512,
            normalization: "layernorm".into(),
            head_pred_act: "gelu".into(),
            max_position_embeddings: 512,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.0,
        }
    }
}

impl MosaicBertConfig {
    /// Checks combinations that cannot work.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming the key.
    pub fn validate(&self) -> Result<()> {
        super::flex_bert::check_sizes(
            self.hidden_size,
            self.num_attention_heads,
            self.num_hidden_layers,
        )?;
        Activation::parse("hidden_act", &self.hidden_act)?;
        Activation::parse("head_pred_act", &self.head_pred_act)?;
        if self.normalization != "layernorm" {
            return Err(crate::Error::Config(format!(
                "normalization: '{}' is not supported by mosaic_bert; expected layernorm",
                self.normalization
            )));
        }
        Ok(())
    }
}

/// ALiBi slopes for `heads` heads: `2^(−8(h+1)/n)` for a power of two; otherwise the slopes of the
/// nearest lower power of two followed by every other slope of twice that power.
pub fn alibi_slopes(heads: i64) -> Vec<f64> {
    fn power_of_two(n: i64) -> Vec<f64> {
        (0..n)
            .map(|h| 2f64.powf(-8.0 * (h + 1) as f64 / n as f64))
            .collect()
    }
    let lower = 1i64 << (63 - heads.leading_zeros() as i64);
    if lower == heads {
        return power_of_two(heads);
    }
    let mut slopes = power_of_two(lower);
    slopes.extend(
        power_of_two(2 * lower)
            .into_iter()
            .step_by(2)
            .take((heads - lower) as usize),
    );
    slopes
}

/// The epsilon of the MLM head's LayerNorm, whatever `layer_norm_eps` says: upstream's
/// `BertPredictionHeadTransform` builds `torch.nn.LayerNorm(config.hidden_size, eps=1e-12)`.
pub const HEAD_LAYER_NORM_EPS: f64 = 1e-12;

struct MosaicLayer {
    wqkv: Linear,
    attention_output: Linear,
    attention_norm: Norm,
    gated_layers: Linear,
    wo: Linear,
    layernorm: Norm,
}

/// A built MosaicBERT model.
pub struct MosaicBert {
    word_embeddings: Tensor,
    token_type_embeddings: Tensor,
    embedding_norm: Norm,
    layers: Vec<MosaicLayer>,
    head: BertHead,
    act: Activation,
    slopes: Tensor,
    intermediate: i64,
    dims: Dims,
}

impl MosaicBert {
    /// Builds the model for `task`, taking every parameter from `params`.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for an invalid configuration.
    pub fn new(
        config: &MosaicBertConfig,
        task: Task,
        params: &mut dyn ParamSource,
    ) -> Result<Self> {
        config.validate()?;
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let norm = NormKind::LayerNorm {
            eps: config.layer_norm_eps,
            bias: true,
        };
        // The MLM decoder is the word table (a file may store only the decoder's name).
        params.tie(
            "bert.embeddings.word_embeddings.weight",
            "cls.predictions.decoder.weight",
        );
        let word_embeddings = params.take(
            "bert.embeddings.word_embeddings.weight",
            &[config.vocab_size, h],
            Init::Normal(0.02),
        );
        let token_type_embeddings = params.take(
            "bert.embeddings.token_type_embeddings.weight",
            &[config.type_vocab_size, h],
            Init::Normal(0.02),
        );
        let embedding_norm = Norm::new(params, "bert.embeddings.LayerNorm", h, norm);
        let layers = (0..config.num_hidden_layers)
            .map(|l| {
                let p = format!("bert.encoder.layer.{l}");
                MosaicLayer {
                    wqkv: Linear::new(params, &format!("{p}.attention.self.Wqkv"), h, 3 * h, true),
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
                    gated_layers: Linear::new(
                        params,
                        &format!("{p}.mlp.gated_layers"),
                        h,
                        2 * i,
                        false,
                    ),
                    wo: Linear::new(params, &format!("{p}.mlp.wo"), i, h, true),
                    layernorm: Norm::new(params, &format!("{p}.mlp.layernorm"), h, norm),
                }
            })
            .collect();
        let head = BertHead::new(
            params,
            task,
            h,
            config.vocab_size,
            NormKind::LayerNorm {
                eps: HEAD_LAYER_NORM_EPS,
                bias: true,
            },
            Activation::parse("head_pred_act", &config.head_pred_act)?,
        );
        let slopes =
            Tensor::from_slice(&alibi_slopes(config.num_attention_heads)).to_kind(Kind::Float);
        Ok(Self {
            slopes: slopes.to_device(word_embeddings.device()),
            word_embeddings,
            token_type_embeddings,
            embedding_norm,
            layers,
            head,
            act: Activation::parse("hidden_act", &config.hidden_act)?,
            intermediate: i,
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

    /// FLOPs of one forward pass over `batch` sequences of `seq` tokens.
    pub fn flops(&self, batch: i64, seq: i64) -> f64 {
        let tokens = (batch * seq) as f64;
        let per_layer: f64 = self.layers.first().map_or(0.0, |l| {
            [&l.wqkv, &l.attention_output, &l.gated_layers, &l.wo]
                .iter()
                .map(|lin| lin.flops_per_row())
                .sum()
        });
        let attention = 4.0 * (seq * self.dims.hidden) as f64;
        let head = self
            .head
            .flops(batch, seq, self.dims.hidden, self.dims.vocab);
        self.dims.layers as f64 * tokens * (per_layer + attention) + head
    }

    /// Runs the model on right-padded `input_ids` and `attention_mask` (`[B, S]`, int64), unpadded
    /// as upstream MosaicBERT runs: embeddings, projections, MLPs and norms on the real tokens
    /// only, attention per sequence with its ALiBi bias and no padding keys. Pad positions of MLM
    /// logits and embeddings are zero.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Tensor {
        self.forward_with_lengths(input_ids, attention_mask, None)
    }

    /// [`MosaicBert::forward`] with the rows' real-token counts known on the host (`[B]`), which
    /// spares a device-to-host copy of them.
    pub fn forward_with_lengths(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        lengths: Option<&[i64]>,
    ) -> Tensor {
        let device = input_ids.device();
        let tokens = RealTokens::new(attention_mask, lengths);
        let ids = tokens.gather(input_ids);
        let mut x = Tensor::embedding(&self.word_embeddings, &ids, -1, false, false)
            + self.token_type_embeddings.get(0);
        x = self.embedding_norm.forward(&x);
        let kind = x.kind();
        let lengths = &tokens.lengths;
        let longest = tokens.longest();
        // −slope·|i − j| for the longest row; shorter rows take its top-left corner.
        let alibi = self.alibi(longest, device).to_kind(kind);
        let (heads, hidden) = (self.dims.heads, self.dims.hidden);
        for layer in &self.layers {
            let qkv = layer.wqkv.forward(&x);
            let mut start = 0;
            let mut outputs = Vec::with_capacity(lengths.len());
            for &len in lengths.iter().filter(|&&len| len > 0) {
                let (q, k, v) = split_qkv(&qkv.narrow(0, start, len).unsqueeze(0), heads);
                start += len;
                let bias = alibi.narrow(2, 0, len).narrow(3, 0, len);
                outputs.push(merge_heads(&attend(&q, &k, &v, &bias)).view([len, hidden]));
            }
            let context = Tensor::cat(&outputs, 0);
            x = self.mlp(layer, &x, &context);
        }
        match &self.head {
            // The pooler reads each row's first token.
            BertHead::Classification { .. } => self
                .head
                .forward(&tokens.firsts(&x).unsqueeze(1), &self.word_embeddings),
            _ => tokens.repad(&self.head.forward(&x, &self.word_embeddings)),
        }
    }

    /// The padded path (every position, with ALiBi plus −10000 on padding keys as upstream's
    /// padded attention): the reference the unpadded [`MosaicBert::forward`] is checked against.
    pub fn forward_padded(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Tensor {
        let seq = input_ids.size()[1];
        let device = input_ids.device();
        let mut x = Tensor::embedding(&self.word_embeddings, input_ids, -1, false, false)
            + self.token_type_embeddings.get(0);
        x = self.embedding_norm.forward(&x);
        let kind = x.kind();
        let pad: Tensor = (attention_mask.to_kind(Kind::Float) - 1.0) * 10000.0;
        let bias = (self.alibi(seq, device) + pad.unsqueeze(1).unsqueeze(1)).to_kind(kind);
        for layer in &self.layers {
            let (q, k, v) = split_qkv(&layer.wqkv.forward(&x), self.dims.heads);
            let context = merge_heads(&attend(&q, &k, &v, &bias));
            x = self.mlp(layer, &x, &context);
        }
        self.head.forward(&x, &self.word_embeddings)
    }

    /// ALiBi bias `[1, heads, seq, seq]`: −slope·|i − j|, fp32.
    fn alibi(&self, seq: i64, device: tch::Device) -> Tensor {
        let pos = Tensor::arange(seq, (Kind::Int64, device));
        let distance = (pos.unsqueeze(1) - pos.unsqueeze(0))
            .abs()
            .to_kind(Kind::Float);
        (-self.slopes.view([-1, 1, 1]) * distance.unsqueeze(0)).unsqueeze(0)
    }

    /// The rest of a layer after attention: output projection, post-norm, gated MLP, post-norm.
    /// Works on `[B, S, H]` and on `[T, H]`.
    fn mlp(&self, layer: &MosaicLayer, x: &Tensor, context: &Tensor) -> Tensor {
        let attended = layer
            .attention_norm
            .forward(&(layer.attention_output.forward(context) + x));
        let gated = layer.gated_layers.forward(&attended);
        let (first, gate) = (
            gated.narrow(-1, 0, self.intermediate),
            gated.narrow(-1, self.intermediate, self.intermediate),
        );
        let mlp = layer.wo.forward(&(self.act.forward(&first) * gate));
        layer.layernorm.forward(&(mlp + &attended))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alibi_slopes_match_models_md() {
        // models.md §3 lists 0.7071 for the ninth head: 1/√2.
        const R: f64 = std::f64::consts::FRAC_1_SQRT_2;
        let slopes = alibi_slopes(12);
        let expected = [
            0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625, R, 0.3536, 0.1768,
            0.0884,
        ];
        for (got, want) in slopes.iter().zip(expected) {
            assert!((got - want).abs() < 1e-4, "{slopes:?}");
        }
        assert_eq!(
            alibi_slopes(8),
            (1..=8).map(|h| 2f64.powi(-h)).collect::<Vec<_>>()
        );
    }
}
