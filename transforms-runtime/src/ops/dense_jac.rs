//! A dense layer's reverse-mode Jacobian in one call: `y = x @ t(w)`, an
//! elementwise chain from `y` to the scales `u` (the activation's
//! derivative, say), and `diag_matmul_ta(u, .., t(w), x)`, whose row `i` is
//! row `i` of `w` scaled by `u_i`. This is what `jacrev` of `act(linear(x,
//! w, b))` emits; the separate ops cost a tensor each (shape checks, two
//! allocations, a pass), which is most of a small Jacobian's time.

use std::mem::MaybeUninit;

use transforms_kernels::cpu::{self, GemmOperand};

use super::diag::on_cpu;
use crate::float::Float;
use crate::shape::joined;
use crate::tensor::Tensor;

/// Where operand `s` of the chain reads its value for element `(b, i)` of
/// `y` (`count` batch blocks of `n`): `b * .0 + i * .1`, if `s` broadcasts
/// to `y`'s shape without changing it (a batch dim of 1 or `count`, a
/// per-example part `[]`, `[1]` or `[n]`). Inlined: called, it returned
/// the pair through memory, read back before the stores had landed (a
/// stall of a few nanoseconds on a 16 x 16 layer).
#[inline(always)]
fn side_strides(s: &[usize], nb: usize, count: usize, n: usize) -> Option<(usize, usize)> {
    if s.len() < nb {
        return None;
    }
    let (batch, pe) = s.split_at(nb);
    let per = match pe {
        [] | [1] => 0,
        [m] if *m == n => 1,
        _ => return None,
    };
    let block = match batch {
        [] | [1] => 0,
        [c] if *c == count => {
            if per == 1 {
                n
            } else {
                1
            }
        }
        _ => return None,
    };
    Some((block, per))
}

/// `(us[i], [ks[0][i], ..]) = f(ys[i], [sides[0][i], ..])` for every `i`,
/// in a loop that vectorises: no bounds checks inside (every length is
/// checked first), stores through the outputs' pointers.
///
/// # Panics
/// If the lengths differ.
#[inline(always)]
fn chain<T: Copy, const S: usize, const M: usize>(
    ys: &[T],
    sides: [&[T]; S],
    us: &mut [MaybeUninit<T>],
    ks: [&mut [MaybeUninit<T>]; M],
    f: &impl Fn(T, [T; S]) -> (T, [T; M]),
) {
    let n = ys.len();
    assert!(
        us.len() == n && sides.iter().all(|s| s.len() == n) && ks.iter().all(|k| k.len() == n),
        "transforms: internal error: dense_jac: operand lengths differ"
    );
    let (yp, up) = (ys.as_ptr(), us.as_mut_ptr());
    let sp = sides.map(|s| s.as_ptr());
    let kp = ks.map(|k| k.as_mut_ptr());
    // Compiled for the CPU's widest vectors where the build does not
    // target them (the same bits: see `cpu::wide`).
    cpu::wide(
        #[inline(always)]
        move || {
            for i in 0..n {
                // SAFETY: `i < n`, the length of every slice (asserted above); the
                // outputs are distinct exclusive slices, apart from the inputs.
                unsafe {
                    let (s, m) = f(*yp.add(i), std::array::from_fn(|q| *sp[q].add(i)));
                    (*up.add(i)).write(s);
                    for (p, m) in kp.iter().zip(m) {
                        (*p.add(i)).write(m);
                    }
                }
            }
        },
    );
}

/// The greatest common divisor.
fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Rows per block of [`one_pass`]: about 8 KiB of `w`, a multiple of 8
/// (the dot products' step), at most [`MAX_ROWS`]; four where eight rows
/// take more than 32 KiB, so that the block stays in L1 from its dot
/// products to its scaling (measured on a 2048-long `k`: 8.3 µs against
/// 9.3 with blocks of eight).
fn block_rows<T>(k: usize) -> usize {
    if 8 * k * std::mem::size_of::<T>() > 32 * 1024 {
        return 4;
    }
    (2048 / k).clamp(8, MAX_ROWS) / 8 * 8
}

/// The most rows per block (the block's dot products and scales are on
/// the stack).
const MAX_ROWS: usize = 64;

