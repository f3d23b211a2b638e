//! One row written from another through an elementwise map, for the short
//! rows of Jacobian blocks (31 or 33 elements in the batch workloads). The
//! compiler's vectorised loop for `zip` handles 32 elements a step and leaves
//! a short row to its scalar remainder; here rows go in fixed steps of
//! [`LANES`], and the last partial step is a full step ending at the row's
//! end that rewrites a few elements with the same values.

use std::mem::MaybeUninit;

/// Elements per fixed step: one AVX register of `f32`.
pub const LANES: usize = 8;

/// `dst[i] = f(src[i])` for every `i`.
///
/// # Panics
/// If the lengths differ.
#[inline(always)]
pub fn map_row<T: Copy>(dst: &mut [MaybeUninit<T>], src: &[T], f: impl Fn(T) -> T) {
    let n = src.len();
    assert_eq!(dst.len(), n, "transforms-kernels: row lengths differ");
    if n < LANES {
        for (w, &x) in dst.iter_mut().zip(src) {
            w.write(f(x));
        }
        return;
    }
    let step = |dst: &mut [MaybeUninit<T>], at: usize| {
        let d: &mut [MaybeUninit<T>; LANES] =
            (&mut dst[at..at + LANES]).try_into().expect("a full step");
        let s: &[T; LANES] = src[at..at + LANES].try_into().expect("a full step");
        // All loads, then all stores: with no store between two loads the
        // step is one vector load, multiply and store even where the
        // compiler cannot prove `dst` and `src` apart.
        let v: [T; LANES] = std::array::from_fn(|i| f(s[i]));
        for (w, x) in d.iter_mut().zip(v) {
            w.write(x);
        }
    };
    let full = n - n % LANES;
    for at in (0..full).step_by(LANES) {
        step(dst, at);
    }
    if full < n {
        // Overlaps the previous step: those elements get the same values.
        step(dst, n - LANES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_is_mapped_exactly() {
        for n in 0..40 {
            let src: Vec<f32> = (0..n).map(|i| i as f32 + 0.5).collect();
            let mut dst = vec![MaybeUninit::new(-1.0f32); n];
            map_row(&mut dst, &src, |x| x * 3.0);
            // SAFETY: initialised at creation (and overwritten by the map).
            let got: Vec<f32> = dst.iter().map(|w| unsafe { w.assume_init() }).collect();
            let want: Vec<f32> = src.iter().map(|x| x * 3.0).collect();
            assert_eq!(got, want, "n = {n}");
        }
    }

    #[test]
    #[should_panic(expected = "row lengths differ")]
    fn mismatched_lengths_panic() {
        let mut dst = vec![MaybeUninit::new(0.0f32); 9];
        map_row(&mut dst, &[1.0; 10], |x| x);
    }
}
