//! Elementwise loops over equally sized contiguous buffers.

/// Applies `f` to every element of `a`, returning a new buffer.
#[inline]
pub fn map<T: Copy, F: Fn(T) -> T>(a: &[T], f: F) -> Vec<T> {
    a.iter().map(|&x| f(x)).collect()
}

/// Applies `f` to every element of `a` in place.
#[inline]
pub fn map_inplace<T: Copy, F: Fn(T) -> T>(a: &mut [T], f: F) {
    for x in a.iter_mut() {
        *x = f(*x);
    }
}

/// Combines two equally long buffers elementwise.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn zip<T: Copy, F: Fn(T, T) -> T>(a: &[T], b: &[T], f: F) -> Vec<T> {
    assert_eq!(a.len(), b.len(), "transforms-kernels: zip: length mismatch");
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
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
    for (x, &y) in a.iter_mut().zip(b) {
        *x = f(*x, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
