//! Fast elementwise functions for `f32` where the C library's scalar
//! routines dominate the derivative code: `tanh`, `exp` (and `sigmoid` on
//! it) and `ln`, branch-free so that a loop over them vectorises (the C
//! library's `tanhf`, `expf` and `logf` are calls per element), within a
//! few ulps (see the tests).

/// `a * b + c`, fused (one rounding) where the target has FMA; otherwise
/// the plain product and sum (a `mul_add` without hardware FMA is a libm
/// call).
#[inline(always)]
fn fma(a: f32, b: f32, c: f32) -> f32 {
    if cfg!(target_feature = "fma") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `expm1(2a)` for `0 <= a <= 10`, accurate to a few ulps: `2a = k ln2 +
/// r` with `|r| <= ln2 / 2`, `expm1(r)` by its Taylor series (the
/// truncation error `r^9 / 9!` is below `f32` resolution), then
/// `expm1(2a) = 2^k (1 + expm1(r)) - 1`.
///
/// The series is `r * q(r)` with `q` of degree 7 evaluated by Estrin's
/// scheme (three levels of independent multiply-adds instead of Horner's
/// chain of eight): about 25% faster on 8-wide vectors (2048 elements,
/// one core: 1.30 -> 0.96 ns per element, with FMA), worst error against
/// f64 2.2 ulps (the test below). Its latency is what a short `tanh` chain
/// waits for (a 16 x 16 Jacobian), so `k` comes from `a` (`2a` in
/// parallel; the same product, doubling is exact) and `2^k r` (exact) is
/// multiplied into the last multiply-add: 8 cycles shorter, and one
/// rounding fewer.
#[inline(always)]
fn expm1_twice(a: f32) -> f32 {
    // Any integer near 2a / ln 2 will do (the reduction below is exact for
    // it), so a product instead of a division.
    let k = round_near(a * (2.0 * std::f32::consts::LOG2_E));
    let y = 2.0 * a;
    // Two-part ln 2 keeps the reduction exact to f32 precision.
    let r = fma(-k, 1.428_606_8e-6, fma(-k, 0.693_145_75, y));
    let (r2, r4) = (r * r, (r * r) * (r * r));
    let c01 = fma(r, 1.0 / 2.0, 1.0);
    let c23 = fma(r, 1.0 / 24.0, 1.0 / 6.0);
    let c45 = fma(r, 1.0 / 720.0, 1.0 / 120.0);
    let c67 = fma(r, 1.0 / 40320.0, 1.0 / 5040.0);
    let q = fma(fma(c67, r2, c45), r4, fma(c23, r2, c01));
    // 0 <= k <= 29 here.
    let scale = pow2(k);
    fma(scale * r, q, scale - 1.0)
}

/// `tanh(x) = sign(x) * e / (e + 2)` with `e = expm1(2|x|)`; exactly ±1
/// beyond |x| = 10, NaN propagates.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    if a >= 10.0 {
        return 1.0f32.copysign(x);
    }
    if a.is_nan() {
        return x;
    }
    let e = expm1_twice(a);
    (e / (e + 2.0)).copysign(x)
}

/// `v` rounded to a nearby integer (to nearest, ties to even), for
/// `|v| < 2^22`: adding and subtracting `1.5 * 2^23` leaves no fraction
/// bits. Unlike `floor` or `round` (an SSE4.1 instruction, otherwise a libm
/// call per element that stops the loop vectorising) this is two adds in
/// any build.
#[inline(always)]
fn round_near(v: f32) -> f32 {
    (v + 12_582_912.0) - 12_582_912.0
}

/// `2^j` for an integer-valued `j` in `-126..=127`: the low mantissa bits
/// of `j + 2^23 + 127` hold `j + 127` exactly, shifted into the exponent
/// field. Unlike `j as i32` (a saturating conversion, one scalar
/// instruction per lane) this stays in vector registers.
#[inline(always)]
fn pow2(j: f32) -> f32 {
    f32::from_bits((j + 8_388_735.0).to_bits() << 23)
}

