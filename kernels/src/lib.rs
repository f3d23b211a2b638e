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
//! Element types implement [`Element`] (only `f32` and `f64` do).

#![warn(missing_docs)]

pub mod cpu;
mod element;

pub use element::Element;
