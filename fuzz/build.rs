//! Links libtorch into the fuzz binaries as into the workspace's own (rpath to libtorch's folder,
//! `libtorch_cuda.so` kept), sharing the workspace's build script code: cargo passes
//! `rustc-link-arg` only to the package whose build script printed it.

include!("../build-support/libtorch_link.rs");

fn main() {
    link_libtorch();
}
