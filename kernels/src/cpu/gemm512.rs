//! A register-tiled GEMM for cores with AVX-512, chosen at run time.
//!
//! The `gemm` crate's AVX-512 kernels need a nightly compiler, so on stable
//! Rust it runs its 8-wide FMA kernels even on an AVX-512 core: half the
//! multiply-adds per instruction. This kernel covers the products whose `B`
//! fits in the L2 cache (the batch Jacobians' per-example products, stacked
//! into one tall GEMM): tiles of up to 8 rows by 3 registers of columns (48
//! `f32` or 24 `f64`), each row's `A` element broadcast from memory and
//! multiplied into the tile, `B`'s rows read straight from memory (packed
//! first only when its columns are not contiguous). The tile's last
//! registers are masked, so any `n` runs without a scalar remainder.
//!
//! Every output element is one chain of fused multiply-adds over `k` in
//! order, starting from zero, whatever the layout or tile: the same bits as
//! `acc = a.mul_add(b, acc)` in a plain loop (the tests check exactly that).

use std::mem::MaybeUninit;

use super::gemm::Block;
use crate::Element;

/// The largest `B` (bytes) taken here: it is read once per tile of rows, so
/// it should stay in L2; larger products go to the crates' cache-blocked
/// kernels.
const MAX_B_BYTES: usize = 1 << 20;

/// Writes `c = a @ b` (`c` the `m x n` row-major block, every element) and
/// returns true, or returns false writing nothing where this kernel does
/// not apply (no AVX-512 on this core, another element type, a large `B`).
pub(super) fn write<T: Element>(p: Block<'_, T>, c: &mut [MaybeUninit<T>]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::any::TypeId;
        let bytes = p.k * p.n * std::mem::size_of::<T>();
        if bytes > MAX_B_BYTES || !std::arch::is_x86_feature_detected!("avx512f") {
            return false;
        }
        assert_eq!(
            c.len(),
            p.m * p.n,
            "transforms-kernels: gemm512: output block"
        );
        let (a, b) = (p.a.data.as_ptr(), p.b.data.as_ptr());
        // B's rows contiguous (its own buffer), or packed so.
        let packed: Vec<T>;
        let (b, ldb) = if p.b.col_stride == 1 {
            // SAFETY: `ob` is inside B's buffer (checked by the caller).
            (unsafe { b.add(p.ob) }, p.b.row_stride)
        } else {
            packed = pack(p);
            (packed.as_ptr(), p.n)
        };
        let shape = Shape {
            m: p.m,
            k: p.k,
            n: p.n,
            rsa: p.a.row_stride,
            csa: p.a.col_stride,
            ldb,
        };
        // SAFETY: AVX-512F is present (detected above); the caller checked
        // that every element of A and B the strides address is inside its
        // buffer, the packed B holds k x n elements, and `c` is an
        // exclusive m x n block, written in full. T is the kernel's type
        // (the `TypeId`s match), so the casts keep the layout.
        unsafe {
            let a = a.add(p.oa);
            if TypeId::of::<T>() == TypeId::of::<f32>() {
                x86::f32s::gemm(shape, a.cast(), b.cast(), c.as_mut_ptr().cast());
                return true;
            }
            if TypeId::of::<T>() == TypeId::of::<f64>() {
                x86::f64s::gemm(shape, a.cast(), b.cast(), c.as_mut_ptr().cast());
                return true;
            }
        }
    }
    let _ = (p, c);
    false
}

#[cfg(target_arch = "x86_64")]
/// `B` as a contiguous row-major `k x n` matrix, read one column at a
/// time (a transposed `B` has contiguous columns).
fn pack<T: Element>(p: Block<'_, T>) -> Vec<T> {
    let (k, n) = (p.k, p.n);
    let mut out = vec![T::zero(); k * n];
    for j in 0..n {
        let col = p.ob + j * p.b.col_stride;
        for (kk, o) in out[j..].iter_mut().step_by(n).enumerate() {
            *o = p.b.data[col + kk * p.b.row_stride];
        }
    }
    out
}

