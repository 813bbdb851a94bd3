//! Links libtorch for this crate's tests and examples; see `build-support/libtorch_link.rs`.

include!("../../build-support/libtorch_link.rs");

fn main() {
    link_libtorch();
}
