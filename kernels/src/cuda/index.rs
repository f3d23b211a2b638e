//! The 32-bit index of the strided kernels (`Index32` in `prelude.cuh`),
//! built on the host and passed to a kernel by value.
//!
//! The output's dims are first coalesced (size-1 dims dropped, neighbours
//! that every operand walks as one merged), then each dim gets a magic
//! divisor, so that a thread splits its flat index into coordinates with a
//! multiply-high, an add and a shift per dim instead of a 64-bit division.
//! An output or operand too large for 32-bit offsets, or with more than
//! [`MAX_DIMS`] dims left after coalescing, gets no index: the kernels'
//! 64-bit form (dims and strides uploaded) serves it.

/// Most dims an [`Index32`] holds (`MAX_DIMS` in `prelude.cuh`).
pub const MAX_DIMS: usize = 6;
/// Most operands an [`Index32`] walks (`MAX_OPERANDS` in `prelude.cuh`).
pub const MAX_OPERANDS: usize = 3;

/// `struct Index32` of `prelude.cuh`, field for field (all `u32`, so the C
/// and Rust layouts agree): the coalesced output dims, their magic divisors
/// (see [`magic`]), and one row of element strides per operand.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Index32 {
    /// Dims in use (`dims[..ndim]`, row-major).
    pub ndim: u32,
    /// The output's dims.
    pub dims: [u32; MAX_DIMS],
    /// The magic multiplier of each dim.
    pub magic: [u32; MAX_DIMS],
    /// The shift of each dim.
    pub shift: [u32; MAX_DIMS],
    /// Each operand's element stride along each dim.
    pub strides: [[u32; MAX_DIMS]; MAX_OPERANDS],
}

/// The magic multiplier and shift that divide any `u32` by `d` (`1 <= d <=
/// 2^31`): `i / d == ((mulhi(i, magic) as u64 + i as u64) >> shift)`, the
/// round-up method of Granlund and Montgomery with `shift = ceil(log2 d)`.
pub fn magic(d: u32) -> (u32, u32) {
    assert!((1..=1 << 31).contains(&d), "magic divisor of {d}");
    let shift = 32 - (d - 1).leading_zeros();
    let m = ((1u64 << 32) * ((1u64 << shift) - u64::from(d))) / u64::from(d) + 1;
    (
        u32::try_from(m).expect("a magic multiplier below 2^32"),
        shift,
    )
}

/// `i / d` as the kernels compute it from [`magic`]'s pair.
pub fn magic_div(i: u32, (m, shift): (u32, u32)) -> u32 {
    let hi = (u64::from(i) * u64::from(m)) >> 32;
    ((hi + u64::from(i)) >> shift) as u32
}

/// The coalesced dims of an output `out` walked by operands with the
/// element stride rows `rows` (one per operand, `out.len()` long), and the
/// rows along them: size-1 dims dropped, and each dim merged into the one
/// before it where every operand steps across both as across one.
pub fn coalesce(out: &[usize], rows: &[&[usize]]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut dims: Vec<usize> = Vec::with_capacity(out.len());
    let mut strides: Vec<Vec<usize>> = vec![Vec::with_capacity(out.len()); rows.len()];
    for (d, &size) in out.iter().enumerate() {
        if size == 1 {
            continue;
        }
        let merges = dims.last().is_some()
            && rows
                .iter()
                .zip(&strides)
                .all(|(row, kept)| kept.last() == Some(&(row[d] * size)));
        if merges {
            *dims.last_mut().expect("checked") *= size;
            for (row, kept) in rows.iter().zip(&mut strides) {
                *kept.last_mut().expect("checked") = row[d];
            }
        } else {
            dims.push(size);
            for (row, kept) in rows.iter().zip(&mut strides) {
                kept.push(row[d]);
            }
        }
    }
    (dims, strides)
}

