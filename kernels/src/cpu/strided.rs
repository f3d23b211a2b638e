//! Strided gathers: broadcasting (stride 0) and permutation copies, and the
//! broadcasting binary kernel.

use super::iter::{coalesce, for_each_offset, max_offset};
use super::transpose::{rows_tiled, transpose_tiled};

fn check_operand(what: &str, shape: &[usize], strides: &[usize], len: usize) {
    assert_eq!(
        shape.len(),
        strides.len(),
        "transforms-kernels: {what}: stride rank mismatch"
    );
    if !shape.contains(&0) {
        assert!(
            max_offset(shape, strides) < len,
            "transforms-kernels: {what}: strides address past the end of a buffer of length {len}"
        );
    }
}

/// Gathers `src` viewed with `shape`/`strides` into a new contiguous row-major
/// buffer of `shape`.
///
/// # Panics
/// If the strided view reaches outside `src`.
pub fn copy_strided<T: Copy + Send + Sync + 'static>(
    shape: &[usize],
    src: &[T],
    strides: &[usize],
) -> Vec<T> {
    check_operand("copy_strided", shape, strides, src.len());
    let numel: usize = shape.iter().product();
    if numel == 0 {
        return Vec::new();
    }
    let (cs, [st]) = coalesce(shape, [strides]);
    let last = cs.len() - 1;
    let (len, s) = (cs[last], st[last]);
    let src_contiguous = (0..last).rev().find(|&d| st[d] == 1 && cs[d] > 1);
    if len > 1
        && s > 1
        && let Some(d) = src_contiguous
    {
        return transpose_tiled(&cs, &st, src, d);
    }
    // Whole rows, but consecutive rows of the output far apart in the
    // source while rows along an outer dim `d` sit next to each other: a
    // transpose of rows.
    if s == 1 && last >= 2 && st[last - 1] > len {
        let next = (0..last - 1).rev().find(|&d| st[d] == len && cs[d] > 1);
        if let Some(d) = next {
            return rows_tiled(&cs, &st, src, d);
        }
    }
    let mut out = Vec::with_capacity(numel);
    for_each_offset(&cs[..last], [&st[..last]], |[o]| match s {
        1 => out.extend_from_slice(&src[o..o + len]),
        0 => out.extend(std::iter::repeat_n(src[o], len)),
        _ => out.extend(src[o..].iter().step_by(s).take(len).copied()),
    });
    out
}

/// Broadcasting binary kernel: `out[i] = f(a[i . sa], b[i . sb])` for every
/// multi-index `i` of `shape`, written contiguously.
///
/// # Panics
/// If a strided view reaches outside its buffer.
pub fn zip_strided<T: Copy, F: Fn(T, T) -> T>(
    shape: &[usize],
    a: &[T],
    sa: &[usize],
    b: &[T],
    sb: &[usize],
    f: F,
) -> Vec<T> {
    check_operand("zip_strided", shape, sa, a.len());
    check_operand("zip_strided", shape, sb, b.len());
    let numel: usize = shape.iter().product();
    let mut out = Vec::with_capacity(numel);
    if numel == 0 {
        return out;
    }
    let (cs, [ta, tb]) = coalesce(shape, [sa, sb]);
    let last = cs.len() - 1;
    let (len, xa, xb) = (cs[last], ta[last], tb[last]);
    for_each_offset(&cs[..last], [&ta[..last], &tb[..last]], |[oa, ob]| {
        match (xa, xb) {
            (1, 1) => out.extend(
                a[oa..oa + len]
                    .iter()
                    .zip(&b[ob..ob + len])
                    .map(|(&x, &y)| f(x, y)),
            ),
            (1, 0) => {
                let y = b[ob];
                out.extend(a[oa..oa + len].iter().map(|&x| f(x, y)));
            }
            (0, 1) => {
                let x = a[oa];
                out.extend(b[ob..ob + len].iter().map(|&y| f(x, y)));
            }
            _ => out.extend((0..len).map(|i| f(a[oa + i * xa], b[ob + i * xb]))),
        }
    });
    out
}

/// Elements per piece of an inner run in [`zip3_strided`]: operands that are
/// not contiguous along the run are gathered into rows of this length.
const ZIP3_PIECE: usize = 256;

