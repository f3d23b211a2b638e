//! The seed product in reverse mode: `matmul_ta(diag(u, like, t), b,
//! a_like)` (the transpose of a product with a Jacobian's basis), written
//! as per-basis slabs of `a`'s shape on the CPU, as one strided product on
//! a CUDA device in the common case, in the Hessian's swapped layout
//! (`diag_matmul_ta_swapped`), and followed by an elementwise chain in one
//! pass (`diag_matmul_ta_map`).

use super::diag::{
    Offsets, batch_of, batch_strides, diag, inner_strides, keep_all, offset, on_cpu, plain, read_as,
};
use super::matmul::{out_pe, promote_left, promote_right};
use super::{matmul_ta, unsqueeze};
use transforms_kernels::cpu;

use crate::float::Float;
use crate::shape::{Shape, broadcast_right, fail, joined, split};
use crate::tensor::Tensor;

/// The layout of a dense layer's Jacobian in reverse mode (the caller has
/// checked: no batch dims, the matrix read transposed), without a plan to
/// build (the call overhead of a small Jacobian): a basis over a vector of
/// `nl` elements scaled by `u` (`[nl]`, `[1]` or a scalar), `w` an
/// `[nl, k]` matrix and `a` a vector of `k`. Row `i` of the result is row
/// `i` of `w` scaled by `u_i`.
fn dense_layer<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    w: &Tensor<T>,
    a_like: &Tensor<T>,
) -> Option<Tensor<T>> {
    let (&[nl], &[k]) = (like.shape(), a_like.shape()) else {
        return None;
    };
    let fits = w.shape() == [nl, k]
        && (matches!(u.shape(), [] | [1]) || u.shape() == [nl])
        && t.is_none_or(|t| t.shape() == [nl])
        && on_cpu(&[u, like, w, a_like]);
    if !fits {
        return None;
    }
    let (u, w) = (u.as_slice(), w.as_slice());
    let scales: std::borrow::Cow<'_, [T]> = if u.len() == nl {
        u.into()
    } else {
        vec![u[0]; nl].into()
    };
    // Chunks of whole rows, a few thousand elements each.
    let rows = (4096 / k.max(1)).max(1);
    let out = cpu::build_chunks(nl * k, rows * k, |range, sink| {
        let (first, count) = (range.start / k, range.len() / k);
        sink.extend_scaled_rows(&w[first * k..], k, k, &scales[first..first + count]);
    });
    Some(Tensor::from_parts([nl, k], out))
}

/// `matmul_ta(diag(u, like, t), b, a_like)` with the basis dim as a batch
/// dim: row `i` of the seed is `u_i e_i`, so each result is one scaled
/// column of `b` placed in one row of `a`'s shape. Bit `i` of `keep` keeps
/// batch dim `i` where `a_like` has size 1 (as in `matmul_ta`). With `b_t`
/// the operand is `t(b)`, read without copying.
#[allow(clippy::too_many_arguments)]
pub fn diag_matmul_ta<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    b: &Tensor<T>,
    a_like: &Tensor<T>,
    nb: usize,
    keep: u32,
    b_t: bool,
) -> Tensor<T> {
    crate::device::same_device!("diag_matmul_ta", [u, like, b, a_like]);
    if nb == 0
        && b_t
        && let Some(out) = dense_layer(u, like, t, b, a_like)
    {
        return out;
    }
    let plan = TaPlan::new(u, like, t, b, a_like, nb, keep, b_t);
    if let Some(out) = plan.as_ref().and_then(|p| p.on_device(p.batch.len(), u, b)) {
        return out;
    }
    let Some(plan) = plan.filter(|p| p.cpu) else {
        if b_t {
            return diag_matmul_ta(u, like, t, &super::t(b, nb), a_like, nb, keep, false);
        }
        let c = diag(u, like, t, nb, keep_all(nb));
        return matmul_ta(
            &c,
            &unsqueeze(b, 0, nb),
            &unsqueeze(a_like, 0, nb),
            nb + 1,
            keep | (1 << nb),
        );
    };
    let (count, nl, na) = (plan.count, plan.nl, plan.na);
    // Each basis element's slab appended in order (batch blocks in parallel
    // when large).
    let out = cpu::build_chunks(count * nl * na, nl * na, |range, sink| {
        let j = range.start / (nl * na);
        if plan.simple {
            // Each slab one row: `b`'s rows in order, scaled by `u`.
            let (uo, bo) = plan.blocks[j];
            let scales = plan.u_at.gather(plan.u, uo, nl);
            sink.extend_scaled_rows(&plan.b[bo..], plan.bs, plan.k, &scales);
            return;
        }
        for i in 0..nl {
            plan.slab(j, i, sink);
        }
    });
    Tensor::from_parts(joined(&[&plan.batch, &[nl], plan.pa]), out)
}