/// The sizes and strides of one product (in elements): `A` is `m x k`
/// (strides `rsa`, `csa`), `B` `k x n` with contiguous rows `ldb` apart,
/// `C` `m x n` contiguous.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Shape {
    m: usize,
    k: usize,
    n: usize,
    rsa: usize,
    csa: usize,
    ldb: usize,
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    /// One element type's kernel: its vector, mask and intrinsics.
    macro_rules! kernel {
        ($name:ident, $t:ty, $v:ty, $mask:ty, $lanes:expr, $zero:ident, $set1:ident,
         $fma:ident, $load:ident, $store:ident) => {
            pub(super) mod $name {
                use std::arch::x86_64::*;

                use super::super::Shape;

                const LANES: usize = $lanes;
                /// Rows per tile.
                const MR: usize = 8;
                /// Registers per tile row.
                const NC: usize = 3;

                /// The mask of the first `w` lanes (`w <= LANES`).
                fn mask(w: usize) -> $mask {
                    ((1u32 << w) - 1) as $mask
                }

                /// `c = a @ b`, panel of `NC * LANES` columns by panel.
                ///
                /// # Safety
                /// AVX-512F present; `a`, `b`, `c` valid for `s`.
                #[target_feature(enable = "avx512f")]
                pub(in super::super) unsafe fn gemm(
                    s: Shape,
                    a: *const $t,
                    b: *const $t,
                    c: *mut $t,
                ) {
                    let mut j0 = 0;
                    while j0 < s.n {
                        let w = (s.n - j0).min(NC * LANES);
                        let mut masks: [$mask; NC] = [0; NC];
                        for (q, m) in masks.iter_mut().enumerate() {
                            *m = mask(w.saturating_sub(q * LANES).min(LANES));
                        }
                        let mut i0 = 0;
                        while i0 < s.m {
                            let rows = (s.m - i0).min(MR);
                            // SAFETY: rows i0.. and columns j0.. of the
                            // caller's matrices.
                            unsafe {
                                let (a, b, c) =
                                    (a.add(i0 * s.rsa), b.add(j0), c.add(i0 * s.n + j0));
                                match (rows, w.div_ceil(LANES)) {
                                    (8, 3) => tile::<8, 3>(s, a, b, c, masks),
                                    (8, 2) => tile::<8, 2>(s, a, b, c, masks),
                                    (8, _) => tile::<8, 1>(s, a, b, c, masks),
                                    (4..=7, 3) => tile::<4, 3>(s, a, b, c, masks),
                                    (4..=7, 2) => tile::<4, 2>(s, a, b, c, masks),
                                    (4..=7, _) => tile::<4, 1>(s, a, b, c, masks),
                                    (_, 3) => tile::<1, 3>(s, a, b, c, masks),
                                    (_, 2) => tile::<1, 2>(s, a, b, c, masks),
                                    _ => tile::<1, 1>(s, a, b, c, masks),
                                }
                            }
                            // Tiles of 4 and 1 rows cover the rest.
                            i0 += match rows {
                                8 => 8,
                                4..=7 => 4,
                                _ => 1,
                            };
                        }
                        j0 += w;
                    }
                }

                /// Rows `0..R` by registers `0..C` of the panel at `c`.
                ///
                /// # Safety
                /// As [`gemm`], for `R` rows and the masked columns.
                #[target_feature(enable = "avx512f")]
                #[inline]
                unsafe fn tile<const R: usize, const C: usize>(
                    s: Shape,
                    a: *const $t,
                    b: *const $t,
                    c: *mut $t,
                    masks: [$mask; NC],
                ) {
                    let mut acc = [[$zero(); C]; R];
                    for kk in 0..s.k {
                        // SAFETY: row kk of B and column kk of A's rows.
                        unsafe {
                            let bp = b.add(kk * s.ldb);
                            let mut bv = [$zero(); C];
                            for q in 0..C {
                                bv[q] = $load(masks[q], bp.add(q * LANES));
                            }
                            let ap = a.add(kk * s.csa);
                            for r in 0..R {
                                let x = $set1(*ap.add(r * s.rsa));
                                for q in 0..C {
                                    acc[r][q] = $fma(x, bv[q], acc[r][q]);
                                }
                            }
                        }
                    }
                    for r in 0..R {
                        for q in 0..C {
                            // SAFETY: row r of the tile, masked columns.
                            unsafe { $store(c.add(r * s.n + q * LANES), masks[q], acc[r][q]) };
                        }
                    }
                }
            }
        };
    }

    kernel!(
        f32s,
        f32,
        __m512,
        __mmask16,
        16,
        _mm512_setzero_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_maskz_loadu_ps,
        _mm512_mask_storeu_ps
    );
    kernel!(
        f64s,
        f64,
        __m512d,
        __mmask8,
        8,
        _mm512_setzero_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_maskz_loadu_pd,
        _mm512_mask_storeu_pd
    );
}