/// `e^x`, within 2 ulps of the exact value for normal results (subnormal
/// results within one ulp of their spacing), `+inf` above about 88.72, `0`
/// below about -103.97, NaN for NaN. Branch-free: `x = k ln2 + r` with
/// `|r| <= ln2 / 2`, `e^r` by its Taylor series to `r^7` (truncation below
/// 0.1 ulp) in Estrin's scheme, then two exact scalings by powers of two
/// (so that `2^k` below the normal range and up to overflow needs no
/// special case).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let c = x.clamp(-104.0, 89.0);
    let k = round_near(c * std::f32::consts::LOG2_E);
    let r = fma(-k, 1.428_606_8e-6, fma(-k, 0.693_145_75, c));
    let (r2, r4) = (r * r, (r * r) * (r * r));
    let c01 = fma(r, 1.0, 1.0);
    let c23 = fma(r, 1.0 / 6.0, 1.0 / 2.0);
    let c45 = fma(r, 1.0 / 120.0, 1.0 / 24.0);
    let c67 = fma(r, 1.0 / 5040.0, 1.0 / 720.0);
    let p = fma(fma(c67, r2, c45), r4, fma(c23, r2, c01));
    // k in -150..=129: halves within pow2's range.
    let k1 = round_near(k * 0.5);
    let y = p * pow2(k1) * pow2(k - k1);
    if x.is_nan() { x } else { y }
}

/// The logistic sigmoid `1 / (1 + e^-x)`, branch-free: with `e = e^-|x|`
/// (never overflowing), `1 / (1 + e)` for `x >= 0` and `e / (1 + e)`
/// otherwise; NaN for NaN.
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    let e = exp_f32(-x.abs());
    let s = 1.0 / (1.0 + e);
    if x >= 0.0 { s } else { e * s }
}