/// The operands of `diag_matmul_ta(u, like, t, b, a_like, nb, keep, b_t)`.
pub struct DiagTa<'a, T: Float> {
    pub u: &'a Tensor<T>,
    pub like: &'a Tensor<T>,
    pub t: Option<&'a Tensor<T>>,
    pub b: &'a Tensor<T>,
    pub a_like: &'a Tensor<T>,
    pub nb: usize,
    pub keep: u32,
    pub b_t: bool,
}

/// `f` applied elementwise (at `nb + 1` batch dims) to the seed product
/// `p` of `ta` (see [`DiagTa`]) at operand position `slot` and `others` at
/// the other positions in order; `f` takes `p`'s value first. `cuda` is the
/// chain as CUDA C over `x0, x1, ..` in operand order, for tensors on a GPU
/// (as in `fused*_src`).
///
/// The compiler calls it where a reverse-mode basis through a layer is next
/// scaled elementwise, as the derivative of the activation before that
/// layer scales it in `vmap(jacrev)` of a two-layer network: in the simple
/// case (one matrix, `a` a vector, every operand on the CPU, each other
/// operand either of the result's shape or one row per batch block shared
/// by the basis, `batch ++ [1] ++ a's pe`) one pass writes
/// `f(u_i * b_i, ..)` row by row, where the separate ops wrote the product
/// and read it back. Otherwise it runs those ops.
pub fn diag_matmul_ta_map<T: Float, const M: usize>(
    ta: DiagTa<'_, T>,
    slot: usize,
    others: [&Tensor<T>; M],
    cuda: Option<&str>,
    f: impl Fn(T, [T; M]) -> T + Sync,
) -> Tensor<T> {
    if slot > M {
        fail!(
            "diag_matmul_ta_map",
            [ta.a_like.shape()],
            "operand slot {slot} of {}",
            M + 1
        );
    }
    if let Some(out) = ta_map_one_pass(&ta, &others, &f) {
        return out;
    }
    let p = diag_matmul_ta(ta.u, ta.like, ta.t, ta.b, ta.a_like, ta.nb, ta.keep, ta.b_t);
    super::diag_last::chain_over("diag_matmul_ta_map", &p, slot, &others, ta.nb + 1, cuda, &f)
}

