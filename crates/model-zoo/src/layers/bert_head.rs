//! The BERT-style heads that `hf_bert` and `mosaic_bert` share: a tanh pooler and classifier, or
//! the MLM transform (dense → activation → LayerNorm) with a decoder tied to the word embeddings.

use tch::Tensor;

use super::activation::Activation;
use super::linear::Linear;
use super::norm::{Norm, NormKind};
use super::params::{Init, ParamSource};
use crate::models::Task;

/// A BERT-style head.
pub enum BertHead {
    /// `classifier(tanh(pooler(h[:, 0])))`.
    Classification {
        /// `bert.pooler.dense`.
        pooler: Linear,
        /// `classifier`.
        classifier: Linear,
    },
    /// `norm(act(dense(h))) · Eᵀ + bias`, E the word embeddings.
    Mlm {
        /// `cls.predictions.transform.dense`.
        dense: Linear,
        /// `cls.predictions.transform.LayerNorm`.
        norm: Norm,
        /// The transform's activation.
        act: Activation,
        /// `cls.predictions.bias` (or `cls.predictions.decoder.bias`).
        bias: Tensor,
    },
    /// No head: the last hidden state.
    Embedding,
}

impl BertHead {
    /// Takes the head of `task` from `params`, with HuggingFace BERT's names.
    pub fn new(
        params: &mut dyn ParamSource,
        task: Task,
        hidden: i64,
        vocab: i64,
        norm: NormKind,
        act: Activation,
    ) -> Self {
        if !matches!(task, Task::Classification { .. }) {
            params.allow_unused("bert.pooler.dense.weight");
            params.allow_unused("bert.pooler.dense.bias");
        }
        match task {
            Task::Classification { num_labels } => Self::Classification {
                pooler: Linear::new(params, "bert.pooler.dense", hidden, hidden, true),
                classifier: Linear::new(params, "classifier", hidden, num_labels, true),
            },
            Task::Mlm => {
                params.allow_unused("cls.predictions.decoder.weight");
                Self::Mlm {
                    dense: Linear::new(
                        params,
                        "cls.predictions.transform.dense",
                        hidden,
                        hidden,
                        true,
                    ),
                    norm: Norm::new(params, "cls.predictions.transform.LayerNorm", hidden, norm),
                    act,
                    bias: params.take("cls.predictions.bias", &[vocab], Init::Zeros),
                }
            }
            Task::Embedding => Self::Embedding,
        }
    }

    /// Applies the head to the encoder output `x: [B, S, H]`.
    pub fn forward(&self, x: &Tensor, word_embeddings: &Tensor) -> Tensor {
        match self {
            Self::Classification { pooler, classifier } => {
                classifier.forward(&pooler.forward(&x.select(1, 0)).tanh())
            }
            Self::Mlm {
                dense,
                norm,
                act,
                bias,
            } => norm
                .forward(&act.forward(&dense.forward(x)))
                .linear(word_embeddings, Some(bias)),
            Self::Embedding => x.shallow_clone(),
        }
    }

    /// FLOPs of the head for `batch × seq` tokens (the MLM decoder is `[vocab, hidden]`).
    pub fn flops(&self, batch: i64, seq: i64, hidden: i64, vocab: i64) -> f64 {
        match self {
            Self::Classification { pooler, classifier } => {
                batch as f64 * (pooler.flops_per_row() + classifier.flops_per_row())
            }
            Self::Mlm { dense, .. } => {
                (batch * seq) as f64 * (dense.flops_per_row() + 2.0 * (hidden * vocab) as f64)
            }
            Self::Embedding => 0.0,
        }
    }
}
