//! Loops compiled for wider vectors than the build targets, picked at run
//! time. A build without `-C target-cpu` targets SSE2 (4 `f32` a step);
//! [`wide`] runs a loop compiled for AVX-512 or AVX2 where the CPU has
//! them. The features are only widths: no fused multiply-add is formed
//! (the elementwise routines choose `mul_add` by the build's own
//! `target_feature`, which these copies do not change), so every element
//! gets the bits of the narrow loop.

/// `body()`, compiled with AVX-512F or AVX2 enabled where the build does
/// not enable them and the CPU has them (detection is cached by std).
/// `body` and what it calls must inline into it for the width to apply
/// (closures and `#[inline]` functions do).
#[inline(always)]
pub fn wide<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if !cfg!(target_feature = "avx512f") && has!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return unsafe { x86::avx512(body) };
        }
        if !cfg!(target_feature = "avx2") && !cfg!(target_feature = "avx512f") && has!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { x86::avx2(body) };
        }
    }
    body()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512<R>(body: impl FnOnce() -> R) -> R {
        body()
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
}

#[cfg(test)]
mod tests {
    use super::wide;

    /// A chain with a division, a product, a sum and a compare: the wide
    /// copy's elements have the bits of the loop compiled for the build.
    fn chain(x: f32) -> f32 {
        let y = (x * 0.75 + 1.5) / (x.abs() + 1.0);
        if y > 0.5 { y * y - x } else { y + x * x }
    }

    #[test]
    fn the_wide_copy_has_the_bits_of_the_narrow_loop() {
        let xs: Vec<f32> = (0..1000)
            .map(|i| (i as f32 * 0.37).sin() * 10f32.powi(i % 7 - 3))
            .collect();
        let narrow: Vec<f32> = xs.iter().map(|&x| chain(std::hint::black_box(x))).collect();
        let wide_: Vec<f32> = wide(
            #[inline(always)]
            move || xs.iter().map(|&x| chain(x)).collect(),
        );
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&wide_), bits(&narrow));
    }
}