/// The one-pass form of [`diag_matmul_ta_map`]; `None` outside its case.
fn ta_map_one_pass<T: Float, const M: usize>(
    ta: &DiagTa<'_, T>,
    others: &[&Tensor<T>; M],
    f: &(impl Fn(T, [T; M]) -> T + Sync),
) -> Option<Tensor<T>> {
    if !on_cpu(others) {
        return None;
    }
    let plan = TaPlan::new(ta.u, ta.like, ta.t, ta.b, ta.a_like, ta.nb, ta.keep, ta.b_t)?;
    if !plan.cpu || !plan.simple {
        return None;
    }
    let (count, nl, na) = (plan.count, plan.nl, plan.na);
    let out_shape = joined(&[&plan.batch, &[nl], plan.pa]);
    let row_shape = joined(&[&plan.batch, &[1], plan.pa]);
    // Per operand: a value per element of the result, or one row per batch
    // block (anything else broadcasts some other way: the separate ops).
    let mut full = [false; M];
    for (q, o) in others.iter().enumerate() {
        if o.shape() == &out_shape[..] {
            full[q] = true;
        } else if o.shape() != &row_shape[..] {
            return None;
        }
    }
    let data: [&[T]; M] = std::array::from_fn(|q| others[q].as_slice());
    let out = cpu::build_chunks(count * nl * na, nl * na, |range, sink| {
        let j = range.start / (nl * na);
        let (uo, bo) = plan.blocks[j];
        let scales = plan.u_at.gather(plan.u, uo, nl);
        for (i, &s) in scales.iter().enumerate() {
            let row = &plan.b[bo + i * plan.bs..][..na];
            let at: [&[T]; M] = std::array::from_fn(|q| {
                let start = if full[q] { (j * nl + i) * na } else { j * na };
                &data[q][start..start + na]
            });
            // Zipped slices (no bounds checks in the loop, so that it
            // vectorises) for the operand counts the compiler emits.
            let x = row.iter().map(|&x| s * x);
            match at.as_slice() {
                [] => sink.extend(x.map(|p| f(p, std::array::from_fn(|_| T::zero())))),
                [o] => sink.extend(x.zip(*o).map(|(p, &o)| f(p, std::array::from_fn(|_| o)))),
                [o0, o1] => sink.extend(
                    x.zip(*o0)
                        .zip(*o1)
                        .map(|((p, &a), &b)| f(p, std::array::from_fn(|q| [a, b][q]))),
                ),
                _ => sink.extend((0..na).map(|c| f(s * row[c], std::array::from_fn(|q| at[q][c])))),
            }
        }
    });
    Some(Tensor::from_parts(out_shape, out))
}

/// [`diag_matmul_ta`] (`nb >= 1`) with its basis dim expanded like `ref_o`
/// (at `nb`), its last batch dim expanded like `ref_k` (at `nb - 1`), and
/// the two swapped: `movedim(expand_dim0_like(expand_dim0_like(p, ref_o,
/// nb), ref_k, nb - 1), 0, 1, nb - 1)`, written in that order directly.
/// The compiler calls it for a Hessian's inner Jacobian product, whose
/// outer basis dim would otherwise be moved by a copy of the whole result.
#[allow(clippy::too_many_arguments)]
pub fn diag_matmul_ta_swapped<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    b: &Tensor<T>,
    a_like: &Tensor<T>,
    nb: usize,
    keep: u32,
    b_t: bool,
    ref_o: &Tensor<T>,
    ref_k: &Tensor<T>,
) -> Tensor<T> {
    let unfused = || {
        let p = diag_matmul_ta(u, like, t, b, a_like, nb, keep, b_t);
        let p = super::expand_dim0_like(&p, ref_o, nb);
        let p = super::expand_dim0_like(&p, ref_k, nb - 1);
        super::movedim(&p, 0, 1, nb - 1)
    };
    if nb == 0 {
        fail!(
            "diag_matmul_ta_swapped",
            [u.shape(), a_like.shape()],
            "needs a batch dim to swap with the basis dim"
        );
    }
    crate::device::same_device!("diag_matmul_ta_swapped", [u, like, b, a_like, ref_o, ref_k]);
    let Some(plan) = TaPlan::new(u, like, t, b, a_like, nb, keep, b_t) else {
        return unfused();
    };
    let dim0 = |r: &Tensor<T>, at: usize| r.shape().get(at).copied();
    let kk = plan.batch[nb - 1];
    // The expansions are no-ops here (the fast path's basis dim is full,
    // and so is a batch dim the operands carry); anything else (a size-1
    // dim to broadcast, or a size mismatch to report) goes the unfused way.
    if dim0(ref_o, nb) != Some(plan.nl) || dim0(ref_k, nb - 1) != Some(kk) {
        return unfused();
    }
    if let Some(out) = plan.on_device(nb - 1, u, b) {
        return out;
    }
    if !plan.cpu {
        return unfused();
    }
    let (nl, na) = (plan.nl, plan.na);
    let block = nl * kk * na;
    // One row of `b` for all `kk` blocks of an outer index (a weight shared
    // along the swapped dim): each basis element's `kk` slabs are then the
    // outer product of `kk` scales with that row.
    let shared = plan.simple
        && plan
            .blocks
            .chunks(kk.max(1))
            .all(|c| c.iter().all(|&(_, bo)| bo == c[0].1));
    // The scales of basis element `i` under outer index `o` are `u` at `i`
    // in each of the `kk` blocks: `u` read as `[lead.., like's pe.., kk]`,
    // gathered once by the tiled strided copy, so that each outer product
    // takes its `kk` scales from one contiguous run.
    let scales = if shared {
        let us = batch_strides(u, &plan.batch, nb);
        let u_str = inner_strides(&u.shape()[nb..], plan.lp);
        let lead = &plan.batch[..nb - 1];
        let shape = [lead, plan.lp, &[kk]].concat();
        let strides = [&us[..nb - 1], &u_str, &us[nb - 1..]].concat();
        cpu::copy_strided(&shape, u.as_slice(), &strides)
    } else {
        Vec::new()
    };
    let out = cpu::build_chunks(plan.count * nl * na, block, |range, sink| {
        let outer = range.start / block;
        let blocks = &plan.blocks[outer * kk..(outer + 1) * kk];
        if shared {
            let mine = &scales[outer * nl * kk..(outer + 1) * nl * kk];
            for (i, s) in mine.chunks_exact(kk.max(1)).enumerate().take(nl) {
                let col = blocks[0].1 + i * plan.bs;
                sink.extend_outer(&plan.b[col..col + plan.k], s);
            }
            return;
        }
        for i in 0..nl {
            for q in 0..kk {
                plan.slab(outer * kk + q, i, sink);
            }
        }
    });
    let lead = &plan.batch[..nb - 1];
    Tensor::from_parts(joined(&[lead, &[nl, kk], plan.pa]), out)
}

