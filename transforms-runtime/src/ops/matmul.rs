//! The matmul family: `matmul` (torch.matmul on the pe parts) and its two
//! transposes `matmul_ta` / `matmul_tb`.
//!
//! Internally every operand is promoted to pe rank >= 2 (a 1-D left operand
//! becomes `[1, k]`, a 1-D right operand `[k, 1]`) and multiplied by one
//! batched GEMM whose outer dims are the batch dims (left-aligned) followed by
//! the matrix-batch dims (right-aligned); transposes are free stride swaps.

use transforms_kernels::cpu::{self, GemmOperand};

use crate::float::Float;
use crate::ops::broadcast::{SumTarget, sum_to_pe};
use crate::shape::{
    Shape, aligned, broadcast_left, broadcast_right, broadcast_strides, fail, joined, split,
};
use crate::tensor::Tensor;

/// A contiguous operand of shape `batch(nb) ++ mb ++ [rows, cols]`, read
/// transposed in its last two dims when `trans`.
struct Operand<'a, T: Float> {
    t: &'a Tensor<T>,
    shape: &'a [usize],
    trans: bool,
}

/// An operand split into its parts, with the matrix layout as read.
struct Parts<'a> {
    batch: &'a [usize],
    mb: &'a [usize],
    /// Elements per matrix.
    size: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T: Float> Operand<'a, T> {
    fn parts(&self, nb: usize) -> Parts<'a> {
        let shape: &'a [usize] = self.shape;
        let (batch, rest) = shape.split_at(nb);
        let (mb, mat) = rest.split_at(rest.len() - 2);
        let (r, c) = (mat[0], mat[1]);
        let (rows, cols, row_stride, col_stride) = if self.trans {
            (c, r, 1, c)
        } else {
            (r, c, c, 1)
        };
        Parts {
            batch,
            mb,
            size: r * c,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }
}

/// Batched product of two promoted operands, of full shape
/// `batch ++ mb ++ [m, n]` (on the operands' device: cuBLAS on CUDA).
fn bmm<T: Float>(
    op: &str,
    all: &[&[usize]],
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    nb: usize,
) -> Tensor<T> {
    crate::device::same_device!(op, [a.t, b.t]);
    let pa = a.parts(nb);
    let pb = b.parts(nb);
    let (m, k, k2, n) = (pa.rows, pa.cols, pb.rows, pb.cols);
    if k != k2 {
        fail!(op, all, "the inner dimensions do not match ({k} vs {k2})");
    }
    let Some(batch) = broadcast_left(pa.batch, pb.batch) else {
        fail!(op, all, "batch dims do not broadcast");
    };
    let Some(mb) = broadcast_right(pa.mb, pb.mb) else {
        fail!(op, all, "matrix batch dims do not broadcast");
    };
    let outer = joined(&[&batch, &mb]);
    let outer_strides = |b: &[usize], m: &[usize], size: usize| -> Shape {
        let mut s = broadcast_strides(&aligned(b, m, mb.len()));
        s.iter_mut().for_each(|s| *s *= size);
        s
    };
    let sa = outer_strides(pa.batch, pa.mb, pa.size);
    let sb = outer_strides(pb.batch, pb.mb, pb.size);
    #[cfg(feature = "cuda")]
    if a.t.device() != crate::Device::Cpu {
        use crate::cuda::ops::{GemmSide, gemm};
        let ld = |p: &Parts<'_>, trans: bool| if trans { p.col_stride } else { p.row_stride };
        return gemm(
            op,
            &outer,
            (m, k, n),
            GemmSide {
                t: a.t,
                outer_strides: &sa,
                trans: a.trans,
                ld: ld(&pa, a.trans),
            },
            GemmSide {
                t: b.t,
                outer_strides: &sb,
                trans: b.trans,
                ld: ld(&pb, b.trans),
            },
        );
    }
    let data = cpu::batched_gemm(
        &outer,
        m,
        k,
        n,
        GemmOperand {
            data: a.t.as_slice(),
            batch_strides: &sa,
            row_stride: pa.row_stride,
            col_stride: pa.col_stride,
        },
        GemmOperand {
            data: b.t.as_slice(),
            batch_strides: &sb,
            row_stride: pb.row_stride,
            col_stride: pb.col_stride,
        },
    );
    Tensor::from_parts(joined(&[&outer, &[m, n]]), data)
}

