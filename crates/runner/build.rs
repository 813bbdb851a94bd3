//! Links libtorch for this crate's tests; see `build-support/libtorch_link.rs`.

include!("../../build-support/libtorch_link.rs");

fn main() {
    link_libtorch();
}
