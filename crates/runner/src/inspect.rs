//! What a plan will measure, without measuring: each model's size and each job's cost (for
//! `--dry-run`), from the architecture alone: no weights are made or read (a
//! [`model_zoo::Blueprint`]), except that a TorchScript module is loaded.

use model_zoo::{BuildOptions, tch};

use crate::plan::{Plan, PlannedJob};

/// Whether the model takes batches of `batch` rows of `seq` tokens (e.g. within BERT's positions,
/// or an AOTInductor package's exported bounds), as a run would check its inputs.
fn check_shape(model: &model_zoo::Blueprint, batch: u32, seq: u32) -> Result<(), String> {
    let ids = tch::Tensor::zeros(
        [i64::from(batch), i64::from(seq)],
        (tch::Kind::Int64, model_zoo::tch::Device::Cpu),
    );
    model
        .check_inputs(&ids, &ids.ones_like())
        .map_err(|e| e.to_string())
}

/// One job's model size and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct JobCost {
    /// Parameters of the model (tied weights once).
    pub num_parameters: u64,
    /// Bytes of the weights at the job's dtype.
    pub weight_bytes: u64,
    /// Floating-point operations of one forward pass; `None` for a TorchScript module.
    pub flops_per_forward: Option<f64>,
}

/// Each job of `plan` with its cost, or the reason its model cannot be built or run at the job's
/// shape. Each model's [`Blueprint`](model_zoo::Blueprint) is made once, with short rotary
/// tables; `device` matters only to a TorchScript module, loaded onto it.
pub fn inspect<'p>(
    plan: &'p Plan,
    device: &dyn crate::Device,
) -> Vec<(&'p PlannedJob, Result<JobCost, String>)> {
    let device = device.torch();
    let mut built: Option<(String, Result<model_zoo::Blueprint, String>)> = None;
    plan.jobs()
        .iter()
        .map(|job| {
            let name = &job.job.model.name;
            if built.as_ref().is_none_or(|(n, _)| n != name) {
                let options = BuildOptions {
                    device,
                    kind: job.job.dtype.kind(),
                    seed: job.job.seed,
                    max_len: 8,
                };
                built = Some((
                    name.clone(),
                    model_zoo::blueprint(&job.job.model, &options).map_err(|e| e.to_string()),
                ));
            }
            let cost = match built.as_ref().map(|(_, m)| m) {
                Some(Ok(model)) => check_shape(model, job.job.batch_size, job.job.sequence_length)
                    .map(|()| JobCost {
                        num_parameters: model.num_parameters(),
                        weight_bytes: model.num_parameters() * job.job.dtype.bytes(),
                        flops_per_forward: model.flops(
                            i64::from(job.job.batch_size),
                            i64::from(job.job.sequence_length),
                        ),
                    }),
                Some(Err(e)) => Err(e.clone()),
                None => Err("not built".to_owned()),
            };
            (job, cost)
        })
        .collect()
}

/// The bytes of a job's weights at its dtype, from the architecture alone (see [`inspect`]).
pub(crate) fn weight_bytes(job: &PlannedJob, device: &dyn crate::Device) -> Result<u64, String> {
    let options = BuildOptions {
        device: device.torch(),
        kind: job.job.dtype.kind(),
        seed: job.job.seed,
        max_len: 8,
    };
    let model = model_zoo::blueprint(&job.job.model, &options).map_err(|e| e.to_string())?;
    Ok(model.num_parameters() * job.job.dtype.bytes())
}

#[cfg(test)]
mod tests {
    use model_zoo::{Dtype, Lengths, ModelEntry};

    use super::*;
    use crate::{CpuDevice, Inputs, Sampling, Settings};

    fn settings(dtype: Dtype, sequence_lengths: Vec<u32>) -> Settings {
        Settings {
            batch_sizes: vec![2],
            sequence_lengths,
            dtype,
            device: "cpu".to_owned(),
            threads: 1,
            inputs: Inputs::Random(Lengths::Full),
            seed: 3,
            include_transfer: false,
            sampling: Sampling::default(),
        }
    }

    #[test]
    fn bert_base_is_costed_without_weights_as_transformers_counts_it() {
        let entry: ModelEntry = serde_json::from_value(serde_json::json!({
            "name": "bert", "model_type": "hf_bert", "task_type": "classification",
            "pretrained_model_name": "bert-base-uncased"
        }))
        .unwrap();
        let plan = Plan::new(&[entry], &settings(Dtype::Bf16, vec![128, 1024]));
        let costs = inspect(&plan, &CpuDevice);
        // BertForSequenceClassification(bert-base-uncased): 109,483,778 parameters.
        let cost = costs[0].1.as_ref().unwrap();
        assert_eq!(cost.num_parameters, 109_483_778);
        assert_eq!(cost.weight_bytes, 2 * 109_483_778);
        // 2 FLOPs per multiply-add: per layer and token the four products (4h² + 2hi weights)
        // and attention's QKᵀ and AV (2 · 2sh); then pooler and classifier per row.
        let (h, i, s, b) = (768.0, 3072.0, 128.0, 2.0);
        let layers = 12.0 * b * s * (2.0 * (4.0 * h * h + 2.0 * h * i) + 4.0 * s * h);
        let head = b * 2.0 * (h * h + h * 2.0);
        assert_eq!(cost.flops_per_forward, Some(layers + head));
        // 1024 tokens exceed BERT's 512 positions, as a run would find.
        let err = costs[1].1.as_ref().unwrap_err();
        assert!(err.contains("max_position_embeddings 512"), "{err}");
    }

    #[test]
    fn costs_equal_the_built_models() {
        let entry: ModelEntry = serde_json::from_value(serde_json::json!({
            "name": "tiny", "model_type": "mosaic_bert", "task_type": "mlm",
            "model_config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                             "intermediate_size": 64, "vocab_size": 128}
        }))
        .unwrap();
        let model = model_zoo::build(&entry, &BuildOptions::default()).unwrap();
        let plan = Plan::new(&[entry], &settings(Dtype::Fp32, vec![16]));
        let cost = inspect(&plan, &CpuDevice)[0].1.clone().unwrap();
        assert_eq!(
            cost,
            JobCost {
                num_parameters: model.num_parameters(),
                weight_bytes: 4 * model.num_parameters(),
                flops_per_forward: model.flops(2, 16),
            }
        );
    }
}