/// Full shape with a 1-D left pe part promoted to `[1, k]`.
pub(crate) fn promote_left(shape: &[usize], nb: usize) -> Shape {
    let mut s = Shape::from_slice(shape);
    if s.len() - nb == 1 {
        s.insert(nb, 1);
    }
    s
}

/// Full shape with a 1-D right pe part promoted to `[k, 1]`.
pub(crate) fn promote_right(shape: &[usize], nb: usize) -> Shape {
    let mut s = Shape::from_slice(shape);
    if s.len() - nb == 1 {
        s.push(1);
    }
    s
}

/// The pe shape of `matmul` for pe shapes `pa` and `pb` (torch rules).
pub(crate) fn out_pe(op: &str, all: &[&[usize]], pa: &[usize], pb: &[usize]) -> Shape {
    if pa.is_empty() || pb.is_empty() {
        fail!(op, all, "both operands need at least one per-example dim");
    }
    // The matrix batch dims and the matrix dims, a 1-D operand read as a
    // row (left) or a column (right), without building the promoted shapes.
    let (ra, rb) = (pa.len(), pb.len());
    let (mba, m, ka) = match pa {
        [k] => (&pa[..0], 1, *k),
        _ => (&pa[..ra - 2], pa[ra - 2], pa[ra - 1]),
    };
    let (mbb, kb, n) = match pb {
        [k] => (&pb[..0], *k, 1),
        _ => (&pb[..rb - 2], pb[rb - 2], pb[rb - 1]),
    };
    if ka != kb {
        fail!(op, all, "the inner dimensions do not match ({ka} vs {kb})");
    }
    let mut out = Shape::new();
    for i in 0..mba.len().max(mbb.len()) {
        let at = |s: &[usize]| {
            let lead = mba.len().max(mbb.len()) - s.len();
            if i < lead { 1 } else { s[i - lead] }
        };
        let (x, y) = (at(mba), at(mbb));
        out.push(match (x, y) {
            _ if x == y => x,
            (1, _) => y,
            (_, 1) => x,
            _ => fail!(op, all, "matrix batch dims do not broadcast"),
        });
    }
    if ra > 1 {
        out.push(m);
    }
    if rb > 1 {
        out.push(n);
    }
    out
}

/// Checks the cotangent's pe shape against `matmul`'s output pe shape and
/// returns its full shape promoted to `batch ++ mb ++ [m, n]`.
fn promote_cotangent(
    op: &str,
    all: &[&[usize]],
    c: &[usize],
    pa: &[usize],
    pb: &[usize],
    nb: usize,
) -> Vec<usize> {
    let (_, cp) = split(op, c, nb, all);
    let expected = out_pe(op, all, pa, pb);
    if cp != expected.as_slice() {
        fail!(
            op,
            all,
            "the cotangent's per-example shape must be {expected:?}"
        );
    }
    let mut s = c.to_vec();
    if pb.len() == 1 {
        s.push(1);
    }
    if pa.len() == 1 {
        s.insert(s.len() - 1, 1);
    }
    s
}

/// Batched torch.matmul: pe parts multiply as in torch (1-D.1-D gives a
/// 0-dim result, 2-D@1-D, 1-D@2-D, broadcast matrix batches); batch dims
/// broadcast left-aligned.
pub fn matmul<T: Float>(a: &Tensor<T>, b: &Tensor<T>, nb: usize) -> Tensor<T> {
    matmul_impl("matmul", a, b, nb, false)
}

