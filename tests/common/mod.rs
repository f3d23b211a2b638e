//! Shared checks for the rule and composition tests: finite differences,
//! the inner-product identity, vmap against a loop, jacfwd against jacrev.
#![allow(dead_code)]

use transforms::Tensor;

pub mod cases;
pub mod device;

pub type T64 = Tensor<f64>;

/// A deterministic input; `positive` keeps it in (0.5, 2.5) for ln/sqrt/recip/powf.
pub fn input(shape: &[usize], seed: u64, positive: bool) -> T64 {
    let t = T64::randn(shape, seed);
    if !positive {
        return t;
    }
    let v = t.to_vec().iter().map(|x| 0.5 + x.abs().min(2.0)).collect();
    T64::from_shape_vec(shape, v).unwrap()
}

pub fn dot(a: &T64, b: &T64) -> f64 {
    assert_eq!(a.shape(), b.shape(), "dot: shapes differ");
    a.to_vec().iter().zip(b.to_vec()).map(|(x, y)| x * y).sum()
}

/// `x + eps * t`
pub fn step(x: &T64, t: &T64, eps: f64) -> T64 {
    let v = x
        .to_vec()
        .iter()
        .zip(t.to_vec())
        .map(|(a, b)| a + eps * b)
        .collect();
    T64::from_shape_vec(x.shape(), v).unwrap()
}

/// The finite-difference step.
pub const EPS: f64 = 1e-5;

/// `(plus - minus) / (2 EPS)`: a central difference from its two evaluations.
pub fn central(plus: &T64, minus: &T64) -> T64 {
    let diff = step(plus, minus, -1.0);
    step(&T64::zeros(diff.shape()), &diff, 1.0 / (2.0 * EPS))
}

/// Central difference of `f` at `x` along `t`.
pub fn fd(f: impl Fn(&T64) -> T64, x: &T64, t: &T64) -> T64 {
    central(&f(&step(x, t, EPS)), &f(&step(x, t, -EPS)))
}

#[track_caller]
pub fn close(what: &str, a: &T64, b: &T64, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    let scale = 1.0 + b.to_vec().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = a.max_abs_diff(b);
    assert!(
        err <= tol * scale,
        "{what}: max abs diff {err:e} > {tol:e} * {scale}\n{a}\n{b}"
    );
}

/// `J` (shape out ++ in) applied to `t` (shape in): shape out.
pub fn jac_vec(j: &T64, out_shape: &[usize], t: &T64) -> T64 {
    let n = t.numel();
    let tv = t.to_vec();
    let v: Vec<f64> = j
        .to_vec()
        .chunks(n)
        .map(|row| row.iter().zip(&tv).map(|(a, b)| a * b).sum())
        .collect();
    T64::from_shape_vec(out_shape, v).unwrap()
}

pub fn concat_shape(a: &[usize], b: &[usize]) -> Vec<usize> {
    [a, b].concat()
}

/// First-order checks of a one-input function.
pub struct Unary<'a> {
    pub f: &'a dyn Fn(&T64) -> T64,
    pub jvp: &'a dyn Fn(&T64, &T64) -> (T64, T64),
    pub vjp: &'a dyn Fn(&T64, &T64) -> (T64, T64),
    pub vmap: &'a dyn Fn(&T64) -> T64,
    pub jacrev: &'a dyn Fn(&T64) -> T64,
    pub jacfwd: &'a dyn Fn(&T64) -> T64,
}

