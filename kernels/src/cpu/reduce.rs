//! Sum reductions.

use super::iter::{coalesce, contiguous_strides, for_each_offset};
use crate::Element;

/// Sums a contiguous buffer (8 partial accumulators: vectorises and loses
/// less precision than a single running sum).
pub fn sum_slice<T: Element>(a: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = a.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (s, &x) in acc.iter_mut().zip(c) {
            *s += x;
        }
    }
    let mut total = T::zero();
    for &x in rest {
        total += x;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + total
}

/// Sums the contiguous row-major buffer `src` of `shape` over every dim `i`
/// with `reduce[i] == true`. The result is the contiguous buffer of the kept
/// dims (in order); reducing every dim gives a buffer of length 1.
///
/// # Panics
/// If `src.len()` or `reduce.len()` do not match `shape`.
pub fn sum_axes<T: Element>(src: &[T], shape: &[usize], reduce: &[bool]) -> Vec<T> {
    assert_eq!(
        reduce.len(),
        shape.len(),
        "transforms-kernels: sum_axes: rank mismatch"
    );
    let numel: usize = shape.iter().product();
    assert_eq!(
        numel,
        src.len(),
        "transforms-kernels: sum_axes: buffer length mismatch"
    );
    let kept: Vec<usize> = shape
        .iter()
        .zip(reduce)
        .filter(|(_, r)| !**r)
        .map(|(&n, _)| n)
        .collect();
    let out_len: usize = kept.iter().product();
    let mut out = vec![T::zero(); out_len];
    if numel == 0 {
        return out;
    }
    if out_len == 1 {
        out[0] = sum_slice(src);
        return out;
    }
    let kept_strides = contiguous_strides(&kept);
    let mut it = kept_strides.iter();
    let out_strides: Vec<usize> = reduce
        .iter()
        .map(|&r| if r { 0 } else { *it.next().unwrap() })
        .collect();
    let in_strides = contiguous_strides(shape);
    let (cs, [si, so]) = coalesce(shape, [&in_strides, &out_strides]);
    let last = cs.len() - 1;
    let (len, xo) = (cs[last], so[last]);
    debug_assert_eq!(si[last], 1);
    for_each_offset(&cs[..last], [&si[..last], &so[..last]], |[oi, oo]| {
        let row = &src[oi..oi + len];
        match xo {
            0 => out[oo] += sum_slice(row),
            1 => {
                for (o, &x) in out[oo..oo + len].iter_mut().zip(row) {
                    *o += x;
                }
            }
            _ => {
                for (i, &x) in row.iter().enumerate() {
                    out[oo + i * xo] += x;
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_slice_long() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(sum_slice(&v), 5050.0);
        assert_eq!(sum_slice::<f32>(&[]), 0.0);
    }

    #[test]
    fn sum_axes_matches_hand_computed() {
        // [[[0,1],[2,3],[4,5]], [[6,7],[8,9],[10,11]]] shape [2,3,2]
        let v: Vec<f32> = (0..12).map(|x| x as f32).collect();
        assert_eq!(
            sum_axes(&v, &[2, 3, 2], &[true, false, false]),
            vec![6., 8., 10., 12., 14., 16.]
        );
        assert_eq!(
            sum_axes(&v, &[2, 3, 2], &[false, true, false]),
            vec![6., 9., 24., 27.]
        );
        assert_eq!(
            sum_axes(&v, &[2, 3, 2], &[false, false, true]),
            vec![1., 5., 9., 13., 17., 21.]
        );
        assert_eq!(
            sum_axes(&v, &[2, 3, 2], &[true, false, true]),
            vec![14., 22., 30.]
        );
        assert_eq!(sum_axes(&v, &[2, 3, 2], &[true, true, true]), vec![66.]);
        assert_eq!(sum_axes(&v, &[2, 3, 2], &[false, false, false]), v);
        assert_eq!(
            sum_axes::<f32>(&[], &[0, 2], &[true, false]),
            vec![0.0, 0.0]
        );
    }
}
