//! The rule-table cases as macros, shared by the `rules_*` test files:
//! `unary_case!` (one input) and `binary_case!` (two inputs) generate every
//! transform of a body and check them with the checkers of this module.

use super::*;

/// Checks of `f(a, b)` given its generated siblings.
#[allow(clippy::type_complexity)]
pub struct Binary<'a> {
    pub f: &'a dyn Fn(&T64, &T64) -> T64,
    pub jvp: &'a dyn Fn(&T64, &T64, &T64, &T64) -> (T64, T64),
    pub vjp: &'a dyn Fn(&T64, &T64, &T64) -> (T64, (T64, T64)),
    pub vmap: &'a dyn Fn(&T64, &T64) -> T64,
    pub vmap_a: &'a dyn Fn(&T64, &T64) -> T64,
    pub jacrev: &'a dyn Fn(&T64, &T64) -> (T64, T64),
    pub jacfwd: &'a dyn Fn(&T64, &T64) -> (T64, T64),
    pub grad: &'a dyn Fn(&T64, &T64) -> (T64, T64),
    pub hessian: &'a dyn Fn(&T64, &T64) -> ((T64, T64), (T64, T64)),
    pub jrjr: &'a dyn Fn(&T64, &T64) -> ((T64, T64), (T64, T64)),
    pub jfjf: &'a dyn Fn(&T64, &T64) -> ((T64, T64), (T64, T64)),
}

impl Binary<'_> {
    pub fn check(&self, a: &T64, b: &T64) {
        let y = (self.f)(a, b);
        let (ta, tb) = (T64::randn(a.shape(), 201), T64::randn(b.shape(), 202));
        let (y1, ty) = (self.jvp)(a, b, &ta, &tb);
        close("jvp primal", &y1, &y, 1e-12);
        let plus = (self.f)(&step(a, &ta, EPS), &step(b, &tb, EPS));
        let minus = (self.f)(&step(a, &ta, -EPS), &step(b, &tb, -EPS));
        close(
            "jvp vs finite differences",
            &ty,
            &central(&plus, &minus),
            1e-6,
        );
        let ct = T64::randn(y.shape(), 203);
        let (y2, (ga, gb)) = (self.vjp)(a, b, &ct);
        close("vjp primal", &y2, &y, 1e-12);
        let (lhs, rhs) = (dot(&ct, &ty), dot(&ga, &ta) + dot(&gb, &tb));
        assert!(
            (lhs - rhs).abs() <= 1e-9 * (1.0 + lhs.abs()),
            "<ct, J t> = {lhs} but <J^T ct, t> = {rhs}"
        );
        // vmap over both, and over a only.
        let as_: Vec<T64> = (0..3)
            .map(|i| step(a, &T64::randn(a.shape(), 300 + i), 0.3))
            .collect();
        let bs: Vec<T64> = (0..3)
            .map(|i| step(b, &T64::randn(b.shape(), 400 + i), 0.3))
            .collect();
        let looped = T64::stack(
            &as_.iter()
                .zip(&bs)
                .map(|(a, b)| (self.f)(a, b))
                .collect::<Vec<_>>(),
            0,
        );
        close(
            "vmap vs a loop",
            &(self.vmap)(&T64::stack(&as_, 0), &T64::stack(&bs, 0)),
            &looped,
            1e-12,
        );
        let looped_a = T64::stack(&as_.iter().map(|a| (self.f)(a, b)).collect::<Vec<_>>(), 0);
        close(
            "vmap (0, None) vs a loop",
            &(self.vmap_a)(&T64::stack(&as_, 0), b),
            &looped_a,
            1e-12,
        );
        // Jacobians.
        let ((jra, jrb), (jfa, jfb)) = ((self.jacrev)(a, b), (self.jacfwd)(a, b));
        assert_eq!(jra.shape(), concat_shape(y.shape(), a.shape()).as_slice());
        assert_eq!(jrb.shape(), concat_shape(y.shape(), b.shape()).as_slice());
        close("jacfwd vs jacrev (a)", &jfa, &jra, 1e-10);
        close("jacfwd vs jacrev (b)", &jfb, &jrb, 1e-10);
        let jt = jac_vec(&jra, y.shape(), &ta)
            .to_vec()
            .iter()
            .zip(jac_vec(&jrb, y.shape(), &tb).to_vec())
            .map(|(x, y)| x + y)
            .collect();
        close(
            "J t vs jvp",
            &T64::from_shape_vec(y.shape(), jt).unwrap(),
            &ty,
            1e-10,
        );
        // Second order on sum(f).
        let h = (self.hessian)(a, b);
        for (name, other) in [
            ("jacrev(jacrev)", (self.jrjr)(a, b)),
            ("jacfwd(jacfwd)", (self.jfjf)(a, b)),
        ] {
            close(name, &other.0.0, &h.0.0, 1e-10);
            close(name, &other.0.1, &h.0.1, 1e-10);
            close(name, &other.1.0, &h.1.0, 1e-10);
            close(name, &other.1.1, &h.1.1, 1e-10);
        }
        // H t against finite differences of the gradient.
        let gp = (self.grad)(&step(a, &ta, EPS), &step(b, &tb, EPS));
        let gm = (self.grad)(&step(a, &ta, -EPS), &step(b, &tb, -EPS));
        // H t = H_a. t_a + H_b. t_b, per block row.
        let hta = step(
            &jac_vec(&h.0.0, a.shape(), &ta),
            &jac_vec(&h.0.1, a.shape(), &tb),
            1.0,
        );
        let htb = step(
            &jac_vec(&h.1.0, b.shape(), &ta),
            &jac_vec(&h.1.1, b.shape(), &tb),
            1.0,
        );
        close("H t vs fd of grad (a)", &hta, &central(&gp.0, &gm.0), 1e-6);
        close("H t vs fd of grad (b)", &htb, &central(&gp.1, &gm.1), 1e-6);
    }
}

