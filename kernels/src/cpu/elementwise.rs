//! Elementwise loops over equally sized contiguous buffers.

/// Applies `f` to every element of `a`, returning a new buffer.
#[inline]
pub fn map<T: Copy, F: Fn(T) -> T>(a: &[T], f: F) -> Vec<T> {
    super::wide(
        #[inline(always)]
        move || a.iter().map(|&x| f(x)).collect(),
    )
}

/// Applies `f` to every element of `a` in place.
#[inline]
pub fn map_inplace<T: Copy, F: Fn(T) -> T>(a: &mut [T], f: F) {
    super::wide(
        #[inline(always)]
        move || {
            for x in a.iter_mut() {
                *x = f(*x);
            }
        },
    )
}

/// Combines two equally long buffers elementwise.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn zip<T: Copy, F: Fn(T, T) -> T>(a: &[T], b: &[T], f: F) -> Vec<T> {
    assert_eq!(a.len(), b.len(), "transforms-kernels: zip: length mismatch");
    super::wide(
        #[inline(always)]
        move || a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect(),
    )
}

/// `a[i] = f(a[i], b[i])` for two equally long buffers.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn zip_inplace<T: Copy, F: Fn(T, T) -> T>(a: &mut [T], b: &[T], f: F) {
    assert_eq!(
        a.len(),
        b.len(),
        "transforms-kernels: zip_inplace: length mismatch"
    );
    super::wide(
        #[inline(always)]
        move || {
            for (x, &y) in a.iter_mut().zip(b) {
                *x = f(*x, y);
            }
        },
    )
}

/// Whether every element of `xs` equals `v` (`false` for a NaN anywhere, or
/// a NaN `v`; `true` when `xs` is empty). Blocks of 64 compare without an
/// early exit, so that they vectorise, and the scan stops at the first
/// block with a difference: the check that a seed is all ones (2048
/// elements) cost 2-3 us as a short-circuiting `all`, about as much as the
/// product it guards.
pub fn all_equal<T: Copy + PartialEq>(xs: &[T], v: T) -> bool {
    xs.chunks(64)
        .all(|c| c.iter().fold(true, |acc, &x| acc & (x == v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_equal_checks_every_element() {
        let mut xs = vec![1.0f32; 200];
        assert!(all_equal(&xs, 1.0));
        assert!(all_equal::<f32>(&[], 1.0));
        for i in [0, 63, 64, 130, 199] {
            xs[i] = 2.0;
            assert!(!all_equal(&xs, 1.0), "a difference at {i}");
            xs[i] = f32::NAN;
            assert!(!all_equal(&xs, 1.0), "a NaN at {i}");
            xs[i] = 1.0;
        }
        assert!(!all_equal(&[f32::NAN; 3], f32::NAN));
    }

    #[test]
    fn map_and_zip() {
        assert_eq!(map(&[1.0f32, -2.0], |x| x * 3.0), vec![3.0, -6.0]);
        assert_eq!(
            zip(&[1.0f64, 2.0], &[10.0, 20.0], |x, y| x - y),
            vec![-9.0, -18.0]
        );
        let mut a = [1.0f32, 2.0];
        zip_inplace(&mut a, &[4.0, 8.0], |x, y| x * y);
        map_inplace(&mut a, |x| x + 1.0);
        assert_eq!(a, [5.0, 17.0]);
    }

    #[test]
    #[should_panic(expected = "length mismatch")]
    fn zip_length_mismatch() {
        zip(&[1.0f32], &[1.0, 2.0], |x, y| x + y);
    }
}
