//! Shape bookkeeping shared by the ops: batch/pe splitting, dim
//! normalisation, broadcasting rules, and the panic message format.

/// Formats shapes as `[2, 3] and [4]` (or `[2, 3], [4] and [5]`).
pub(crate) fn fmt_shapes(shapes: &[&[usize]]) -> String {
    let parts: Vec<String> = shapes.iter().map(|s| format!("{s:?}")).collect();
    match parts.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, init)) => format!("{} and {last}", init.join(", ")),
    }
}

/// Panics with `transforms: <op>: <what>, shape(s) <shapes>`.
macro_rules! fail {
    ($op:expr, [$($s:expr),+ $(,)?], $($arg:tt)+) => {{
        let shapes: &[&[usize]] = &[$(&$s[..]),+];
        panic!(
            "transforms: {}: {}, {} {}",
            $op,
            format_args!($($arg)+),
            if shapes.len() == 1 { "shape" } else { "shapes" },
            $crate::shape::fmt_shapes(shapes)
        )
    }};
    ($op:expr, $all:ident, $($arg:tt)+) => {{
        let shapes: &[&[usize]] = &$all[..];
        panic!(
            "transforms: {}: {}, {} {}",
            $op,
            format_args!($($arg)+),
            if shapes.len() == 1 { "shape" } else { "shapes" },
            $crate::shape::fmt_shapes(shapes)
        )
    }};
}
pub(crate) use fail;

/// Splits `shape` into (batch dims, pe dims); panics if it has fewer than `nb`
/// dims. `all` are the shapes named in the message.
pub(crate) fn split<'a>(
    op: &str,
    shape: &'a [usize],
    nb: usize,
    all: &[&[usize]],
) -> (&'a [usize], &'a [usize]) {
    if shape.len() < nb {
        panic!(
            "transforms: {op}: a tensor has {} dims, fewer than the {nb} batch dims, {} {}",
            shape.len(),
            if all.len() == 1 { "shape" } else { "shapes" },
            fmt_shapes(all)
        );
    }
    shape.split_at(nb)
}

/// Normalises a (possibly negative) dim against `rank` (torch rule).
pub(crate) fn norm_dim(op: &str, d: isize, rank: usize, all: &[&[usize]]) -> usize {
    let r = rank as isize;
    if d < -r || d >= r {
        panic!(
            "transforms: {op}: dim {d} is out of range for {rank} per-example dims, {} {}",
            if all.len() == 1 { "shape" } else { "shapes" },
            fmt_shapes(all)
        );
    }
    if d < 0 { (d + r) as usize } else { d as usize }
}

/// A shape or a set of strides, inline up to 8 dims: the shape arithmetic
/// of an op allocates nothing for the ranks the generated code makes.
pub(crate) type Shape = smallvec::SmallVec<[usize; 8]>;

/// The dims a [`Shape`] holds inline.
const INLINE: usize = 8;

/// The shapes `parts` one after another. Up to [`INLINE`] dims they are
/// copied element by element into the inline buffer: `SmallVec`'s
/// `extend_from_slice` (a reserve and a `memmove` call per part) made this
/// the largest cost of a view op such as `unflatten_like` (41% of its time,
/// perf, 16-element tensors).
pub(crate) fn joined(parts: &[&[usize]]) -> Shape {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len <= INLINE {
        let mut buf = [0usize; INLINE];
        let mut at = 0;
        for p in parts {
            for &d in *p {
                buf[at] = d;
                at += 1;
            }
        }
        return Shape::from_buf_and_len(buf, len);
    }
    let mut s = Shape::with_capacity(len);
    for p in parts {
        s.extend_from_slice(p);
    }
    s
}

/// Left-aligned, equal-length broadcast (batch dims).
pub(crate) fn broadcast_left(a: &[usize], b: &[usize]) -> Option<Shape> {
    if a.len() != b.len() {
        return None;
    }
    a.iter()
        .zip(b)
        .map(|(&x, &y)| broadcast_dim(x, y))
        .collect()
}