#[cfg(test)]
mod tests {
    use super::super::gemm::GemmOperand;
    use super::*;

    /// Each element as one chain of fused multiply-adds over `k` in order.
    fn chain<T: Element>(p: Block<'_, T>) -> Vec<T> {
        let mut out = Vec::with_capacity(p.m * p.n);
        for i in 0..p.m {
            for j in 0..p.n {
                let mut acc = T::zero();
                for kk in 0..p.k {
                    let x = p.a.data[p.oa + i * p.a.row_stride + kk * p.a.col_stride];
                    let y = p.b.data[p.ob + kk * p.b.row_stride + j * p.b.col_stride];
                    acc = x.mul_add(y, acc);
                }
                out.push(acc);
            }
        }
        out
    }

    fn check<T: Element>(cast: impl Fn(f64) -> T) {
        // Rows around the tiles (8, 4, 1 and mixes), columns around the
        // registers and panels, B read in place and packed (transposed),
        // A transposed and with a gap between rows.
        for (m, k, n) in [
            (1, 3, 1),
            (5, 7, 17),
            (13, 31, 33),
            (64, 64, 32),
            (9, 2, 100),
        ] {
            for (b_t, a_t) in [(false, false), (true, false), (false, true)] {
                let a: Vec<T> = (0..(m * (k + 2)) + 5)
                    .map(|i| cast((i as f64 * 0.37).sin()))
                    .collect();
                let b: Vec<T> = (0..k * n + 3)
                    .map(|i| cast((i as f64 * 0.11).cos() * 3.0))
                    .collect();
                let (rsa, csa) = if a_t { (1, m) } else { (k + 2, 1) };
                let (rsb, csb) = if b_t { (1, k) } else { (n, 1) };
                let p = Block {
                    m,
                    k,
                    n,
                    a: GemmOperand {
                        data: &a,
                        batch_strides: &[],
                        row_stride: rsa,
                        col_stride: csa,
                    },
                    oa: 2,
                    b: GemmOperand {
                        data: &b,
                        batch_strides: &[],
                        row_stride: rsb,
                        col_stride: csb,
                    },
                    ob: 1,
                };
                let mut c = vec![MaybeUninit::<T>::uninit(); m * n];
                if !write(p, &mut c) {
                    // No AVX-512 on this core: nothing to check here.
                    return;
                }
                // SAFETY: `write` returned true, so it wrote every element.
                let got: Vec<T> = c.iter().map(|v| unsafe { v.assume_init() }).collect();
                let want = chain(p);
                for (x, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        g == w,
                        "{m}x{k}x{n} b_t {b_t} a_t {a_t} element {x}: {g:?} vs {w:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_element_is_one_fused_chain_in_order() {
        check::<f32>(|v| v as f32);
        check::<f64>(|v| v);
    }
}