impl Index32 {
    /// The index of a non-empty output `out` read by up to
    /// [`MAX_OPERANDS`] operands through `rows`, or `None` when it does not
    /// fit: more than `u32::MAX` elements, an operand offset past
    /// `u32::MAX`, a dim over 2^31, or more than [`MAX_DIMS`] dims after
    /// coalescing.
    pub fn new(out: &[usize], rows: &[&[usize]]) -> Option<Index32> {
        assert!(
            rows.len() <= MAX_OPERANDS,
            "at most {MAX_OPERANDS} operands"
        );
        assert!(
            rows.iter().all(|r| r.len() == out.len()),
            "a stride per dim"
        );
        let n = out.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
        if n == 0 || n > u32::MAX as usize {
            return None;
        }
        let (dims, strides) = coalesce(out, rows);
        if dims.len() > MAX_DIMS || dims.iter().any(|&d| d > 1 << 31) {
            return None;
        }
        let mut ix = Index32 {
            ndim: dims.len() as u32,
            ..Index32::default()
        };
        for (k, row) in strides.iter().enumerate() {
            let reach = dims
                .iter()
                .zip(row)
                .try_fold(0usize, |a, (&d, &s)| a.checked_add((d - 1).checked_mul(s)?))?;
            if reach > u32::MAX as usize {
                return None;
            }
            for (slot, &s) in ix.strides[k].iter_mut().zip(row) {
                *slot = s as u32;
            }
        }
        for (d, &size) in dims.iter().enumerate() {
            let (m, shift) = magic(size as u32);
            ix.dims[d] = size as u32;
            ix.magic[d] = m;
            ix.shift[d] = shift;
        }
        Some(ix)
    }

    /// The offset in operand `k` of the flat output index `i`, computed as
    /// the kernels compute it (`offsets32` in `prelude.cuh`).
    pub fn offset(&self, mut i: u32, k: usize) -> u32 {
        let mut off = 0u32;
        for d in (0..self.ndim as usize).rev() {
            let r = if d > 0 {
                let q = magic_div(i, (self.magic[d], self.shift[d]));
                let r = i - q * self.dims[d];
                i = q;
                r
            } else {
                i
            };
            off += r * self.strides[k][d];
        }
        off
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_division_is_exact() {
        let mut divisors: Vec<u32> = (1..=3000).collect();
        for k in 12..=31 {
            let p = 1u32 << k;
            divisors.extend([p - 1, p, p + 1, p / 3 * 2 + 1]);
        }
        divisors.retain(|&d| d <= 1 << 31);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for &d in &divisors {
            let pair = magic(d);
            let check = |i: u32| {
                assert_eq!(magic_div(i, pair), i / d, "{i} / {d}");
            };
            for i in [
                0,
                1,
                d - 1,
                d,
                d.wrapping_add(1),
                u32::MAX,
                u32::MAX - 1,
                1 << 31,
            ] {
                check(i);
            }
            for q in [1u32, 2, 3, 1000, 65_535] {
                if let Some(i) = d.checked_mul(q) {
                    check(i);
                    check(i - 1);
                }
            }
            for _ in 0..200 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                check(seed as u32);
            }
        }
    }

    /// The row-major offsets of every flat index, the slow way.
    fn reference(out: &[usize], row: &[usize], mut i: usize) -> usize {
        let mut off = 0;
        for (&d, &s) in out.iter().zip(row).rev() {
            off += (i % d) * s;
            i /= d;
        }
        off
    }

