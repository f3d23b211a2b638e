//! The CUDA implementations behind the runtime ops: each takes tensors
//! already checked to be on CUDA device `ord` and returns a tensor there.
//! Shape checks stay in the ops themselves (shared with the CPU path) or
//! use the same helpers, so errors read the same on every device.

use cudarc::cublas::safe::{GemmConfig, StridedBatchedConfig};
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::driver::CudaSlice;
use transforms_kernels::cpu::{shared_by_batch, stacked_rows};
use transforms_kernels::cuda::{BROADCAST, ELEMENTWISE};

use super::{backend_of, cuda_fail};
use crate::float::Float;
use crate::shape::{
    Shape, aligned, broadcast_left, broadcast_right, broadcast_strides, fail, split,
};
use crate::tensor::Tensor;

pub(super) fn buf<T: Float>(t: &Tensor<T>) -> &CudaSlice<T> {
    t.cuda.as_ref().expect("checked to be a CUDA tensor").buf()
}

/// `unary_<name>`: `y = t_<name>(x)` elementwise.
pub(crate) fn unary<T: Float>(name: &str, ord: usize, x: &Tensor<T>) -> Tensor<T> {
    let b = backend_of(name, ord);
    let f = b.function(name, ELEMENTWISE, &format!("unary_{name}_{}", T::SUFFIX));
    let y = b.launch_map(name, &f, buf(x), &[], x.numel());
    b.tensor(x.shape().to_vec(), y)
}

/// `scalar_<name>` (one scalar) or `scalar2_<name>` (two): `y =
/// t_<name>(x, s..)` elementwise.
pub(crate) fn scalar<T: Float>(name: &str, ord: usize, x: &Tensor<T>, s: &[T]) -> Tensor<T> {
    let b = backend_of(name, ord);
    let kind = if s.len() == 2 { "scalar2" } else { "scalar" };
    let f = b.function(name, ELEMENTWISE, &format!("{kind}_{name}_{}", T::SUFFIX));
    let y = b.launch_map(name, &f, buf(x), s, x.numel());
    b.tensor(x.shape().to_vec(), y)
}

/// The broadcast of several operands (batch dims left-aligned, pe parts
/// right-aligned, as the binary ops): the output shape and each operand's
/// stride row.
pub(crate) fn broadcast_plan(
    op: &str,
    shapes: &[&[usize]],
    nb: usize,
) -> (Vec<usize>, Vec<Vec<usize>>) {
    let parts: Vec<(&[usize], &[usize])> =
        shapes.iter().map(|s| split(op, s, nb, shapes)).collect();
    let mut batch = Shape::from_slice(parts[0].0);
    let mut pe = Shape::from_slice(parts[0].1);
    for (bt, p) in &parts[1..] {
        let Some(nbt) = broadcast_left(&batch, bt) else {
            fail!(op, shapes, "batch dims do not broadcast");
        };
        let Some(np) = broadcast_right(&pe, p) else {
            fail!(op, shapes, "shapes do not broadcast");
        };
        batch = nbt;
        pe = np;
    }
    let strides = parts
        .iter()
        .map(|(bt, p)| broadcast_strides(&aligned(bt, p, pe.len())).to_vec())
        .collect();
    ([&batch[..], &pe[..]].concat(), strides)
}

/// The kernel of a broadcasting binary op, by the op's name.
fn binary_kernel(op: &str) -> Option<&'static str> {
    Some(match op {
        "add" | "linear" => "add",
        "sub" => "sub",
        "mul" => "mul",
        "div" => "div",
        "maximum" => "maximum",
        "minimum" => "minimum",
        "gt" => "gt",
        "lt" => "lt",
        "ge" => "ge",
        "le" => "le",
        _ => return None,
    })
}