/// The row-gather form of [`diag_matmul_ta`], when it applies: per batch
/// block `j` and basis element `i`, a slab of `a`'s shape holding one
/// scaled column of `b` in one row, zeros elsewhere.
struct TaPlan<'a, T> {
    batch: Shape,
    /// `like`'s pe shape (the basis) and `a_like`'s.
    lp: &'a [usize],
    pa: &'a [usize],
    count: usize,
    nl: usize,
    na: usize,
    m: usize,
    k: usize,
    n: usize,
    bp: usize,
    bs: usize,
    u: &'a [T],
    b: &'a [T],
    /// Offsets of `u` and `b` per batch block (on the CPU).
    blocks: Vec<(usize, usize)>,
    /// Whether every operand is on the CPU (`u`, `b` and `blocks` are
    /// empty otherwise).
    cpu: bool,
    u_at: Offsets,
    b_at: Offsets,
    a_at: Offsets,
    /// One matrix, `a` a single row: slab `i` is column `i` of `b`, scaled.
    simple: bool,
}

impl<'a, T: Float> TaPlan<'a, T> {
    /// `None` when the row-gather form does not apply (off the CPU, a seed
    /// that is not a plain scaled identity, a batch reduction, shapes that
    /// are not one matrix product).
    #[allow(clippy::too_many_arguments)]
    fn new(
        u: &'a Tensor<T>,
        like: &'a Tensor<T>,
        t: Option<&Tensor<T>>,
        b: &'a Tensor<T>,
        a_like: &'a Tensor<T>,
        nb: usize,
        keep: u32,
        b_t: bool,
    ) -> Option<Self> {
        let all: [&[usize]; 4] = [u.shape(), like.shape(), b.shape(), a_like.shape()];
        split("diag_matmul_ta", u.shape(), nb, &all);
        split("diag_matmul_ta", b.shape(), nb, &all);
        let (_, lp) = split("diag_matmul_ta", like.shape(), nb, &all);
        let (ab, pa) = split("diag_matmul_ta", a_like.shape(), nb, &all);
        let (read, bp, bs) = read_as(b, nb, b_t);
        let pb = &read[..];
        let batch = batch_of("diag_matmul_ta", &[u.shape(), like.shape(), b.shape()], nb);
        let reduces = ab
            .iter()
            .zip(&batch)
            .enumerate()
            .any(|(i, (&a, &b))| a == 1 && b != 1 && keep & (1 << i) == 0);
        if !plain(u, like, t, nb) || reduces || pa.is_empty() || pb.is_empty() {
            return None;
        }
        let (a2, b2) = (promote_left(pa, 0), promote_right(pb, 0));
        if a2.last() != b2.get(b2.len() - 2) || &out_pe("diag_matmul_ta", &all, pa, pb)[..] != lp {
            return None;
        }
        let (m, k, n) = (a2[a2.len() - 2], a2[a2.len() - 1], b2[b2.len() - 1]);
        let (mba, mbb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
        let Some(mbo) = broadcast_right(mba, mbb) else {
            fail!("diag_matmul_ta", all, "matrix batch dims do not broadcast");
        };
        let a_mat: Shape = inner_strides(mba, &mbo).iter().map(|s| s * m * k).collect();
        let b_mat: Shape = inner_strides(mbb, &mbo).iter().map(|s| s * k * n).collect();
        let u_str = inner_strides(&u.shape()[nb..], lp);
        let count: usize = batch.iter().product();
        let cpu = on_cpu(&[u, like, b, a_like]);
        let blocks = if cpu {
            let (us, bst) = (batch_strides(u, &batch, nb), batch_strides(b, &batch, nb));
            (0..count)
                .map(|j| (offset(j, &batch, &us), offset(j, &batch, &bst)))
                .collect()
        } else {
            Vec::new()
        };
        let na: usize = pa.iter().product();
        let b_at = Offsets::new(&mbo, &b_mat);
        let simple = m == 1 && na == k && bp == 1 && matches!(b_at, Offsets::Zero);
        Some(TaPlan {
            lp,
            pa,
            count,
            nl: lp.iter().product(),
            na,
            m,
            k,
            n,
            bp,
            bs,
            u: if cpu { u.as_slice() } else { &[] },
            b: if cpu { b.as_slice() } else { &[] },
            blocks,
            cpu,
            u_at: Offsets::new(lp, &u_str),
            b_at,
            a_at: Offsets::new(&mbo, &a_mat),
            simple,
            batch,
        })
    }

    /// The simple case (one matrix, `a` a single row) as one elementwise
    /// product of the plan's `u` and `b` over the dims `batch ++ like's pe
    /// ++ [k]`: the shape and the element strides of `u` and `b` over it,
    /// with the basis dims placed at batch position `at` (`batch.len()`:
    /// after the batch dims). `None` outside the simple case.
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    fn as_product(
        &self,
        at: usize,
        u: &Tensor<T>,
        b: &Tensor<T>,
    ) -> Option<(Vec<usize>, Vec<usize>, Vec<usize>)> {
        if !self.simple {
            return None;
        }
        let nb = self.batch.len();
        let rows: Vec<usize> = cpu::contiguous_strides(self.lp)
            .iter()
            .map(|s| s * self.bs)
            .collect();
        let place = |batch: &[usize], basis: &[usize], last: usize| {
            [&batch[..at], basis, &batch[at..], &[last]].concat()
        };
        let shape = place(&self.batch, self.lp, self.k);
        let u_inner = inner_strides(&u.shape()[nb..], self.lp);
        let su = place(&batch_strides(u, &self.batch, nb), &u_inner, 0);
        let sb = place(&batch_strides(b, &self.batch, nb), &rows, self.bp);
        Some((shape, su, sb))
    }

    /// The simple case on a CUDA device: one strided product launch (the
    /// seed stays a gather on the GPU too), shaped `batch ++ [nl] ++ pa`
    /// with the basis dim at batch position `at`. `None` on the CPU, off
    /// the simple case, or without the `cuda` feature.
    fn on_device(&self, at: usize, u: &Tensor<T>, b: &Tensor<T>) -> Option<Tensor<T>> {
        #[cfg(feature = "cuda")]
        if let (false, crate::Device::Cuda(ord)) = (self.cpu, u.device()) {
            let (shape, su, sb) = self.as_product(at, u, b)?;
            let y = crate::cuda::ops::strided_mul("diag_matmul_ta", ord, shape, (u, &su), (b, &sb));
            return Some(y.into_reshaped(&self.product_shape(at)));
        }
        let _ = (at, u, b);
        None
    }

    /// The result's shape with the basis dim at batch position `at`.
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    fn product_shape(&self, at: usize) -> Vec<usize> {
        let batch = &self.batch;
        [&batch[..at], &[self.nl], &batch[at..], self.pa].concat()
    }

    /// Appends the `na` elements of batch block `j`'s slab for basis element `i`.
    #[inline]
    fn slab(&self, j: usize, i: usize, sink: &mut cpu::Sink<'_, T>) {
        let (uo, bo) = self.blocks[j];
        let ui = self.u[uo + self.u_at.at(i)];
        let k = self.k;
        if self.simple {
            let col = bo + i * self.bs;
            sink.extend_scaled(&self.b[col..col + k], ui);
            return;
        }
        // i = (mb, r, s) over the output [mbo.., m, n].
        let (m, n) = (self.m, self.n);
        let (mb, r, s) = (i / (m * n), (i / n) % m, i % n);
        let col = bo + self.b_at.at(mb) + s * self.bs;
        let dst = self.a_at.at(mb) + r * k;
        sink.fill(T::zero(), dst);
        if self.bp == 1 {
            sink.extend_scaled(&self.b[col..col + k], ui);
        } else {
            sink.extend((0..k).map(|p| ui * self.b[col + p * self.bp]));
        }
        sink.fill(T::zero(), self.na - dst - k);
    }
}

#[cfg(test)]
mod strided_tests {
    //! The strided form (what a CUDA device launches) checked on the CPU
    //! against the slab writer, in both layouts.
    use super::*;