/// `matmul(a, t(w))` without materialising the transpose: `w`'s pe part is
/// read transposed when it is 2-D (torch's `.t()` leaves 0-D and 1-D alone).
pub fn matmul_t<T: Float>(a: &Tensor<T>, w: &Tensor<T>, nb: usize) -> Tensor<T> {
    let rank = split("matmul_t", w.shape(), nb, &[a.shape(), w.shape()])
        .1
        .len();
    match rank {
        0 | 1 => matmul(a, w, nb),
        2 => matmul_impl("matmul_t", a, w, nb, true),
        _ => fail!(
            "t",
            [w.shape()],
            "t() expects a tensor with at most 2 per-example dims"
        ),
    }
}

fn matmul_impl<T: Float>(
    op: &str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    nb: usize,
    b_trans: bool,
) -> Tensor<T> {
    let all: [&[usize]; 2] = [a.shape(), b.shape()];
    let (_, pa) = split(op, a.shape(), nb, &all);
    let (bb, pb_stored) = split(op, b.shape(), nb, &all);
    if nb == 0
        && pa.len() <= 2
        && pb_stored.len() <= 2
        && a.device() == crate::Device::Cpu
        && b.device() == crate::Device::Cpu
    {
        return vector_or_matrix(op, &all, a, b, b_trans);
    }
    // The shape of `b` as it is read (its last two dims swapped when transposed).
    let read = if b_trans {
        joined(&[bb, &[pb_stored[1], pb_stored[0]]])
    } else {
        Shape::from_slice(b.shape())
    };
    let pb = &read[nb..];
    out_pe(op, &all, pa, pb);
    let sa = promote_left(a.shape(), nb);
    let sb = if b_trans {
        Shape::from_slice(b.shape())
    } else {
        promote_right(b.shape(), nb)
    };
    let y = bmm(
        op,
        &all,
        Operand {
            t: a,
            shape: &sa,
            trans: false,
        },
        Operand {
            t: b,
            shape: &sb,
            trans: b_trans,
        },
        nb,
    );
    let mut shape = y.shape().to_vec();
    if pb.len() == 1 {
        shape.pop();
    }
    if pa.len() == 1 {
        let i = shape.len() - if pb.len() == 1 { 1 } else { 2 };
        shape.remove(i);
    }
    y.into_reshaped(&shape)
}

/// [`matmul_impl`] for unbatched vectors and matrices on the CPU: one
/// product straight from the shapes, without the promoted shapes and batch
/// strides of the general path (the call overhead of a small product).
fn vector_or_matrix<T: Float>(
    op: &str,
    all: &[&[usize]],
    a: &Tensor<T>,
    b: &Tensor<T>,
    b_trans: bool,
) -> Tensor<T> {
    let (pa, pb) = (a.shape(), b.shape());
    // `b` as read, and its strides.
    let (read, row_stride_b, col_stride_b) = match (pb, b_trans) {
        ([k], _) => ([*k, 1], 1, 1),
        ([r, c], false) => ([*r, *c], *c, 1),
        ([r, c], true) => ([*c, *r], 1, *c),
        _ => fail!(op, all, "both operands need at least one per-example dim"),
    };
    let pb_read = if pb.len() == 1 { &read[..1] } else { &read[..] };
    let out = out_pe(op, all, pa, pb_read);
    let (m, k) = match pa {
        [k] => (1, *k),
        _ => (pa[0], pa[1]),
    };
    let n = read[1];
    let operand = |data, row_stride, col_stride| GemmOperand {
        data,
        batch_strides: &[],
        row_stride,
        col_stride,
    };
    let data = cpu::batched_gemm(
        &[],
        m,
        k,
        n,
        operand(a.as_slice(), k, 1),
        operand(b.as_slice(), row_stride_b, col_stride_b),
    );
    Tensor::from_parts(out, data)
}