/// One-input case: first order, the second order of its sum, and the
/// vector-valued second order through every pair of modes.
#[macro_export]
macro_rules! unary_case {
    ($name:ident, $shape:expr, $positive:expr, |$x:ident| $body:expr) => {
        mod $name {
            use super::common::*;
            use transforms::prelude::*;

            #[jvp]
            #[vjp]
            #[vmap]
            #[jacrev]
            #[jacfwd]
            #[hessian]
            #[jacrev(jacrev)]
            #[jacfwd(jacfwd)]
            #[jacrev(jacfwd)]
            fn f($x: &Tensor<f64>) -> Tensor<f64> {
                $body
            }

            #[grad]
            #[hessian]
            #[jacrev(jacrev)]
            #[jacfwd(jacfwd)]
            fn s($x: &Tensor<f64>) -> Tensor<f64> {
                ($body).sum()
            }

            #[test]
            fn rules() {
                let x = input(&$shape, 11, $positive);
                Unary {
                    f: &|x| f(x),
                    jvp: &|x, t| f_jvp(x, t),
                    vjp: &|x, ct| {
                        let (y, pb) = f_vjp(x);
                        (y, pb.call(ct))
                    },
                    vmap: &|x| f_vmap(x),
                    jacrev: &|x| f_jacrev(x),
                    jacfwd: &|x| f_jacfwd(x),
                }
                .check(&x, 500);
                Second {
                    s: &|x| s(x),
                    grad: &|x| s_grad(x),
                    hessian: &|x| s_hessian(x),
                    jrjr: &|x| s_jacrev_jacrev(x),
                    jfjf: &|x| s_jacfwd_jacfwd(x),
                }
                .check(&x);
                SecondVec {
                    jacrev: &|x| f_jacrev(x),
                    hessian: &|x| f_hessian(x),
                    jrjr: &|x| f_jacrev_jacrev(x),
                    jfjf: &|x| f_jacfwd_jacfwd(x),
                    jrjf: &|x| f_jacrev_jacfwd(x),
                }
                .check(&x);
            }
        }
    };
}

/// Two-input case: first order in both inputs, block Hessians of the sum,
/// and the vector-valued second order in `b`.
#[macro_export]
macro_rules! binary_case {
    ($name:ident, $sa:expr, $sb:expr, $positive:expr, |$a:ident, $b:ident| $body:expr) => {
        mod $name {
            use super::common::*;
            use transforms::prelude::*;

            #[jvp(argnums = (0, 1))]
            #[vjp(argnums = (0, 1))]
            #[vmap]
            #[vmap(in_dims = (0, None), name = f_vmap_a)]
            #[jacrev(argnums = (0, 1))]
            #[jacfwd(argnums = (0, 1))]
            #[jacrev(argnums = 1, name = f_jac_b)]
            #[hessian(argnums = 1, name = f_hess_b)]
            #[jacrev(jacrev(argnums = 1), argnums = 1, name = f_rr_b)]
            #[jacfwd(jacfwd(argnums = 1), argnums = 1, name = f_ff_b)]
            #[jacrev(jacfwd(argnums = 1), argnums = 1, name = f_rf_b)]
            fn f($a: &Tensor<f64>, $b: &Tensor<f64>) -> Tensor<f64> {
                $body
            }

            #[grad(argnums = (0, 1))]
            #[hessian(argnums = (0, 1))]
            #[jacrev(jacrev(argnums = (0, 1)), argnums = (0, 1))]
            #[jacfwd(jacfwd(argnums = (0, 1)), argnums = (0, 1))]
            fn s($a: &Tensor<f64>, $b: &Tensor<f64>) -> Tensor<f64> {
                ($body).sum()
            }

            #[test]
            fn rules() {
                let (a, b) = (input(&$sa, 21, $positive), input(&$sb, 22, $positive));
                super::common::cases::Binary {
                    f: &|a, b| f(a, b),
                    jvp: &|a, b, ta, tb| f_jvp(a, b, ta, tb),
                    vjp: &|a, b, ct| {
                        let (y, pb) = f_vjp(a, b);
                        (y, pb.call(ct))
                    },
                    vmap: &|a, b| f_vmap(a, b),
                    vmap_a: &|a, b| f_vmap_a(a, b),
                    jacrev: &|a, b| f_jacrev(a, b),
                    jacfwd: &|a, b| f_jacfwd(a, b),
                    grad: &|a, b| s_grad(a, b),
                    hessian: &|a, b| s_hessian(a, b),
                    jrjr: &|a, b| s_jacrev_jacrev(a, b),
                    jfjf: &|a, b| s_jacfwd_jacfwd(a, b),
                }
                .check(&a, &b);
                SecondVec {
                    jacrev: &|b| f_jac_b(&a, b),
                    hessian: &|b| f_hess_b(&a, b),
                    jrjr: &|b| f_rr_b(&a, b),
                    jfjf: &|b| f_ff_b(&a, b),
                    jrjf: &|b| f_rf_b(&a, b),
                }
                .check(&b);
            }
        }
    };
}
