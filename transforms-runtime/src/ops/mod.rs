//! The ops the generated code calls.
//!
//! Every op takes its tensors by reference and returns a new owned
//! [`Tensor`](crate::Tensor). Ops with an `nb: usize` argument treat the first
//! `nb` dims of every tensor argument as batch dims (see the crate docs);
//! elementwise unary ops need no `nb`. Dims given as `isize` index the
//! per-example part and may be negative.

mod binary;
mod broadcast;
mod chunks;
mod constants;
mod dense_hess;
mod dense_jac;
mod diag;
mod diag_last;
mod diag_right;
mod diag_ta;
mod matmul;
mod reduce;
mod rows;
mod shape_ops;
pub(crate) mod slices;
mod stacks;
mod unary;

pub use binary::{add, div, ge, gt, le, lt, maximum, minimum, mul, sub};
pub use broadcast::{assert_batch, broadcast_like, expand_dim0_like, sum_to_like};
pub use chunks::{basis_rows, chunk_batch_len, chunk_rows, concat_chunks, total_numel};
pub use constants::{basis, grad_seed, zeros_like};
pub use dense_hess::{DenseHess, dense_hess};
pub use dense_jac::{dense_jac, dense_jac_fwd};
pub use diag::{diag, diag_matmul, diag_t};
pub use diag_last::{DiagMm, diag_matmul_map_last};
pub use diag_right::{diag_matmul_right, diag_matmul_tb};
pub use diag_ta::{DiagTa, diag_matmul_ta, diag_matmul_ta_map, diag_matmul_ta_swapped};
pub use matmul::{matmul, matmul_t, matmul_ta, matmul_tb};
pub use reduce::{mean, mean_t, sum, sum_t};
pub use rows::{add_rows, batch_rows, diag_rows, rows_of};
pub use shape_ops::{
    flatten_like, movedim, reshape, reshape_like, squeeze, t, transpose, unflatten_like, unsqueeze,
};
pub use slices::{amax, cat, cat_slice, index_add_like, index_select, max_shift, narrow, pad_like};
pub use stacks::{check_carry, stack_all, stack_index};
pub use unary::{
    abs, add_scalar, clamp, cos, exp, exp2, ge_scalar, gt_scalar, heaviside, in_range, le_scalar,
    ln, log1p, lt_scalar, mul_scalar, neg, nonzero, powf, recip, relu, sigmoid, sign, sin, sqrt,
    square, tanh,
};

pub use crate::fused::{
    fused1, fused1_reusing, fused1_src, fused2, fused2_reusing, fused2_src, fused3, fused3_reusing,
    fused3_src, where_,
};
pub(crate) use binary::binary;
pub(crate) use matmul::linear_impl;
pub(crate) use unary::map as map_elementwise;