/// The natural logarithm, within 2.5 ulps of the exact value (subnormal
/// inputs included), `-inf` at `±0`, NaN below 0 and for NaN, `+inf` at
/// `+inf`. Branch-free: `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`
/// from the bits, `ln m = 2 atanh(s)` with `s = (m - 1) / (m + 1)`
/// (`|s| <= 0.172`) by its odd series to `s^11` (truncation below 0.01
/// ulp), then `e ln2` added in two parts.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    // Subnormal inputs scaled into the normal range first (by 2^23).
    let tiny = x < f32::MIN_POSITIVE;
    let xs = if tiny { x * 8_388_608.0 } else { x };
    let bits = xs.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    // m in [1, 2): halve the upper part so that |m - 1| is smallest.
    let big = m > std::f32::consts::SQRT_2;
    if big {
        m *= 0.5;
        e += 1;
    }
    let ef = e as f32 - if tiny { 23.0 } else { 0.0 };
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let s4 = s2 * s2;
    // 2 atanh(s) = 2s (1 + s^2/3 + s^4/5 + ... + s^10/11), Estrin's scheme.
    let c01 = fma(s2, 1.0 / 3.0, 1.0);
    let c23 = fma(s2, 1.0 / 7.0, 1.0 / 5.0);
    let c45 = fma(s2, 1.0 / 11.0, 1.0 / 9.0);
    let q = fma(fma(c45, s4, c23), s4, c01);
    let lnm = 2.0 * s * q;
    let y = fma(ef, 0.693_145_75, fma(ef, 1.428_606_8e-6, lnm));
    if x > 0.0 && x < f32::INFINITY {
        y
    } else if x == 0.0 {
        f32::NEG_INFINITY
    } else if x == f32::INFINITY {
        x
    } else {
        f32::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_matches_f64_within_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x = -12.0f32;
        while x <= 12.0 {
            for v in [x, x * 1e-3, x * 1e-6] {
                let want = f64::from(v).tanh();
                let got = f64::from(tanh_f32(v));
                let ulp = f64::from(f32::EPSILON) * want.abs().max(f64::from(f32::MIN_POSITIVE));
                worst = worst.max((got - want).abs() / ulp);
            }
            x += 0.000_37;
        }
        assert!(worst <= 3.0, "worst error {worst} ulps");
        assert_eq!(tanh_f32(0.0), 0.0);
        assert!(tanh_f32(-0.0).is_sign_negative());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
    }

    /// Every `f32` of magnitude below 10 (about 1.09e9 values, a minute in
    /// a release build: `cargo test --release -p transforms-runtime --lib
    /// -- --ignored tanh_every`): relative error at most 2.6 x 2^-23 (2.58
    /// at 0.0338 where the build has FMA), never above 1, odd.
    #[test]
    #[ignore = "exhaustive: about a minute in a release build"]
    fn tanh_every_f32_below_10() {
        let mut worst = 0.0f64;
        for bits in 0..10.0f32.to_bits() {
            let x = f32::from_bits(bits);
            let y = tanh_f32(x);
            let want = f64::from(x).tanh();
            let ulp = (want.abs() * f64::from(f32::EPSILON)).max(2f64.powi(-149));
            worst = worst.max((f64::from(y) - want).abs() / ulp);
            assert!(y <= 1.0 && tanh_f32(-x) == -y, "at {x}");
        }
        assert!(worst <= 2.6, "worst error {worst}");
    }

    /// The largest error of `f` against `want` (f64) in ulps of the f32
    /// result, over `x` from `lo` to `hi` in steps of `step` (and scaled
    /// copies near 0).
    fn worst_ulps(f: fn(f32) -> f32, want: fn(f64) -> f64, lo: f32, hi: f32, step: f32) -> f64 {
        let mut worst = 0.0f64;
        let mut x = lo;
        while x <= hi {
            for v in [x, x * 1e-3, x * 1e-6] {
                let w = want(f64::from(v));
                let got = f64::from(f(v));
                if (w as f32).is_infinite() {
                    // Past the f32 range: exactly the overflow.
                    assert_eq!(got, w.signum() * f64::INFINITY, "at {v}");
                    continue;
                }
                // One ulp of the f32 nearest `w` (subnormal spacing below).
                let ulp = (w.abs() * f64::from(f32::EPSILON)).max(2f64.powi(-149));
                worst = worst.max((got - w).abs() / ulp);
            }
            x += step;
        }
        worst
    }

    #[test]
    fn exp_matches_f64_within_a_few_ulps() {
        let worst = worst_ulps(exp_f32, f64::exp, -110.0, 95.0, 0.000_91);
        assert!(worst <= 2.0, "worst error {worst} ulps");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(88.8), f32::INFINITY);
        assert!(exp_f32(88.7).is_finite());
        assert_eq!(exp_f32(-104.0), 0.0);
        assert!(exp_f32(-103.0) > 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        // Against the C library's expf near both ends of the range.
        for x in [
            -103.5f32, -95.0, -87.5, -20.0, -1.0, 1e-8, 0.5, 10.0, 80.0, 88.7,
        ] {
            let (got, want) = (exp_f32(x), x.exp());
            let ulp = (want.abs() * f32::EPSILON).max(f32::from_bits(1));
            assert!(
                (got - want).abs() <= 2.0 * ulp,
                "exp({x}) = {got}, libm {want}"
            );
        }
    }

    #[test]
    fn ln_matches_f64_within_a_few_ulps() {
        // Around 1 (where ln x ~ x - 1), across the normal range by powers
        // of two, and subnormal inputs.
        let near_one = worst_ulps(ln_f32, f64::ln, 0.25, 4.0, 0.000_013);
        assert!(near_one <= 2.5, "worst error near 1: {near_one} ulps");
        let mut worst = 0.0f64;
        let mut x = f32::from_bits(1);
        while x < f32::MAX / 1.7 {
            for v in [x, x * 1.3, x * 1.41, x * 1.42, x * 1.7] {
                let want = f64::from(v).ln();
                let ulp = want.abs().max(f64::from(f32::MIN_POSITIVE)) * f64::from(f32::EPSILON);
                worst = worst.max((f64::from(ln_f32(v)) - want).abs() / ulp);
            }
            x *= 2.0;
        }
        assert!(worst <= 2.0, "worst error over the range: {worst} ulps");
        assert_eq!(ln_f32(1.0), 0.0);
        assert_eq!(ln_f32(0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32(-0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32(f32::INFINITY), f32::INFINITY);
        assert!(ln_f32(-1.0).is_nan());
        assert!(ln_f32(f32::NEG_INFINITY).is_nan());
        assert!(ln_f32(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_matches_f64_within_a_few_ulps() {
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let worst = worst_ulps(sigmoid_f32, sig, -110.0, 40.0, 0.000_77);
        assert!(worst <= 3.0, "worst error {worst} ulps");
        assert_eq!(sigmoid_f32(0.0), 0.5);
        assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
        assert_eq!(sigmoid_f32(f32::NEG_INFINITY), 0.0);
        assert!(sigmoid_f32(f32::NAN).is_nan());
    }
}
