//! Permutation copies whose last output dim is strided in the source:
//! tiled transposes (in parallel blocks when large), with an AVX kernel for
//! `f32` tiles on x86-64.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::iter::for_each_offset;

/// A permutation copy whose source is contiguous along dim `d` but strided
/// along the output's last dim by more than the output's stride of `d`:
/// copied in square tiles through a small buffer, so that every source read
/// and every output write is a contiguous run of `TILE` elements (walking a
/// large, cache-aliasing source stride element by element was 3x slower on
/// a [512, 16384] transpose).
pub(super) fn transpose_tiled<T: Copy + Send + Sync + 'static>(
    cs: &[usize],
    st: &[usize],
    src: &[T],
    d: usize,
) -> Vec<T> {
    let numel: usize = cs.iter().product();
    let mut out: Vec<T> = Vec::with_capacity(numel);
    let dst = &mut out.spare_capacity_mut()[..numel];
    // Large results are split along the output's leading dim, in whole
    // tiles when that dim is `d`; each block is a transpose of its own.
    let row = numel / cs[0];
    let per = match super::par::blocks(cs[0], numel) {
        p if d == 0 => p.next_multiple_of(TILE).min(cs[0]),
        p => p,
    };
    let block = |(k, dst): (usize, &mut [MaybeUninit<T>])| {
        let mut sub = cs.to_vec();
        sub[0] = dst.len() / row;
        transpose_into(&sub, st, src, k * per * st[0], d, dst);
    };
    if per < cs[0] {
        dst.par_chunks_mut(per * row).enumerate().for_each(block);
    } else {
        block((0, dst));
    }
    // SAFETY: the blocks partition the output, and `transpose_into` writes
    // every element of its block (see there).
    unsafe { out.set_len(numel) };
    out
}

const TILE: usize = 16;

/// Writes all of `dst`, the contiguous output of shape `cs`, from the source
/// view at offset `base` with strides `st`, in `TILE x TILE` tiles over
/// (`d`, last).
fn transpose_into<T: Copy + 'static>(
    cs: &[usize],
    st: &[usize],
    src: &[T],
    base: usize,
    d: usize,
    dst: &mut [MaybeUninit<T>],
) {
    let last = cs.len() - 1;
    let ost = super::iter::contiguous_strides(cs);
    let [rest, rs, ro] = outer_dims(cs, st, &ost, last, d);
    let (nd, nl, sl, od) = (cs[d], cs[last], st[last], ost[d]);
    let mut buf = [[src[base]; TILE]; TILE];
    let simd = simd::available::<T>();
    // The tiles cover every (rest, i, j) of `cs` once, and
    // `oo + i * od + j` over them is every index of `dst`: all of it is
    // written.
    for_each_offset(&rest, [&rs, &ro], |[so, oo]| {
        let so = so + base;
        for i0 in (0..nd).step_by(TILE) {
            let ni = TILE.min(nd - i0);
            for j0 in (0..nl).step_by(TILE) {
                let nj = TILE.min(nl - j0);
                if ni == TILE && nj == TILE {
                    let (s0, o0) = (so + j0 * sl + i0, oo + i0 * od + j0);
                    if simd {
                        simd::tile(src, s0, sl, dst, o0, od);
                    } else {
                        full_tile(src, s0, sl, dst, o0, od, &mut buf);
                    }
                    continue;
                }
                // buf[i][j] = src[i0 + i, j0 + j] (source rows along i).
                for j in 0..nj {
                    let row = so + (j0 + j) * sl + i0;
                    for (b, &v) in buf.iter_mut().zip(&src[row..row + ni]) {
                        b[j] = v;
                    }
                }
                for (i, b) in buf[..ni].iter().enumerate() {
                    let o = oo + (i0 + i) * od + j0;
                    for (w, &v) in dst[o..o + nj].iter_mut().zip(&b[..nj]) {
                        w.write(v);
                    }
                }
            }
        }
    });
}

