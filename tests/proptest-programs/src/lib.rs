//! Property tests over random programs: for each program drawn by the
//! generator, `jacrev == jacfwd`, `J t` == central finite differences,
//! `jvp == J t`, `<ct, J t> == <J^T ct, t>` through `vjp`, `vmap` == a loop
//! of calls (also of `jacrev`), and, for scalar outputs, a symmetric `hessian` equal to finite
//! differences of the gradient.
//!
//! The transforms are attribute macros, so the programs must exist as
//! source before this crate compiles: `build.rs` runs the generator
//! (`generator/`, plain Rust, no dependencies) and writes
//! `$OUT_DIR/programs.rs` (the programs, each with its source text as a
//! `&str`, and the table [`PROGRAMS`]) and `$OUT_DIR/tests.rs` (one
//! `#[test]` per program, included by `tests/properties.rs`). The inputs,
//! tangents and cotangents of each case are drawn by `proptest`.
//!
//! A program is a straight-line body of 3 to 10 operations over one to three
//! `&Tensor<f64>` parameters of small random shapes: elementwise functions
//! (`ln`, `sqrt`, `recip` and `powf` only of positive expressions such as
//! `(x.square() + 1.0)`), `+ - * /` with broadcasting and with scalars,
//! `matmul`/`linear`, reductions, `t`/`transpose`/`reshape`/`unsqueeze`,
//! sometimes a `for` loop carrying a tensor and sometimes a call to a random
//! `#[differentiable]` helper. The generator tracks shapes, so every program
//! is well typed, and bounds on values, so none overflows. Each program
//! carries `#[jacrev] #[jacfwd] #[jvp] #[vjp]` on one random argnum,
//! `#[hessian]` when its output is a scalar, a `#[vmap]` with random
//! `in_dims` and `out_dims`, and a `#[vmap(jacrev)]` with the same `in_dims`.
//!
//! ## Running
//!
//! ```sh
//! cargo test -p transforms-proptest-programs                 # 24 programs, fixed seed
//! TRANSFORMS_PROPTEST_SEED=12345 TRANSFORMS_PROPTEST_N=100 \
//!     cargo test -p transforms-proptest-programs             # other programs, more of them
//! TRANSFORMS_PROPTEST_CASES=32 cargo test -p transforms-proptest-programs   # more inputs each
//! ```
//!
//! The seed is decimal or `0x` hex. Cargo reruns the generator when either
//! variable changes. Program `i` depends only on the seed and `i`, so a
//! failure of `p7` reproduces with the same seed and any `N > 7`; its
//! message prints the program's source, the helpers it may call, the seed
//! and the shrunk input. `TRANSFORMS_PROPTEST_CASES` (default 8) sets the
//! inputs per program; they come from a fixed proptest RNG, so runs repeat.
//!
//! ## Reading the generated programs
//!
//! ```sh
//! TRANSFORMS_PROPTEST_DUMP=/tmp/programs.rs cargo build -p transforms-proptest-programs
//! ```
//!
//! writes a copy of `programs.rs` there (a directory gets `programs.rs`
//! inside). The file itself is `target/debug/build/transforms-proptest-programs-*/out/programs.rs`.

use transforms::Tensor;

pub type T64 = Tensor<f64>;

/// One generated program and its transforms, with uniform signatures: `a`
/// holds the arguments, one tensor per parameter.
pub struct Program {
    pub index: usize,
    pub name: &'static str,
    /// The attributes and the function, as generated.
    pub source: &'static str,
    /// Whether the body calls a `#[differentiable]` helper.
    pub calls_helpers: bool,
    pub has_loop: bool,
    pub shapes: &'static [&'static [usize]],
    /// The parameter the derivative transforms differentiate.
    pub argnum: usize,
    pub out_shape: &'static [usize],
    /// `in_dims` / `out_dims` of the `#[vmap]` variant.
    pub in_dims: &'static [Option<usize>],
    pub out_dim: usize,
    pub f: fn(&[T64]) -> T64,
    pub jacrev: fn(&[T64]) -> T64,
    pub jacfwd: fn(&[T64]) -> T64,
    /// `(a, tangent of a[argnum])` -> `(output, output tangent)`.
    pub jvp: fn(&[T64], &T64) -> (T64, T64),
    /// `(a, output cotangent)` -> `(output, cotangent of a[argnum])`.
    pub vjp: fn(&[T64], &T64) -> (T64, T64),
    pub vmap: fn(&[T64]) -> T64,
    /// `#[vmap(jacrev(argnums = k), in_dims = ..)]` (out_dims 0).
    pub vmap_jacrev: fn(&[T64]) -> T64,
    /// Only for scalar outputs.
    pub hessian: Option<fn(&[T64]) -> T64>,
}

/// The generated programs (`$OUT_DIR/programs.rs`).
#[allow(unused, clippy::all)]
pub mod generated {
    use super::{Program, T64};
    use transforms::prelude::*;

    include!(concat!(env!("OUT_DIR"), "/programs.rs"));
}

pub use generated::{HELPERS_SOURCE, PROGRAMS, SEED};

/// The generator `build.rs` runs, here for its own tests.
#[doc(hidden)]
#[allow(dead_code)]
#[path = "../generator/mod.rs"]
pub mod generator;
