//! ModernBERT `config.json` files with transformers-v5 keys (`layer_types`, `rope_parameters`) and
//! legacy nulls, against transformers' own verdict on the same files (issue 13 item 3;
//! `tests/data/make_config_cases.py` wrote `modernbert_config_cases.json`).

use model_zoo::ModelEntry;
use model_zoo::config::Architecture;

use crate::{data, temp_dir};

fn entry(config: &serde_json::Value, model_config: serde_json::Value) -> ModelEntry {
    let dir = temp_dir("modernbert-config");
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    serde_json::from_value(serde_json::json!({
        "name": "m", "model_type": "modern_bert", "pretrained_model_name": dir,
        "model_config": model_config,
    }))
    .unwrap()
}

#[test]
fn issue_13_modernbert_configs_follow_transformers() {
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("modernbert_config_cases.json")).unwrap(),
    )
    .unwrap();
    for case in cases["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let ours = case["ours"].as_str().unwrap();
        let result = entry(&case["config"], serde_json::json!({})).architecture();
        if ours != "same" {
            let err = result
                .err()
                .unwrap_or_else(|| panic!("{name}: accepted, expected an error naming {ours}"))
                .to_string();
            assert!(err.contains(ours), "{name}: '{err}' does not name {ours}");
            continue;
        }
        // We accept only what transformers accepts, and resolve it the same way.
        assert_eq!(case["transformers"], "ok", "{name}: {case}");
        let Ok(Architecture::Flex(spec)) = result else {
            panic!("{name}: {result:?}")
        };
        let types: Vec<&str> = case["layer_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let global: Vec<bool> = types.iter().map(|t| *t == "full_attention").collect();
        assert_eq!(spec.layer_global, global, "{name}");
        let rope = spec.rope.unwrap();
        let theta = &case["rope_theta"];
        if let Some(t) = theta.get("full_attention") {
            assert_eq!(rope.global_base, t.as_f64().unwrap(), "{name}");
        }
        if let Some(t) = theta.get("sliding_attention") {
            assert_eq!(rope.local_base, t.as_f64().unwrap(), "{name}");
            assert_eq!(
                spec.window_half,
                case["sliding_window"].as_i64(),
                "{name}: half window"
            );
        } else {
            assert_eq!(spec.window_half, None, "{name}");
        }
    }
}

#[test]
fn issue_13_overrides_cannot_contradict_layer_types() {
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("modernbert_config_cases.json")).unwrap(),
    )
    .unwrap();
    let v5 = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "v5_keys_as_saved")
        .unwrap();
    // Fewer layers than layer_types lists: transformers refuses it (validate_layer_type).
    let err = entry(&v5["config"], serde_json::json!({"num_hidden_layers": 2}))
        .architecture()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer_types: 4 entries, but num_hidden_layers is 2"),
        "{err}"
    );
    // With matching layer_types it works.
    let Architecture::Flex(spec) = entry(
        &v5["config"],
        serde_json::json!({"num_hidden_layers": 2, "layer_types": ["sliding_attention", "full_attention"]}),
    )
    .architecture()
    .unwrap() else {
        panic!()
    };
    assert_eq!(spec.layer_global, [false, true]);
    // global_attn_every_n_layers would be ignored (layer_types decides): refused.
    let err = entry(
        &v5["config"],
        serde_json::json!({"global_attn_every_n_layers": 2}),
    )
    .architecture()
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("model_config.global_attn_every_n_layers"),
        "{err}"
    );
    // A bad layer type given as an override is named too.
    let err = entry(
        &v5["config"],
        serde_json::json!({"layer_types": ["full_attention", "local", "full_attention", "full_attention"]}),
    )
    .architecture()
    .unwrap_err()
    .to_string();
    assert!(err.contains("layer_types[1]"), "{err}");
}
