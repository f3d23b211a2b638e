//! Deterministic standard-normal samples (splitmix64 + Box–Muller).

use crate::float::Float;
use crate::tensor::Tensor;

/// The splitmix64 generator: tiny, fast, and good enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in the open interval (0, 1).
    fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

impl<T: Float> Tensor<T> {
    /// A tensor of independent standard normal samples; the same `seed` and
    /// shape always give the same values.
    pub fn randn(shape: &[usize], seed: u64) -> Self {
        let n: usize = shape.iter().product();
        let mut rng = SplitMix64(seed ^ 0x5DEE_CE66_D1CE_4E5B);
        let mut data = Vec::with_capacity(n + 1);
        while data.len() < n {
            let (u1, u2) = (rng.next_open01(), rng.next_open01());
            let r = (-2.0 * u1.ln()).sqrt();
            let theta = std::f64::consts::TAU * u2;
            data.push(T::from_f64(r * theta.cos()));
            data.push(T::from_f64(r * theta.sin()));
        }
        data.truncate(n);
        Self::from_parts(shape, data)
    }
}