    fn strided_on_cpu<T: Float>(
        plan: &TaPlan<'_, T>,
        at: usize,
        u: &Tensor<T>,
        b: &Tensor<T>,
    ) -> Vec<T> {
        let (shape, su, sb) = plan.as_product(at, u, b).expect("the simple case");
        cpu::zip_strided(&shape, u.as_slice(), &su, b.as_slice(), &sb, |x, y| y * x)
    }

    #[test]
    fn the_strided_form_matches_the_slabs() {
        // (u, like, b, a_like, nb): b read transposed (a layer's weight).
        type Case<'a> = (&'a [usize], &'a [usize], &'a [usize], &'a [usize], usize);
        let cases: [Case; 4] = [
            (&[5, 3], &[1, 3], &[1, 3, 4], &[1, 4], 1),
            (&[2, 5, 3], &[2, 1, 3], &[1, 1, 3, 4], &[2, 1, 4], 2),
            (&[2, 5, 6], &[1, 1, 6], &[1, 1, 6, 4], &[1, 1, 4], 2),
            (&[2, 5, 1], &[2, 1, 3], &[2, 1, 3, 4], &[2, 1, 4], 2),
        ];
        for (k, (us, ls, bs, as_, nb)) in cases.into_iter().enumerate() {
            let (u, like) = (Tensor::<f64>::randn(us, k as u64), Tensor::randn(ls, 9));
            let (b, a) = (Tensor::randn(bs, 11 + k as u64), Tensor::zeros(as_));
            let keep = (1 << nb) - 1; // as a Hessian's product keeps its batch
            let plan = TaPlan::new(&u, &like, None, &b, &a, nb, keep, true).expect("a plan");
            assert!(plan.simple, "case {k}");
            let want = diag_matmul_ta(&u, &like, None, &b, &a, nb, keep, true);
            assert_eq!(strided_on_cpu(&plan, nb, &u, &b), want.to_vec(), "case {k}");
            let (ro, rk) = (
                Tensor::zeros(&[plan.batch[..nb].to_vec(), vec![plan.nl]].concat()),
                Tensor::zeros(&plan.batch[..nb]),
            );
            let swapped = diag_matmul_ta_swapped(&u, &like, None, &b, &a, nb, keep, true, &ro, &rk);
            assert_eq!(
                strided_on_cpu(&plan, nb - 1, &u, &b),
                swapped.to_vec(),
                "case {k} swapped"
            );
            assert_eq!(
                plan.product_shape(nb - 1),
                swapped.shape(),
                "case {k} swapped"
            );
        }
    }
}