impl Unary<'_> {
    pub fn check(&self, x: &T64, batch_seed: u64) {
        let y = (self.f)(x);
        let t = T64::randn(x.shape(), 101);
        let (y1, ty) = (self.jvp)(x, &t);
        close("jvp primal", &y1, &y, 1e-12);
        close("jvp vs finite differences", &ty, &fd(self.f, x, &t), 1e-6);
        let ct = T64::randn(y.shape(), 102);
        let (y2, g) = (self.vjp)(x, &ct);
        close("vjp primal", &y2, &y, 1e-12);
        let (lhs, rhs) = (dot(&ct, &ty), dot(&g, &t));
        assert!(
            (lhs - rhs).abs() <= 1e-9 * (1.0 + lhs.abs()),
            "<ct, J t> = {lhs} but <J^T ct, t> = {rhs}"
        );
        let xs: Vec<T64> = (0..3)
            .map(|i| step(x, &T64::randn(x.shape(), batch_seed + i), 0.3))
            .collect();
        let stacked = T64::stack(&xs, 0);
        let looped = T64::stack(&xs.iter().map(|x| (self.f)(x)).collect::<Vec<_>>(), 0);
        close("vmap vs a loop", &(self.vmap)(&stacked), &looped, 1e-12);
        let (jr, jf) = ((self.jacrev)(x), (self.jacfwd)(x));
        assert_eq!(
            jr.shape(),
            concat_shape(y.shape(), x.shape()).as_slice(),
            "jacrev shape"
        );
        close("jacfwd vs jacrev", &jf, &jr, 1e-10);
        close("J t vs jvp", &jac_vec(&jr, y.shape(), &t), &ty, 1e-10);
    }
}

/// Second-order checks of a scalar function of one input.
pub struct Second<'a> {
    pub s: &'a dyn Fn(&T64) -> T64,
    pub grad: &'a dyn Fn(&T64) -> T64,
    pub hessian: &'a dyn Fn(&T64) -> T64,
    pub jrjr: &'a dyn Fn(&T64) -> T64,
    pub jfjf: &'a dyn Fn(&T64) -> T64,
}

impl Second<'_> {
    pub fn check(&self, x: &T64) {
        let t = T64::randn(x.shape(), 103);
        let g = (self.grad)(x);
        assert_eq!(g.shape(), x.shape());
        let dir = fd(self.s, x, &t);
        let gt = dot(&g, &t);
        assert!(
            (dir.item() - gt).abs() <= 1e-6 * (1.0 + gt.abs()),
            "grad: <g, t> = {gt}, fd = {}",
            dir.item()
        );
        let h = (self.hessian)(x);
        assert_eq!(h.shape(), concat_shape(x.shape(), x.shape()).as_slice());
        close("hessian vs jacrev(jacrev)", &(self.jrjr)(x), &h, 1e-10);
        close("hessian vs jacfwd(jacfwd)", &(self.jfjf)(x), &h, 1e-10);
        let n = x.numel();
        let hv = h.to_vec();
        for i in 0..n {
            for j in 0..i {
                assert!(
                    (hv[i * n + j] - hv[j * n + i]).abs() <= 1e-10 * (1.0 + hv[i * n + j].abs()),
                    "hessian not symmetric"
                );
            }
        }
        close(
            "H t vs finite differences of grad",
            &jac_vec(&h, x.shape(), &t),
            &fd(self.grad, x, &t),
            1e-6,
        );
    }
}

/// Second-order checks of a function with any output (vector-valued
/// functions exercise the structured seeds with a basis of several rows).
pub struct SecondVec<'a> {
    pub jacrev: &'a dyn Fn(&T64) -> T64,
    pub hessian: &'a dyn Fn(&T64) -> T64,
    pub jrjr: &'a dyn Fn(&T64) -> T64,
    pub jfjf: &'a dyn Fn(&T64) -> T64,
    pub jrjf: &'a dyn Fn(&T64) -> T64,
}

impl SecondVec<'_> {
    pub fn check(&self, x: &T64) {
        let h = (self.hessian)(x);
        let j = (self.jacrev)(x);
        assert_eq!(h.shape(), concat_shape(j.shape(), x.shape()).as_slice());
        close(
            "vector hessian vs jacrev(jacrev)",
            &(self.jrjr)(x),
            &h,
            1e-10,
        );
        close(
            "vector hessian vs jacfwd(jacfwd)",
            &(self.jfjf)(x),
            &h,
            1e-10,
        );
        close(
            "vector hessian vs jacrev(jacfwd)",
            &(self.jrjf)(x),
            &h,
            1e-10,
        );
        let t = T64::randn(x.shape(), 104);
        close(
            "vector H t vs fd of jacrev",
            &jac_vec(&h, j.shape(), &t),
            &fd(self.jacrev, x, &t),
            1e-6,
        );
    }
}