/// A permutation copy of whole rows (the last dim, contiguous in the
/// source) where the output's second-to-last dim `k` walks the source in
/// large steps and dim `d` in steps of one row: rows copied in `R x R`
/// tiles over (`d`, `k`), so that both the rows read and the rows written
/// are mostly adjacent (row by row, every read was a new page: 4x slower
/// on W6's Hessian layout).
pub(super) fn rows_tiled<T: Copy>(cs: &[usize], st: &[usize], src: &[T], d: usize) -> Vec<T> {
    const R: usize = 8;
    let last = cs.len() - 1;
    let (k, len) = (last - 1, cs[last]);
    let ost = super::iter::contiguous_strides(cs);
    let numel: usize = cs.iter().product();
    let mut out: Vec<T> = Vec::with_capacity(numel);
    let dst = &mut out.spare_capacity_mut()[..numel];
    let [rest, rs, ro] = outer_dims(cs, st, &ost, k, d);
    // Every (rest, a, b) of `cs` is visited once and its whole row of `len`
    // elements written: all of `dst` is.
    for_each_offset(&rest, [&rs, &ro], |[so, oo]| {
        for a0 in (0..cs[d]).step_by(R) {
            for b0 in (0..cs[k]).step_by(R) {
                for a in a0..(a0 + R).min(cs[d]) {
                    for b in b0..(b0 + R).min(cs[k]) {
                        let (s0, o0) = (so + a * st[d] + b * st[k], oo + a * ost[d] + b * ost[k]);
                        for (w, &v) in dst[o0..o0 + len].iter_mut().zip(&src[s0..s0 + len]) {
                            w.write(v);
                        }
                    }
                }
            }
        }
    });
    // SAFETY: all `numel` elements were written (see above).
    unsafe { out.set_len(numel) };
    out
}

/// The dims before `end` other than `d`, the ones a tiled copy iterates
/// around its tiles: their sizes, source strides and output strides.
fn outer_dims(cs: &[usize], st: &[usize], ost: &[usize], end: usize, d: usize) -> [Vec<usize>; 3] {
    let dims: Vec<usize> = (0..end).filter(|&q| q != d).collect();
    [cs, st, ost].map(|v| dims.iter().map(|&q| v[q]).collect())
}

