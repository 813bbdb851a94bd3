//! `latency-analysis`: measures the inference latency of BERT-family encoders.
fn main() {
    let info = model_zoo::LibtorchInfo::detect();
    println!("{info:?}");
}