/// Broadcasting ternary kernel: `out[i] = f(a[i . sa], b[i . sb], c[i . sc])`
/// for every multi-index `i` of `shape`, written contiguously. The space is
/// coalesced first; along the innermost run an operand with unit stride is
/// read in place and any other (a broadcast, a transposed read) is gathered
/// into a short row, so the combining loop always runs over three slices.
///
/// # Panics
/// If a strided view reaches outside its buffer.
pub fn zip3_strided<T: Copy, F: Fn(T, T, T) -> T>(
    shape: &[usize],
    [a, b, c]: [&[T]; 3],
    [sa, sb, sc]: [&[usize]; 3],
    f: F,
) -> Vec<T> {
    check_operand("zip3_strided", shape, sa, a.len());
    check_operand("zip3_strided", shape, sb, b.len());
    check_operand("zip3_strided", shape, sc, c.len());
    let numel: usize = shape.iter().product();
    let mut out = Vec::with_capacity(numel);
    if numel == 0 {
        return out;
    }
    let (cs, [ta, tb, tc]) = coalesce(shape, [sa, sb, sc]);
    let last = cs.len() - 1;
    let len = cs[last];
    let inner = [ta[last], tb[last], tc[last]];
    let srcs = [a, b, c];
    // Every operand holds an element here (numel > 0 and checked bounds).
    let mut scratch: [Vec<T>; 3] = std::array::from_fn(|k| {
        if inner[k] == 1 {
            Vec::new()
        } else {
            vec![srcs[k][0]; len.min(ZIP3_PIECE)]
        }
    });
    for_each_offset(
        &cs[..last],
        [&ta[..last], &tb[..last], &tc[..last]],
        |offs| {
            let mut start = 0;
            while start < len {
                let n = (len - start).min(ZIP3_PIECE);
                let [ra, rb, rc] = row_pieces(srcs, offs, inner, start, n, &mut scratch);
                out.extend(ra.iter().zip(rb).zip(rc).map(|((&x, &y), &z)| f(x, y, z)));
                start += n;
            }
        },
    );
    out
}