/// [`dense_jac`] without batch dims, one block of rows at a time: the
/// block's dot products, its chain, then its scaled rows while the rows
/// are still in L1 (`w` read from memory once, not twice). The same kernel
/// calls per row as the separate ops, so the same bits. Writes every
/// element of `jac` (`n` rows of `x.len()`); returns the kept values.
fn one_pass<T: Float, const S: usize, const M: usize>(
    x: &[T],
    w: &[T],
    n: usize,
    data: [&[T]; S],
    at: [(usize, usize); S],
    f: &impl Fn(T, [T; S]) -> (T, [T; M]),
    jac: &mut [MaybeUninit<T>],
) -> [Vec<T>; M] {
    let k = x.len();
    assert_eq!(
        jac.len(),
        n * k,
        "transforms: internal error: dense_jac: the Jacobian's length"
    );
    let rows = block_rows::<T>(k);
    let mut kept: [Vec<T>; M] = std::array::from_fn(|_| Vec::with_capacity(n));
    // A side operand with one value, spread along a block.
    let spread: [Vec<T>; S] = std::array::from_fn(|q| match at[q] {
        (_, 1) => Vec::new(),
        _ => vec![data[q][0]; rows],
    });
    let mut y = [T::zero(); MAX_ROWS];
    let mut u = [MaybeUninit::<T>::uninit(); MAX_ROWS];
    for first in (0..n).step_by(rows) {
        let len = rows.min(n - first);
        let block = first..first + len;
        let src = &w[first * k..];
        cpu::dots(x, src, k, &mut y[..len]);
        let sides: [&[T]; S] = std::array::from_fn(|q| match at[q] {
            (_, 1) => &data[q][block.clone()],
            _ => &spread[q][..len],
        });
        let ks = kept
            .each_mut()
            .map(|v| &mut v.spare_capacity_mut()[block.clone()]);
        chain(&y[..len], sides, &mut u[..len], ks, f);
        // SAFETY: `chain` wrote the first `len` scales.
        let scales: &[T] = unsafe { std::slice::from_raw_parts(u.as_ptr().cast(), len) };
        let dst = &mut jac[first * k..(first + len) * k];
        cpu::scaled_rows(dst, src, k, k, scales);
    }
    // SAFETY: the blocks covered every row: `chain` wrote each kept value
    // (and `scaled_rows` each row of the Jacobian).
    unsafe {
        kept.iter_mut().for_each(|v| v.set_len(n));
    }
    kept
}