/// Gradient w.r.t. `a` of `<c, matmul(a, b)>`, where `a` has `a_like`'s pe
/// shape (only the shape of `a_like` is used): `c @ b^T`, summed over
/// broadcast matrix-batch dims. Batch dims are those of `c` and `b`
/// broadcast (summed where `a_like` has size 1, unless kept by `keep`, as in
/// [`sum_to_like`](crate::ops::sum_to_like)); the pe shape is exactly `a_like`'s.
pub fn matmul_ta<T: Float>(
    c: &Tensor<T>,
    b: &Tensor<T>,
    a_like: &Tensor<T>,
    nb: usize,
    keep: u32,
) -> Tensor<T> {
    let op = "matmul_ta";
    let all: [&[usize]; 3] = [c.shape(), b.shape(), a_like.shape()];
    let (ba, pa) = split(op, a_like.shape(), nb, &all);
    let (_, pb) = split(op, b.shape(), nb, &all);
    let sc = promote_cotangent(op, &all, c.shape(), pa, pb, nb);
    let sb = promote_right(b.shape(), nb);
    let y = bmm(
        op,
        &all,
        Operand {
            t: c,
            shape: &sc,
            trans: false,
        },
        Operand {
            t: b,
            shape: &sb,
            trans: true,
        },
        nb,
    );
    let target = promote_left(pa, 0);
    let g = sum_to_pe(
        op,
        &y,
        &SumTarget {
            batch: ba,
            pe: &target,
            keep,
        },
        nb,
        &all,
    );
    let out_shape = [&g.shape()[..nb], pa].concat();
    g.into_reshaped(&out_shape)
}

/// Gradient w.r.t. `b` of `<c, matmul(a, b)>`, where `b` has `b_like`'s pe
/// shape (only the shape of `b_like` is used): `a^T @ c`, summed over
/// broadcast matrix-batch dims. Batch dims are those of `a` and `c`
/// broadcast (summed where `b_like` has size 1, unless kept by `keep`); the
/// pe shape is exactly `b_like`'s.
pub fn matmul_tb<T: Float>(
    a: &Tensor<T>,
    c: &Tensor<T>,
    b_like: &Tensor<T>,
    nb: usize,
    keep: u32,
) -> Tensor<T> {
    let op = "matmul_tb";
    let all: [&[usize]; 3] = [a.shape(), c.shape(), b_like.shape()];
    let (_, pa) = split(op, a.shape(), nb, &all);
    let (bb, pb) = split(op, b_like.shape(), nb, &all);
    let sc = promote_cotangent(op, &all, c.shape(), pa, pb, nb);
    let sa = promote_left(a.shape(), nb);
    let y = bmm(
        op,
        &all,
        Operand {
            t: a,
            shape: &sa,
            trans: true,
        },
        Operand {
            t: c,
            shape: &sc,
            trans: false,
        },
        nb,
    );
    let target = promote_right(pb, 0);
    let g = sum_to_pe(
        op,
        &y,
        &SumTarget {
            batch: bb,
            pe: &target,
            keep,
        },
        nb,
        &all,
    );
    let out_shape = [&g.shape()[..nb], pb].concat();
    g.into_reshaped(&out_shape)
}

/// `x @ w^T + bias` for `x: [.., in]`, `w: [out, in]`, `bias` broadcastable
/// to `[.., out]` (no transposed copy of `w` is made).
pub(crate) fn linear_impl<T: Float>(x: &Tensor<T>, w: &Tensor<T>, bias: &Tensor<T>) -> Tensor<T> {
    let all: [&[usize]; 3] = [x.shape(), w.shape(), bias.shape()];
    if x.ndim() == 0 || w.ndim() != 2 {
        fail!(
            "linear",
            all,
            "expects x with at least 1 dim and a 2-D weight"
        );
    }
    let sx = promote_left(x.shape(), 0);
    let y = bmm(
        "linear",
        &all,
        Operand {
            t: x,
            shape: &sx,
            trans: false,
        },
        Operand {
            t: w,
            shape: w.shape(),
            trans: true,
        },
        0,
    );
    let mut shape = y.shape().to_vec();
    if x.ndim() == 1 {
        shape.remove(shape.len() - 2);
    }
    let mut y = y.into_reshaped(&shape);
    let out = w.shape()[0];
    if bias.shape() == [out] && y.device() == crate::Device::Cpu {
        for row in y.as_mut_slice().chunks_exact_mut(out.max(1)) {
            cpu::zip_inplace(row, bias.as_slice(), |u, v| u + v);
        }
        y
    } else {
        super::binary("linear", &y, bias, 0, |u, v| u + v)
    }
}
