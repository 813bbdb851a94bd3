//! Built-in architecture presets, usable offline: each is the `config.json` of the model it names
//! (the keys that shape the forward pass).
//!
//! - `bert-base-uncased`, `bert-large-uncased`: <https://huggingface.co/bert-base-uncased/blob/main/config.json>
//! - `answerdotai/ModernBERT-base`, `answerdotai/ModernBERT-large`:
//!   <https://huggingface.co/answerdotai/ModernBERT-base/blob/main/config.json> (released
//!   `classifier_pooling: mean`, global theta 160000)
//! - `mosaic-bert-base` (alias `mosaicml/mosaic-bert-base`): MosaicBERT-base, BERT-base sizes with
//!   the repository's defaults (vocabulary 30528, intermediate 3072, and BERT-base's LayerNorm eps
//!   1e-12, which upstream's `bert_layers.py` norms read from the config).

use serde_json::{Value, json};

/// The names of the built-in presets.
pub const PRESET_NAMES: &[&str] = &[
    "bert-base-uncased",
    "bert-large-uncased",
    "answerdotai/ModernBERT-base",
    "answerdotai/ModernBERT-large",
    "mosaic-bert-base",
];

fn bert(hidden: i64, layers: i64, heads: i64, intermediate: i64) -> Value {
    json!({
        "model_type": "bert", "vocab_size": 30522, "hidden_size": hidden, "num_hidden_layers": layers,
        "num_attention_heads": heads, "intermediate_size": intermediate, "hidden_act": "gelu",
        "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "pad_token_id": 0, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "position_embedding_type": "absolute"
    })
}

fn modernbert(hidden: i64, layers: i64, heads: i64, intermediate: i64) -> Value {
    json!({
        "model_type": "modernbert", "vocab_size": 50368, "hidden_size": hidden,
        "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediate,
        "hidden_activation": "gelu", "max_position_embeddings": 8192, "norm_eps": 1e-5,
        "norm_bias": false, "global_rope_theta": 160000.0, "local_rope_theta": 10000.0,
        "local_attention": 128, "global_attn_every_n_layers": 3, "attention_bias": false,
        "mlp_bias": false, "decoder_bias": true, "classifier_pooling": "mean",
        "classifier_bias": false, "classifier_activation": "gelu", "pad_token_id": 50283,
        "bos_token_id": 50281, "eos_token_id": 50282, "cls_token_id": 50281, "sep_token_id": 50282,
        "tie_word_embeddings": true
    })
}

/// The `config.json` of preset `name`, if it is one.
pub fn preset(name: &str) -> Option<Value> {
    Some(match name {
        "bert-base-uncased" => bert(768, 12, 12, 3072),
        "bert-large-uncased" => bert(1024, 24, 16, 4096),
        "answerdotai/ModernBERT-base" => modernbert(768, 22, 12, 1152),
        "answerdotai/ModernBERT-large" => modernbert(1024, 28, 16, 2624),
        "mosaic-bert-base" | "mosaicml/mosaic-bert-base" => json!({
            "model_type": "mosaic_bert", "vocab_size": 30528, "hidden_size": 768,
            "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
            "hidden_act": "gelu", "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0,
            "alibi_starting_size": 512, "max_position_embeddings": 512
        }),
        _ => return None,
    })
}
