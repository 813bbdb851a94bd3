use model_zoo::{BuildOptions, ModelEntry, build};

fn params(model_type: &str, name: &str, task: &str) -> u64 {
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "x", "model_type": model_type, "task_type": task, "pretrained_model_name": name
    }))
    .unwrap();
    build(&entry, &BuildOptions::default())
        .unwrap()
        .num_parameters()
}

/// Parameter counts that transformers reports (`sum(p.numel() for p in model.parameters())`,
/// tied weights once) for the released architectures.
#[test]
fn preset_parameter_counts_match_transformers() {
    // BertForSequenceClassification(bert-base-uncased, num_labels=2): 109,483,778.
    assert_eq!(
        params("hf_bert", "bert-base-uncased", "classification"),
        109_483_778
    );
    // BertForMaskedLM(bert-base-uncased): 109,514,298.
    assert_eq!(params("hf_bert", "bert-base-uncased", "mlm"), 109_514_298);
    // ModernBertForMaskedLM(ModernBERT-base): 149,655,232 (models.md §1.8: ≈149.6 M).
    assert_eq!(
        params("modern_bert", "answerdotai/ModernBERT-base", "mlm"),
        149_655_232
    );
    // The FlexBERT form of the same architecture has the same tensors.
    assert_eq!(
        params("flex_bert", "answerdotai/ModernBERT-base", "mlm"),
        149_655_232
    );
}

#[test]
fn flex_bert_with_empty_config_runs_every_task() {
    for (task, want) in [
        ("classification", vec![2, 2]),
        ("mlm", vec![2, 5, 30528]),
        ("embedding", vec![2, 5, 64]),
    ] {
        let entry: ModelEntry = serde_json::from_value(serde_json::json!({
            "name": "x", "model_type": "flex_bert", "task_type": task,
            "model_config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 96}
        }))
        .unwrap();
        let model = build(&entry, &BuildOptions::default()).unwrap();
        let ids =
            model_zoo::tch::Tensor::from_slice(&[1i64, 7, 9, 11, 2, 1, 7, 2, 0, 0]).view([2, 5]);
        let mask = ids.ne(0).to_kind(model_zoo::tch::Kind::Int64);
        assert_eq!(model.forward(&ids, &mask).unwrap().size(), want, "{task}");
    }
}

#[test]
fn same_seed_same_weights_and_dtypes_run() {
    use model_zoo::tch::{Kind, Tensor};
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "x", "model_type": "modern_bert", "task_type": "classification",
        "model_config": {"hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 4,
                         "intermediate_size": 48, "vocab_size": 64, "local_attention": 4}
    }))
    .unwrap();
    let ids = Tensor::from_slice(&[1i64, 5, 6, 7, 8, 9, 10, 2]).view([1, 8]);
    let mask = ids.ones_like();
    let run = |seed: u64, kind: Kind| {
        let options = BuildOptions {
            seed,
            kind,
            ..BuildOptions::default()
        };
        build(&entry, &options)
            .unwrap()
            .forward(&ids, &mask)
            .unwrap()
            .to_kind(Kind::Float)
    };
    let a = run(7, Kind::Float);
    let again = run(7, Kind::Float);
    let repeat_diff = (&a - &again).abs().max().double_value(&[]);
    assert!(a.equal(&again), "same seed differs by {repeat_diff}");
    assert!(!a.equal(&run(8, Kind::Float)));
    // Half precision keeps about 3 significant digits, bfloat16 about 2: the outputs must agree
    // with fp32 to a few percent of their size.
    for (kind, tolerance) in [(Kind::Half, 0.02), (Kind::BFloat16, 0.1)] {
        let low = run(7, kind);
        let relative = (&low - &a).norm().double_value(&[]) / a.norm().double_value(&[]);
        assert!(
            relative < tolerance,
            "{kind:?} differs from fp32 by {relative:.4} relative"
        );
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    use model_zoo::tch::{Kind, Tensor};
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "x", "model_type": "hf_bert",
        "model_config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                         "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 8}
    }))
    .unwrap();
    let model = build(&entry, &BuildOptions::default()).unwrap();
    let ids = Tensor::from_slice(&[1i64, 2, 3]).view([1, 3]);
    let err = model
        .forward(
            &ids,
            &Tensor::ones([1, 4], (Kind::Int64, model_zoo::tch::Device::Cpu)),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("must both be [batch, sequence]"),
        "{err}"
    );
    let err = model
        .forward(
            &ids.to_kind(Kind::Float),
            &ids.ones_like().to_kind(Kind::Float),
        )
        .unwrap_err();
    assert!(err.to_string().contains("input_ids must be int64"), "{err}");
    let left_padded = Tensor::from_slice(&[0i64, 1, 1]).view([1, 3]);
    let err = model.forward(&ids, &left_padded).unwrap_err();
    assert!(err.to_string().contains("must be right-padded"), "{err}");
    let long = Tensor::ones([1, 9], (Kind::Int64, model_zoo::tch::Device::Cpu));
    let err = model.forward(&long, &long).unwrap_err();
    assert!(
        err.to_string()
            .contains("exceeds the model's max_position_embeddings 8"),
        "{err}"
    );
    let big = Tensor::from_slice(&[1i64, 50]).view([1, 2]);
    let err = model.forward(&big, &big.ones_like()).unwrap_err();
    assert!(
        err.to_string().contains("outside the vocabulary 0..50"),
        "{err}"
    );
}

/// The analytic FLOP count of BERT-base at batch 1 x 128, computed by hand: per token and layer,
/// 2·(4·768² + 2·768·3072) for the projections and 4·128·768 for attention's two products; 12
/// layers and 128 tokens; then the pooler (2·768²) and classifier (2·768·2) once.
#[test]
fn bert_base_flops_match_the_hand_count() {
    let entry: ModelEntry =
        serde_json::from_value(serde_json::json!({"name": "x", "model_type": "hf_bert"})).unwrap();
    let model = build(&entry, &BuildOptions::default()).unwrap();
    let per_token_layer = 2 * (4 * 768 * 768 + 2 * 768 * 3072) + 4 * 128 * 768;
    let expected = 12 * 128 * per_token_layer + 2 * 768 * 768 + 2 * 768 * 2;
    assert_eq!(expected, 22_348_434_432u64);
    assert_eq!(model.flops(1, 128), Some(expected as f64));
}