/// A broadcasting binary op (`add`, ..., `le`); others have no kernel.
pub(crate) fn binary<T: Float>(
    op: &str,
    ord: usize,
    a: &Tensor<T>,
    b: &Tensor<T>,
    nb: usize,
) -> Tensor<T> {
    let Some(kernel) = binary_kernel(op) else {
        crate::device::unsupported(op, crate::Device::Cuda(ord), &[a.shape(), b.shape()]);
    };
    let (out, strides) = broadcast_plan(op, &[a.shape(), b.shape()], nb);
    let be = backend_of(op, ord);
    let f = |sfx: &str| {
        be.function(
            op,
            BROADCAST,
            &format!("binary_{kernel}_{}{sfx}", T::SUFFIX),
        )
    };
    let y = be.launch_strided(op, f, &out, &[(buf(a), &strides[0]), (buf(b), &strides[1])]);
    be.tensor(out, y)
}

/// `y = a * b` over `out`, each operand read through its own element
/// strides (a gather with a scale: the structured Jacobian-seed products as
/// one launch). Panics, before launching, if a stride row reaches outside
/// its operand.
pub(crate) fn strided_mul<T: Float>(
    op: &str,
    ord: usize,
    out: Vec<usize>,
    a: (&Tensor<T>, &[usize]),
    b: (&Tensor<T>, &[usize]),
) -> Tensor<T> {
    for (t, st) in [a, b] {
        let reach: usize = out
            .iter()
            .zip(st)
            .map(|(&d, &s)| d.saturating_sub(1) * s)
            .sum();
        if out.contains(&0) || st.len() != out.len() || reach >= t.numel().max(1) {
            fail!(
                op,
                [t.shape(), &out[..]],
                "a strided read outside its operand"
            );
        }
    }
    let be = backend_of(op, ord);
    let f = |sfx: &str| be.function(op, BROADCAST, &format!("binary_mul_{}{sfx}", T::SUFFIX));
    let y = be.launch_strided(op, f, &out, &[(buf(a.0), a.1), (buf(b.0), b.1)]);
    be.tensor(out, y)
}

/// `torch.where(c != 0, a, b)` with broadcasting.
pub(crate) fn where_<T: Float>(
    ord: usize,
    c: &Tensor<T>,
    a: &Tensor<T>,
    b: &Tensor<T>,
    nb: usize,
) -> Tensor<T> {
    let (out, st) = broadcast_plan("where", &[c.shape(), a.shape(), b.shape()], nb);
    let be = backend_of("where", ord);
    let f = |sfx: &str| be.function("where", BROADCAST, &format!("where_{}{sfx}", T::SUFFIX));
    let inputs = [
        (buf(c), &st[0][..]),
        (buf(a), &st[1][..]),
        (buf(b), &st[2][..]),
    ];
    let y = be.launch_strided("where", f, &out, &inputs);
    be.tensor(out, y)
}

/// A fused elementwise chain given as a CUDA C expression `expr` in `x0..`
/// (see `transforms_kernels::cuda::fused_source`), with broadcasting.
/// Its runtime scalars `sc0, sc1, ..` are `scalars`, kernel arguments after
/// the inputs.
pub(crate) fn fused<T: Float>(
    ord: usize,
    xs: &[&Tensor<T>],
    nb: usize,
    expr: &str,
    scalars: &[T],
) -> Tensor<T> {
    let op = "fused elementwise";
    let shapes: Vec<&[usize]> = xs.iter().map(|t| t.shape()).collect();
    let (out, st) = broadcast_plan(op, &shapes, nb);
    let wanted = transforms_kernels::cuda::fused_scalars(expr);
    if wanted != scalars.len() {
        fail!(
            op,
            shapes,
            "the CUDA chain `{expr}` takes {wanted} scalars, given {}",
            scalars.len()
        );
    }
    let be = backend_of(op, ord);
    let f = |sfx: &str| be.fused_function::<T>(op, xs.len(), expr, sfx);
    let inputs: Vec<(&CudaSlice<T>, &[usize])> =
        xs.iter().zip(&st).map(|(t, s)| (buf(t), &s[..])).collect();
    let y = be.launch_strided_with(op, f, &out, &inputs, scalars);
    be.tensor(out, y)
}