    #[test]
    fn offsets_match_the_strided_walk() {
        let cases: Vec<(Vec<usize>, Vec<Vec<usize>>)> = vec![
            (vec![], vec![vec![]]),
            (vec![7], vec![vec![1], vec![0]]),
            (
                vec![4, 5, 6],
                vec![vec![30, 6, 1], vec![0, 1, 0], vec![5, 1, 20]],
            ),
            (vec![3, 1, 4, 1], vec![vec![4, 99, 1, 7], vec![0, 0, 1, 0]]),
            (
                vec![2, 3, 4, 5, 6, 7, 2],
                vec![vec![0, 1680, 420, 84, 14, 2, 1]],
            ),
            (
                vec![33, 31, 31],
                vec![vec![31, 0, 1], vec![0, 31, 1], vec![1, 0, 0]],
            ),
            (
                vec![2, 2, 2, 2, 2, 2, 2, 2],
                vec![vec![128, 64, 32, 16, 8, 4, 2, 1]],
            ),
        ];
        for (out, rows) in &cases {
            let refs: Vec<&[usize]> = rows.iter().map(|r| &r[..]).collect();
            let ix = Index32::new(out, &refs).unwrap_or_else(|| panic!("{out:?} fits"));
            let n: usize = out.iter().product();
            for i in 0..n {
                for (k, row) in rows.iter().enumerate() {
                    assert_eq!(
                        ix.offset(i as u32, k) as usize,
                        reference(out, row, i),
                        "{out:?} {row:?} at {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn random_broadcasts_and_permutations_match_the_strided_walk() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..400 {
            let ndim = next(8);
            let out: Vec<usize> = (0..ndim).map(|_| 1 + next(5)).collect();
            let n: usize = out.iter().product();
            // Per operand: contiguous strides of a permutation of `out`,
            // with some dims broadcast (stride 0).
            let rows: Vec<Vec<usize>> = (0..1 + next(3))
                .map(|_| {
                    let mut order: Vec<usize> = (0..ndim).collect();
                    for i in (1..ndim).rev() {
                        order.swap(i, next(i + 1));
                    }
                    let mut st = vec![0; ndim];
                    let mut step = 1;
                    for &d in order.iter().rev() {
                        if next(4) != 0 {
                            st[d] = step;
                            step *= out[d];
                        }
                    }
                    st
                })
                .collect();
            let refs: Vec<&[usize]> = rows.iter().map(|r| &r[..]).collect();
            let Some(ix) = Index32::new(&out, &refs) else {
                assert!(coalesce(&out, &refs).0.len() > MAX_DIMS, "{out:?} {rows:?}");
                continue;
            };
            for i in 0..n {
                for (k, row) in rows.iter().enumerate() {
                    assert_eq!(
                        ix.offset(i as u32, k) as usize,
                        reference(&out, row, i),
                        "{out:?} {row:?} at {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn coalescing_merges_what_every_operand_walks_as_one() {
        // A contiguous tensor and a broadcast over the leading dims.
        let (dims, st) = coalesce(&[4, 5, 6], &[&[30, 6, 1], &[0, 0, 1]]);
        assert_eq!(dims, vec![20, 6]);
        assert_eq!(st, vec![vec![6, 1], vec![0, 1]]);
        let (dims, st) = coalesce(&[4, 1, 6], &[&[6, 6, 1]]);
        assert_eq!((dims, st), (vec![24], vec![vec![1]]));
        let (dims, _) = coalesce(&[2, 3], &[&[1, 2]]);
        assert_eq!(dims, vec![2, 3], "a transpose stays two dims");
    }

    #[test]
    fn what_does_not_fit_gets_no_index() {
        assert_eq!(Index32::new(&[0, 3], &[&[3, 1]]), None);
        assert_eq!(Index32::new(&[1 << 16, 1 << 16], &[&[1 << 16, 1]]), None);
        assert_eq!(Index32::new(&[3, 2], &[&[1 << 31, 1]]), None);
        assert!(Index32::new(&[2, 2], &[&[1 << 31, 1]]).is_some());
        let eight = [2usize; 8];
        let spread = [1usize, 4, 16, 64, 256, 1024, 4096, 16384];
        assert_eq!(Index32::new(&eight, &[&spread]), None);
        assert!(Index32::new(&[65_536, 33, 31, 31], &[&[1023, 0, 31, 1]]).is_some());
    }
}
