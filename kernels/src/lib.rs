//! Low-level compute kernels for the `transforms` runtime.
//!
//! The runtime keeps every tensor as a contiguous row-major buffer plus a
//! shape; everything that touches the numbers goes through the small API of
//! the [`cpu`] module:
//!
//! * [`cpu::map`] / [`cpu::zip`]: elementwise loops over equally shaped buffers,
//! * [`cpu::copy_strided`] / [`cpu::zip_strided`]: strided gathers used for
//!   broadcasting (stride 0) and permutations (permuted strides),
//! * [`cpu::sum_axes`] / [`cpu::sum_slice`]: reductions,
//! * [`cpu::gemm`] / [`cpu::batched_gemm`]: matrix products backed by the
//!   `matrixmultiply` crate.
//!
//! With the feature `cuda`, the `cuda` module holds the CUDA C
//! sources of the GPU kernels (`kernels/cuda/*.cu`), embedded with
//! `include_str!` and compiled at run time with NVRTC by the runtime.
//!
//! Element types implement [`Element`] (only `f32` and `f64` do).

#![warn(missing_docs)]

pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
mod element;

pub use element::Element;