/// Right-aligned numpy broadcast (pe dims).
pub(crate) fn broadcast_right(a: &[usize], b: &[usize]) -> Option<Shape> {
    let n = a.len().max(b.len());
    let pad = |s: &[usize], i: usize| {
        if i + s.len() < n {
            1
        } else {
            s[i + s.len() - n]
        }
    };
    (0..n)
        .map(|i| broadcast_dim(pad(a, i), pad(b, i)))
        .collect()
}

fn broadcast_dim(x: usize, y: usize) -> Option<usize> {
    match (x, y) {
        _ if x == y => Some(x),
        (1, _) => Some(y),
        (_, 1) => Some(x),
        _ => None,
    }
}

/// `batch ++ [1; rank - pe.len()] ++ pe`: a pe shape right-aligned to `rank`.
pub(crate) fn aligned(batch: &[usize], pe: &[usize], rank: usize) -> Shape {
    let mut out = Shape::with_capacity(batch.len() + rank);
    out.extend_from_slice(batch);
    out.extend(std::iter::repeat_n(1, rank - pe.len()));
    out.extend_from_slice(pe);
    out
}

/// Strides that read a contiguous buffer of shape `shape` broadcast to a
/// shape of the same rank (size-1 dims get stride 0).
pub(crate) fn broadcast_strides(shape: &[usize]) -> Shape {
    let mut strides: Shape = smallvec::smallvec![0; shape.len()];
    let mut acc = 1;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = if n == 1 { 0 } else { acc };
        acc *= n;
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_concatenates_inline_and_past_the_inline_buffer() {
        let parts: [&[usize]; 4] = [&[2, 3], &[], &[5], &[7, 11, 13]];
        assert_eq!(joined(&parts).to_vec(), vec![2, 3, 5, 7, 11, 13]);
        assert_eq!(joined(&[]).len(), 0);
        let eight: [&[usize]; 2] = [&[1, 2, 3, 4], &[5, 6, 7, 8]];
        assert_eq!(joined(&eight).to_vec(), (1..=8).collect::<Vec<_>>());
        let ten: [&[usize]; 3] = [&[1, 2, 3, 4], &[5, 6, 7, 8], &[9, 10]];
        let long = joined(&ten);
        assert!(long.spilled());
        assert_eq!(long.to_vec(), (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn broadcasting_rules() {
        let v = |s: Option<Shape>| s.map(|s| s.to_vec());
        assert_eq!(v(broadcast_right(&[3, 1], &[4])), Some(vec![3, 4]));
        assert_eq!(v(broadcast_right(&[], &[2])), Some(vec![2]));
        assert_eq!(v(broadcast_right(&[3], &[4])), None);
        assert_eq!(v(broadcast_left(&[1, 5], &[2, 5])), Some(vec![2, 5]));
        assert_eq!(v(broadcast_left(&[2], &[2, 1])), None);
        assert_eq!(aligned(&[7], &[3], 3).to_vec(), vec![7, 1, 1, 3]);
        assert_eq!(broadcast_strides(&[2, 1, 3]).to_vec(), vec![3, 0, 1]);
        assert_eq!(broadcast_strides(&[4, 2, 3]).to_vec(), vec![6, 3, 1]);
        assert_eq!(broadcast_strides(&[]).to_vec(), Vec::<usize>::new());
        assert_eq!(fmt_shapes(&[&[2, 3], &[4]]), "[2, 3] and [4]");
        assert_eq!(fmt_shapes(&[&[1], &[], &[4]]), "[1], [] and [4]");
    }

    #[test]
    fn dims() {
        assert_eq!(norm_dim("t", -1, 3, &[]), 2);
        assert_eq!(norm_dim("t", 0, 3, &[]), 0);
    }

    #[test]
    #[should_panic(expected = "transforms: t: dim 3 is out of range")]
    fn dim_out_of_range() {
        norm_dim("t", 3, 3, &[&[1, 2, 3]]);
    }
}
