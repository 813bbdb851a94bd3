//! Building blocks shared by the architectures.

pub mod activation;
pub mod attention;
pub mod bert_head;
pub mod linear;
pub mod norm;
pub mod params;
pub mod rotary;
pub mod unpad;