/// `(diag_matmul_ta(u, .., w, x, nb, 0, b_t = true), [m_0, ..])` where
/// `(u, [m_0, ..]) = f(y, [s_0, ..])` elementwise, `y = matmul_t(x, w,
/// nb)` and `side` are the chain's other operands `s_q`: the Jacobian of a
/// dense layer and the chain's values that the rest of the program reads
/// (each of `y`'s shape), as the separate ops compute them, bit for bit.
///
/// The compiler calls it where `jacrev` differentiates an elementwise
/// function of a layer's output (see `fuse::Group::DenseJac`), with its
/// separate ops as the fallback: `None` unless every tensor is on the CPU,
/// `nb` is 0 (`x` `[k]`, `w` `[n, k]`) or 1 (`x` `[count, k]`, `w` `[1, n,
/// k]` or `[count, n, k]`), and each side operand broadcasts to `y`'s shape
/// without changing it.
pub fn dense_jac<T: Float, const S: usize, const M: usize>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    nb: usize,
    side: [&Tensor<T>; S],
    f: impl Fn(T, [T; S]) -> (T, [T; M]),
) -> Option<(Tensor<T>, [Tensor<T>; M])> {
    if !on_cpu(&[x, w]) || !on_cpu(&side) {
        return None;
    }
    let (count, k, n, w_block) = match (nb, x.shape(), w.shape()) {
        (0, &[k], &[n, k2]) if k == k2 => (1, k, n, 0),
        (1, &[c, k], &[wc, n, k2]) if k == k2 && (wc == 1 || wc == c) => {
            (c, k, n, if wc == 1 { 0 } else { n * k })
        }
        _ => return None,
    };
    if count == 0 || n == 0 || k == 0 {
        return None;
    }
    let mut at = [(0, 0); S];
    for (q, s) in side.iter().enumerate() {
        at[q] = side_strides(s.shape(), nb, count, n)?;
    }
    let (xs, ws) = (x.as_slice(), w.as_slice());
    let data: [&[T]; S] = std::array::from_fn(|q| side[q].as_slice());
    if nb == 0 && !cpu::parallel(n * k) {
        let mut kept = None;
        // SAFETY: `one_pass` writes every element of the Jacobian.
        let jac = unsafe {
            Tensor::from_uninit(&[n, k], |dst| {
                kept = Some(one_pass(xs, ws, n, data, at, &f, dst));
            })
        };
        let kept = kept
            .expect("one_pass ran")
            .map(|v| Tensor::from_parts([n], v));
        return Some((jac, kept));
    }
    // `y` exactly as `matmul_t` computes it (the same kernel calls).
    let (batch, x_block): (&[usize], usize) = if nb == 0 { (&[], 0) } else { (&[count], k) };
    let y = cpu::batched_gemm(
        batch,
        1,
        k,
        n,
        GemmOperand {
            data: xs,
            batch_strides: &[x_block][..nb],
            row_stride: k,
            col_stride: 1,
        },
        GemmOperand {
            data: ws,
            batch_strides: &[w_block][..nb],
            row_stride: 1,
            col_stride: k,
        },
    );
    let total = count * n;
    let mut u: Vec<T> = Vec::with_capacity(total);
    let mut kept: [Vec<T>; M] = std::array::from_fn(|_| Vec::with_capacity(total));
    // The chain runs over `group` blocks at a time, a whole number of the
    // vectorised loop's steps of 32 where the batch allows, so that no
    // block ends in a scalar remainder (with blocks of 33, one scalar
    // `tanh` per block otherwise). Every operand is a contiguous run of the
    // group's length: side operands that repeat along the batch are spread
    // over a group once, those with one value per block per group.
    let group = (32 / gcd(n, 32)).min(count);
    let mut spread: [Vec<T>; S] = std::array::from_fn(|q| match at[q] {
        (0, 1) => data[q][..n].repeat(group),
        (0, _) => vec![data[q][0]; group * n],
        _ => Vec::new(),
    });
    for first in (0..count).step_by(group) {
        let blocks = group.min(count - first);
        let rows = first * n..(first + blocks) * n;
        let len = rows.len();
        for (q, buf) in spread.iter_mut().enumerate() {
            if at[q] == (1, 0) {
                buf.clear();
                for &v in &data[q][first..first + blocks] {
                    buf.extend(std::iter::repeat_n(v, n));
                }
            }
        }
        let sides: [&[T]; S] = std::array::from_fn(|q| match at[q] {
            (block, 1) if block != 0 => &data[q][first * block..][..len],
            _ => &spread[q][..len],
        });
        let us = &mut u.spare_capacity_mut()[rows.clone()];
        let ks = kept
            .each_mut()
            .map(|v| &mut v.spare_capacity_mut()[rows.clone()]);
        chain(&y[rows.clone()], sides, us, ks, &f);
    }
    // SAFETY: `chain` wrote every element of every block.
    unsafe {
        u.set_len(total);
        kept.iter_mut().for_each(|v| v.set_len(total));
    }
    // Row `i` of block `b`: row `i` of `w`'s block scaled by `u[b, i]`, in
    // chunks of whole rows of a few thousand elements (a chunk may span
    // batch blocks).
    let rows = (4096 / k).max(1);
    let jac = cpu::build_chunks(count * n * k, rows * k, |range, sink| {
        let (mut row, end) = (range.start / k, range.end / k);
        while row < end {
            let (b, i) = (row / n, row % n);
            let len = (end - row).min(n - i);
            sink.extend_scaled_rows(&ws[b * w_block + i * k..], k, k, &u[row..row + len]);
            row += len;
        }
    });
    let y_shape = joined(&[&x.shape()[..nb], &[n]]);
    let jac = Tensor::from_parts(joined(&[&x.shape()[..nb], &[n, k]]), jac);
    let kept = kept.map(|v| Tensor::from_parts(&y_shape[..], v));
    Some((jac, kept))
}

/// [`dense_jac`]'s Jacobian in `jacfwd`'s form: `diag_matmul(seed, x,
/// t(w))` (a basis over `x` scaled by `seed`), each basis row scaled by
/// `u`, the basis dim moved last, which is [`dense_jac`]'s Jacobian when
/// `seed` is all ones (as `jacfwd` seeds it; checked). `None` otherwise,
/// or with batch dims, or where [`dense_jac`] gives `None`.
pub fn dense_jac_fwd<T: Float, const S: usize, const M: usize>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    nb: usize,
    seed: &Tensor<T>,
    side: [&Tensor<T>; S],
    f: impl Fn(T, [T; S]) -> (T, [T; M]),
) -> Option<(Tensor<T>, [Tensor<T>; M])> {
    let ones = nb == 0
        && on_cpu(&[seed])
        && seed.shape() == x.shape()
        && cpu::all_equal(seed.as_slice(), T::one());
    if !ones {
        return None;
    }
    dense_jac(x, w, nb, side, f)
}
