//! Multi-index iteration helpers shared by the strided kernels.

/// Row-major (C order) strides, in elements, of a contiguous `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut acc = 1usize;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc *= n;
    }
    strides
}

/// Calls `f` with the offsets (one per stride set) of every multi-index of
/// `shape`, in row-major order. An empty shape yields one call with offsets 0;
/// a shape containing 0 yields none.
pub fn for_each_offset<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
    mut f: impl FnMut([usize; N]),
) {
    for s in &strides {
        assert_eq!(
            s.len(),
            shape.len(),
            "transforms-kernels: stride rank mismatch"
        );
    }
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0usize; shape.len()];
    let mut off = [0usize; N];
    loop {
        f(off);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            for j in 0..N {
                off[j] += strides[j][d];
            }
            if idx[d] < shape[d] {
                break;
            }
            for j in 0..N {
                off[j] -= strides[j][d] * shape[d];
            }
            idx[d] = 0;
        }
    }
}

/// Simplifies a strided iteration space without changing the visiting order:
/// drops size-1 dims and merges neighbours that are contiguous with respect to
/// each other in every stride set. Always returns at least one dim.
pub(crate) fn coalesce<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
) -> (Vec<usize>, [Vec<usize>; N]) {
    let mut out_shape: Vec<usize> = Vec::with_capacity(shape.len());
    let mut out_strides: [Vec<usize>; N] = std::array::from_fn(|_| Vec::with_capacity(shape.len()));
    for (i, &n) in shape.iter().enumerate() {
        if n == 1 {
            continue;
        }
        let merge = match out_shape.last() {
            Some(_) => (0..N).all(|j| *out_strides[j].last().unwrap() == strides[j][i] * n),
            None => false,
        };
        if merge {
            *out_shape.last_mut().unwrap() *= n;
            for j in 0..N {
                *out_strides[j].last_mut().unwrap() = strides[j][i];
            }
        } else {
            out_shape.push(n);
            for j in 0..N {
                out_strides[j].push(strides[j][i]);
            }
        }
    }
    if out_shape.is_empty() {
        out_shape.push(1);
        for s in out_strides.iter_mut() {
            s.push(0);
        }
    }
    (out_shape, out_strides)
}

/// Largest offset addressed by `shape`/`strides` (0 for an empty space).
pub(crate) fn max_offset(shape: &[usize], strides: &[usize]) -> usize {
    shape
        .iter()
        .zip(strides)
        .map(|(&n, &s)| n.saturating_sub(1) * s)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_and_offsets() {
        assert_eq!(contiguous_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(contiguous_strides(&[]), Vec::<usize>::new());
        let mut seen = vec![];
        for_each_offset(&[2, 3], [&[1, 2]], |[o]| seen.push(o));
        assert_eq!(seen, vec![0, 2, 4, 1, 3, 5]);
        let mut count = 0;
        for_each_offset::<1>(&[], [&[]], |_| count += 1);
        assert_eq!(count, 1);
        for_each_offset(&[2, 0], [&[1, 1]], |_| count += 1);
        assert_eq!(count, 1);
    }

    #[test]
    fn coalesce_merges_contiguous_and_broadcast_dims() {
        let (s, [a, b]) = coalesce(&[2, 3, 1, 4], [&[12, 4, 4, 1], &[0, 0, 0, 1]]);
        assert_eq!(s, vec![6, 4]);
        assert_eq!(a, vec![4, 1]);
        assert_eq!(b, vec![0, 1]);
        let (s, [a]) = coalesce(&[2, 3], [&[1, 2]]);
        assert_eq!((s, a), (vec![2, 3], vec![1, 2]));
        let (s, [a]) = coalesce(&[1, 1], [&[5, 7]]);
        assert_eq!((s, a), (vec![1], vec![0]));
    }
}