/// The `n` elements from position `start` of each operand's inner run (at
/// offset `offs[k]`, stride `inner[k]`): a slice of the operand when its
/// stride is 1, otherwise gathered into `scratch[k]`.
fn row_pieces<'a, T: Copy>(
    srcs: [&'a [T]; 3],
    offs: [usize; 3],
    inner: [usize; 3],
    start: usize,
    n: usize,
    scratch: &'a mut [Vec<T>; 3],
) -> [&'a [T]; 3] {
    let mut rows: [&[T]; 3] = [&[]; 3];
    for (k, sc) in scratch.iter_mut().enumerate() {
        let (src, s) = (srcs[k], inner[k]);
        let o = offs[k] + start * s;
        rows[k] = match s {
            1 => &src[o..o + n],
            0 => {
                sc[..n].fill(src[o]);
                &sc[..n]
            }
            _ => {
                for (d, x) in sc[..n].iter_mut().zip(src[o..].iter().step_by(s)) {
                    *d = *x;
                }
                &sc[..n]
            }
        };
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_copy() {
        // [[0,1,2],[3,4,5]] transposed -> [[0,3],[1,4],[2,5]]
        let src = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            copy_strided(&[3, 2], &src, &[1, 3]),
            vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        );
    }

    #[test]
    fn large_batched_transpose_matches_plain_indexing() {
        // [3, 70, 50] buffer read as its per-matrix transpose [3, 50, 70]
        let src: Vec<f64> = (0..3 * 70 * 50).map(f64::from).collect();
        let out = copy_strided(&[3, 50, 70], &src, &[3500, 1, 50]);
        for b in 0..3 {
            for i in 0..50 {
                for j in 0..70 {
                    assert_eq!(out[b * 3500 + i * 70 + j], src[b * 3500 + j * 50 + i]);
                }
            }
        }
    }

    #[test]
    fn broadcast_copy() {
        let src = [1.0f64, 2.0];
        assert_eq!(
            copy_strided(&[2, 2], &src, &[0, 1]),
            vec![1.0, 2.0, 1.0, 2.0]
        );
        assert_eq!(
            copy_strided(&[2, 2], &src, &[1, 0]),
            vec![1.0, 1.0, 2.0, 2.0]
        );
        assert_eq!(copy_strided(&[], &[7.0f32], &[]), vec![7.0]);
        assert!(copy_strided(&[0, 3], &[] as &[f32], &[3, 1]).is_empty());
    }

    #[test]
    fn zip_broadcast_outer_product_and_general_strides() {
        let a = [1.0f32, 2.0, 3.0];
        let b = [10.0f32, 20.0];
        // out[i, j] = a[i] * b[j]
        let out = zip_strided(&[3, 2], &a, &[1, 0], &b, &[0, 1], |x, y| x * y);
        assert_eq!(out, vec![10.0, 20.0, 20.0, 40.0, 30.0, 60.0]);
        // a transposed against a contiguous b
        let a = [0.0f32, 1.0, 2.0, 3.0];
        let b = [100.0f32, 200.0, 300.0, 400.0];
        let out = zip_strided(&[2, 2], &a, &[1, 2], &b, &[2, 1], |x, y| x + y);
        assert_eq!(out, vec![100.0, 202.0, 301.0, 403.0]);
    }

    #[test]
    fn zip3_matches_index_arithmetic_for_every_kind_of_run() {
        // out[i, j, k] over [2, 3, 300] (an inner run longer than a piece):
        // a contiguous, b broadcast along k, c transposed (stride 6 along k).
        let (n0, n1, n2) = (2, 3, 300);
        let a: Vec<f64> = (0..n0 * n1 * n2).map(|x| x as f64).collect();
        let b: Vec<f64> = (0..n0 * n1).map(|x| 1000.0 + x as f64).collect();
        let c: Vec<f64> = (0..n2 * n0 * n1).map(|x| -(x as f64) * 0.5).collect();
        let (sa, sb, sc) = ([n1 * n2, n2, 1], [n1, 1, 0], [n1, 1, n0 * n1]);
        let f = |x: f64, y: f64, z: f64| x * 3.0 + y - z * z;
        let out = zip3_strided(&[n0, n1, n2], [&a, &b, &c], [&sa, &sb, &sc], f);
        let mut k = 0;
        for i in 0..n0 {
            for j in 0..n1 {
                for l in 0..n2 {
                    let at = |s: &[usize; 3]| i * s[0] + j * s[1] + l * s[2];
                    assert_eq!(
                        out[k],
                        f(a[at(&sa)], b[at(&sb)], c[at(&sc)]),
                        "[{i},{j},{l}]"
                    );
                    k += 1;
                }
            }
        }
        assert_eq!(k, out.len());
        // A 0-dim space is one element; an empty one none.
        assert_eq!(
            zip3_strided(&[], [&[2.0], &[3.0], &[4.0]], [&[], &[], &[]], f),
            vec![f(2.0, 3.0, 4.0)]
        );
        assert!(zip3_strided(&[0, 2], [&a, &b, &c], [&[2, 1], &[0, 1], &[0, 1]], f).is_empty());
    }

    #[test]
    #[should_panic(expected = "zip3_strided: strides address past the end")]
    fn zip3_rejects_a_view_past_the_end() {
        zip3_strided(
            &[2, 2],
            [&[1.0f32; 4], &[1.0; 4], &[1.0; 3]],
            [&[2, 1], &[2, 1], &[2, 1]],
            |x, _, _| x,
        );
    }

    #[test]
    #[should_panic(expected = "past the end")]
    fn out_of_bounds_is_rejected() {
        copy_strided(&[2, 2], &[1.0f32, 2.0, 3.0], &[2, 1]);
    }

    #[test]
    fn tiled_transpose_of_ragged_tiles_with_outer_dims() {
        // Output [3, 37, 2, 21] from a source [3, 21, 2, 37] (dims 1 and 3
        // swapped): tiles that do not divide 37 or 21, and two outer dims.
        check_swap(3, 37, 21);
        // Large enough to be split into blocks on a multi-threaded pool.
        const { assert!(3 * 301 * 2 * 117 >= crate::cpu::PAR_MIN_ELEMS) };
        check_swap(3, 301, 117);
        check_swap(1, 3000, 77);
    }

    fn check_swap(n0: usize, n1: usize, n3: usize) {
        let shape = [n0, n1, 2, n3];
        let strides = [n3 * 2 * n1, 1, n1, 2 * n1];
        let src: Vec<f32> = (0..n0 * n3 * 2 * n1).map(|x| x as f32).collect();
        let out = copy_strided(&shape, &src, &strides);
        let mut k = 0;
        for a in 0..n0 {
            for i in 0..n1 {
                for c in 0..2 {
                    for j in 0..n3 {
                        let o = a * strides[0] + i * strides[1] + c * strides[2] + j * strides[3];
                        assert_eq!(out[k], src[o], "at [{a}, {i}, {c}, {j}]");
                        k += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn tiled_transpose_matches_index_arithmetic() {
        // Output [2, 37, 21] gathered from a [2, 21, 37] source: the last output
        // dim walks the source with stride 37 (> the output stride 21 of dim 1).
        let src: Vec<f64> = (0..2 * 21 * 37).map(|x| x as f64).collect();
        let out = copy_strided(&[2, 37, 21], &src, &[21 * 37, 1, 37]);
        for b in 0..2 {
            for i in 0..37 {
                for j in 0..21 {
                    assert_eq!(out[b * 37 * 21 + i * 21 + j], src[b * 21 * 37 + j * 37 + i]);
                }
            }
        }
    }
}