/// `out[i] = x[offset + <index of i, strides>]`: broadcasts, permutations.
pub(crate) fn copy_strided<T: Float>(
    op: &str,
    x: &Tensor<T>,
    out: Vec<usize>,
    strides: &[usize],
    offset: usize,
) -> Tensor<T> {
    let ord = x.cuda.as_ref().expect("a CUDA tensor").ordinal();
    let be = backend_of(op, ord);
    let y = be.launch_copy(op, buf(x), &out, strides, offset);
    be.tensor(out, y)
}

/// Sums `x` over the dims where `mask` is set, giving shape `out`.
pub(crate) fn sum_axes<T: Float>(
    op: &str,
    x: &Tensor<T>,
    mask: &[bool],
    out: Vec<usize>,
) -> Tensor<T> {
    let ord = x.cuda.as_ref().expect("a CUDA tensor").ordinal();
    let be = backend_of(op, ord);
    let y = be.launch_sum(op, buf(x), x.shape(), mask);
    be.tensor(out, y)
}

/// One operand of [`gemm`]: the tensor, the element strides of its outer
/// (batch) dims, and its matrix layout as read (`trans`: stored transposed,
/// `ld`: the stored row length).
pub(crate) struct GemmSide<'a, T: Float> {
    pub t: &'a Tensor<T>,
    pub outer_strides: &'a [usize],
    pub trans: bool,
    pub ld: usize,
}

/// A single stride that walks the outer dims `outer` as `strides` does (0
/// when the operand is broadcast over all of them), if there is one. Dims
/// of size 1 may carry any stride.
fn uniform_stride(outer: &[usize], strides: &[usize]) -> Option<usize> {
    let live: Vec<(usize, usize)> = outer
        .iter()
        .zip(strides)
        .filter(|(d, _)| **d != 1)
        .map(|(&d, &s)| (d, s))
        .collect();
    if live.iter().all(|&(_, s)| s == 0) {
        return Some(0);
    }
    let last = live.last()?.1;
    let mut expect = last;
    for &(d, s) in live.iter().rev() {
        if s != expect {
            return None;
        }
        expect *= d;
    }
    Some(last)
}