/// A full tile through `buf`: fixed trip counts, so the compiler unrolls
/// the copies. `s0`/`o0` are the tile's first source and output elements.
#[inline]
fn full_tile<T: Copy>(
    src: &[T],
    s0: usize,
    sl: usize,
    dst: &mut [MaybeUninit<T>],
    o0: usize,
    od: usize,
    buf: &mut [[T; TILE]; TILE],
) {
    for j in 0..TILE {
        let row: &[T; TILE] = src[s0 + j * sl..][..TILE].try_into().expect("tile");
        for (b, &v) in buf.iter_mut().zip(row) {
            b[j] = v;
        }
    }
    for (i, b) in buf.iter().enumerate() {
        let w: &mut [_; TILE] = (&mut dst[o0 + i * od..][..TILE]).try_into().expect("tile");
        for (w, &v) in w.iter_mut().zip(b) {
            w.write(v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod simd {
    //! 16 x 16 `f32` tiles as four 8 x 8 AVX register transposes.

    use std::any::TypeId;
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    use super::TILE;

    /// Whether [`tile`] handles `T` on this CPU.
    pub fn available<T: 'static>() -> bool {
        TypeId::of::<T>() == TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx")
    }

    /// The full tile at `s0`/`o0` (as in `full_tile`), for `T = f32` on a
    /// CPU with AVX (the caller checked [`available`]).
    ///
    /// # Panics
    /// If `T` is not `f32` or the tile reaches outside `src` or `dst`.
    pub fn tile<T: Copy + 'static>(
        src: &[T],
        s0: usize,
        sl: usize,
        dst: &mut [MaybeUninit<T>],
        o0: usize,
        od: usize,
    ) {
        assert!(
            available::<T>(),
            "transforms-kernels: AVX tile of a non-f32 type"
        );
        let src = &src[s0..s0 + (TILE - 1) * sl + TILE];
        let dst = &mut dst[o0..o0 + (TILE - 1) * od + TILE];
        let (src, dst) = (src.as_ptr().cast::<f32>(), dst.as_mut_ptr().cast::<f32>());
        for (a, b) in [(0, 0), (0, 8), (8, 0), (8, 8)] {
            // SAFETY: `T` is `f32` (checked), so the casts keep the element
            // size and layout (`MaybeUninit<f32>` is an `f32`); the slices
            // above were bounds-checked to cover rows 0..TILE at strides
            // `sl` and `od` with TILE elements each, which contain every
            // 8 x 8 sub-tile; AVX is present (checked).
            unsafe { transpose8(src.add(b * sl + a), sl, dst.add(a * od + b), od) };
        }
    }

    /// The 8 x 8 transpose in registers: lane `r` of result `l` is lane `l`
    /// of `a[r]` (also what the AVX dot products reduce with).
    #[inline]
    #[target_feature(enable = "avx")]
    pub(in crate::cpu) fn regs8(a: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(a[0], a[1]);
        let t1 = _mm256_unpackhi_ps(a[0], a[1]);
        let t2 = _mm256_unpacklo_ps(a[2], a[3]);
        let t3 = _mm256_unpackhi_ps(a[2], a[3]);
        let t4 = _mm256_unpacklo_ps(a[4], a[5]);
        let t5 = _mm256_unpackhi_ps(a[4], a[5]);
        let t6 = _mm256_unpacklo_ps(a[6], a[7]);
        let t7 = _mm256_unpackhi_ps(a[6], a[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }

    /// `dst[i * od + j] = src[j * sl + i]` for `i, j < 8`.
    #[target_feature(enable = "avx")]
    unsafe fn transpose8(src: *const f32, sl: usize, dst: *mut f32, od: usize) {
        // SAFETY (whole body): the caller guarantees 8 rows of 8 readable
        // elements at `src` (stride `sl`) and writable ones at `dst`
        // (stride `od`); unaligned loads and stores are used.
        unsafe {
            let r: [__m256; 8] = std::array::from_fn(|k| _mm256_loadu_ps(src.add(k * sl)));
            let out = regs8(r);
            for (k, v) in out.into_iter().enumerate() {
                _mm256_storeu_ps(dst.add(k * od), v);
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    use std::mem::MaybeUninit;

    pub fn available<T>() -> bool {
        false
    }

    pub fn tile<T>(_: &[T], _: usize, _: usize, _: &mut [MaybeUninit<T>], _: usize, _: usize) {
        unreachable!("no SIMD tile on this target")
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::copy_strided;

    /// A [r, c] transpose of a [c, r] source, f32 (the SIMD tiles where
    /// available) and f64 (the scalar tiles), against index arithmetic.
    fn check<T: Copy + PartialEq + std::fmt::Debug + Send + Sync + 'static>(
        r: usize,
        c: usize,
        make: impl Fn(usize) -> T,
    ) {
        let src: Vec<T> = (0..r * c).map(&make).collect();
        let out = copy_strided(&[r, c], &src, &[1, r]);
        for i in 0..r {
            for j in 0..c {
                assert_eq!(out[i * c + j], src[j * r + i], "[{r}, {c}] at ({i}, {j})");
            }
        }
    }

    #[test]
    fn row_transposes_match_index_arithmetic() {
        // Output [b, o, n, x] from a source [b, n, o, x]: rows of x swapped
        // between dims 1 and 2, sizes that do not divide the tile.
        for (b, n, o, x) in [(3, 31, 33, 31), (1, 9, 17, 2), (2, 8, 8, 5)] {
            let src: Vec<f64> = (0..b * n * o * x).map(|v| v as f64).collect();
            let strides = [n * o * x, x, o * x, 1];
            let out = copy_strided(&[b, o, n, x], &src, &strides);
            let mut q = 0;
            for i in 0..b {
                for j in 0..o {
                    for k in 0..n {
                        for e in 0..x {
                            let want = src[i * strides[0] + j * x + k * o * x + e];
                            assert_eq!(
                                out[q], want,
                                "[{b}, {o}, {n}, {x}] at ({i}, {j}, {k}, {e})"
                            );
                            q += 1;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn full_and_ragged_tiles_in_both_types() {
        for (r, c) in [(16, 16), (64, 48), (48, 64), (33, 70), (8, 200), (200, 8)] {
            check(r, c, |k| k as f32);
            check(r, c, |k| k as f64);
        }
    }
}
