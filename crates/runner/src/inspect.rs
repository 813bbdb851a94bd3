//! What a plan will measure, without measuring: each model's size and each job's cost (for
//! `--dry-run`).

use model_zoo::{BuildOptions, tch};

use crate::plan::{Plan, PlannedJob};

/// Whether the model takes rows of `seq` tokens (e.g. within BERT's positions), as a run would
/// check its inputs.
fn check_shape(model: &model_zoo::Model, seq: u32) -> Result<(), String> {
    let ids = tch::Tensor::zeros(
        [1, i64::from(seq)],
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
/// shape. Each model is built once, on `device`, with short rotary tables.
pub fn inspect<'p>(
    plan: &'p Plan,
    device: &dyn crate::Device,
) -> Vec<(&'p PlannedJob, Result<JobCost, String>)> {
    let device = device.torch();
    let mut built: Option<(String, Result<model_zoo::Model, String>)> = None;
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
                    model_zoo::build(&job.job.model, &options).map_err(|e| e.to_string()),
                ));
            }
            let cost = match built.as_ref().map(|(_, m)| m) {
                Some(Ok(model)) => check_shape(model, job.job.sequence_length).map(|()| JobCost {
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