/// Batched row-major `C[o] = A[o] @ B[o]` (`m x k` times `k x n`) over the
/// outer dims `outer`, through cuBLAS with the usual transpose trick: a
/// row-major product is the column-major `C^T = B^T A^T`. One strided
/// batched call when each operand walks the batch with one stride, else
/// one call per matrix.
pub(crate) fn gemm<T: Float>(
    op: &str,
    outer: &[usize],
    (m, k, n): (usize, usize, usize),
    a: GemmSide<'_, T>,
    b: GemmSide<'_, T>,
) -> Tensor<T> {
    let ord = a.t.cuda.as_ref().expect("a CUDA tensor").ordinal();
    let be = backend_of(op, ord);
    let count: usize = outer.iter().product();
    let out_shape = [outer, &[m, n]].concat();
    if count * m * n == 0 || k == 0 {
        return be.tensor(out_shape, be.zeros::<T>(op, count * m * n));
    }
    // cuBLAS writes all of C without reading it (beta is zero).
    let mut c = be.uninit::<T>(op, count * m * n);
    let opr = |t: bool| {
        if t {
            cublasOperation_t::CUBLAS_OP_T
        } else {
            cublasOperation_t::CUBLAS_OP_N
        }
    };
    let cfg = GemmConfig {
        transa: opr(b.trans),
        transb: opr(a.trans),
        m: n as i32,
        n: m as i32,
        k: k as i32,
        alpha: T::one(),
        lda: b.ld.max(1) as i32,
        ldb: a.ld.max(1) as i32,
        beta: T::zero(),
        ldc: n.max(1) as i32,
    };
    let (ba, bb) = (buf(a.t), buf(b.t));
    // B shared by the whole batch and A's matrices stacked row after row:
    // one GEMM of (count * m) x k by k x n fills the same output layout.
    if count > 1
        && shared_by_batch(outer, b.outer_strides)
        && !a.trans
        && count * m <= i32::MAX as usize
        && let Some(row) = stacked_rows(outer, m, a.outer_strides, a.ld)
        && row >= k
    {
        let flat = GemmConfig {
            n: (count * m) as i32,
            ldb: row as i32,
            ..cfg
        };
        // SAFETY: A's rows, `row` apart, are the batch's rows in order (the
        // strides were checked to stack), B is one matrix, and C is the
        // contiguous (count * m) x n block of the batched output.
        unsafe { T::gemm(&be.blas, flat, bb, ba, &mut c) }.unwrap_or_else(|e| cuda_fail(op, e));
        return be.tensor(out_shape, c);
    }
    let strides = (
        uniform_stride(outer, a.outer_strides),
        uniform_stride(outer, b.outer_strides),
    );
    if let (Some(sa), Some(sb)) = strides {
        let batched = StridedBatchedConfig {
            gemm: cfg,
            batch_size: count as i32,
            stride_a: sb as i64,
            stride_b: sa as i64,
            stride_c: (m * n) as i64,
        };
        // SAFETY: the strides, sizes and leading dims come from the shapes
        // of the buffers (checked by the op before).
        unsafe { T::gemm_strided_batched(&be.blas, batched, bb, ba, &mut c) }
            .unwrap_or_else(|e| cuda_fail(op, e));
        return be.tensor(out_shape, c);
    }
    let offset = |mut i: usize, strides: &[usize]| -> usize {
        let mut off = 0;
        for (d, s) in outer.iter().zip(strides).rev() {
            off += (i % d) * s;
            i /= d;
        }
        off
    };
    for o in 0..count {
        let (oa, ob) = (offset(o, a.outer_strides), offset(o, b.outer_strides));
        let va = ba.slice(oa..);
        let vb = bb.slice(ob..);
        let mut vc = c.slice_mut(o * m * n..(o + 1) * m * n);
        // SAFETY: as above, for one matrix of each operand.
        unsafe { T::gemm(&be.blas, cfg, &vb, &va, &mut vc) }.unwrap_or_else(|e| cuda_fail(op, e));
    }
    be.tensor(out_shape, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_strides() {
        assert_eq!(uniform_stride(&[2, 3], &[0, 0]), Some(0));
        assert_eq!(uniform_stride(&[2, 3], &[12, 4]), Some(4));
        assert_eq!(uniform_stride(&[2, 3], &[4, 0]), None);
        assert_eq!(uniform_stride(&[1, 3], &[0, 4]), Some(4));
        assert_eq!(uniform_stride(&[], &[]), Some(0));
        assert_eq!(uniform_stride(&[256, 1], &[256, 0]), Some(256));
        assert_eq!(uniform_stride(&[4, 1, 3], &[3, 7, 1]), Some(1));
        assert_eq!(uniform_stride(&[4, 3], &[0, 1]), None);
    }

    #[test]
    fn stacked_rows_of_a_batch() {
        // A batch of vectors promoted to rows: the batch stride is the row.
        assert_eq!(stacked_rows(&[64], 1, &[31], 31), Some(31));
        assert_eq!(stacked_rows(&[256, 1], 1, &[256, 0], 256), Some(256));
        assert_eq!(stacked_rows(&[4, 3], 1, &[3 * 40, 40], 7), Some(40));
        // Matrices one after the other.
        assert_eq!(stacked_rows(&[5], 2, &[2 * 9], 9), Some(9));
        assert_eq!(stacked_rows(&[5], 2, &[20], 9), None);
        assert_eq!(stacked_rows(&[4, 3], 1, &[3, 4], 7), None);
    }

    #[test]
    fn plans_broadcast_like_the_binary_ops() {
        let (out, st) = broadcast_plan("add", &[&[2, 3], &[3]], 0);
        assert_eq!(out, vec![2, 3]);
        assert_eq!(st, vec![vec![3, 1], vec![0, 1]]);
        let (out, st) = broadcast_plan("add", &[&[4, 1, 3], &[1, 2, 1]], 1);
        assert_eq!(out, vec![4, 2, 3]);
        assert_eq!(st, vec![vec![3, 0, 1], vec![0, 1, 0]]);
    }

    #[test]
    #[should_panic(expected = "transforms: add: shapes do not broadcast, shapes [2, 3] and [4]")]
    fn plan_error_reads_like_the_cpu_one() {
        broadcast_plan("add", &[&[2, 3], &[4]], 0);
    }
}
