//! A dense layer and an elementwise function of it, the case the compiler
//! emits as one runtime call (`ops::dense_jac`, `dense_jac_fwd`,
//! `dense_hess`; see `transforms-macros/src/dense_fold.rs`), for several
//! activations (none, or one followed by a scale, swish, GELU), a scalar parameter
//! and a chain value the output reads again: `jacrev == jacfwd`, `J t` against central differences, the Hessian
//! against differences of the Jacobian, and `vmap` against a loop.

mod common;

use common::*;

/// One layer module: `f(w, b, x) = act(linear(x, w, b))` with every
/// transform the checks call.
macro_rules! layer {
    ($m:ident, |$h:ident| $act:expr) => {
        mod $m {
            use transforms::prelude::*;

            #[jacrev(argnums = 2)]
            #[jacfwd(argnums = 2)]
            #[hessian(argnums = 2)]
            #[vmap(jacrev(argnums = 2), in_dims = (None, None, 0), name = batch_jacrev)]
            #[vmap(hessian(argnums = 2), in_dims = (None, None, 0), name = batch_hessian)]
            pub fn f(w: &Tensor<f64>, b: &Tensor<f64>, x: &Tensor<f64>) -> Tensor<f64> {
                let $h = linear(x, w, b);
                $act
            }

            pub fn all() -> super::Layer {
                super::Layer {
                    f,
                    jacrev: f_jacrev,
                    jacfwd: f_jacfwd,
                    hessian: f_hessian,
                    batch_jacrev,
                    batch_hessian,
                }
            }
        }
    };
}

layer!(tanh, |h| h.tanh());
layer!(sigmoid, |h| h.sigmoid());
layer!(softplus, |h| h.exp().log1p());
layer!(relu, |h| h.relu() * 1.5);
layer!(no_activation, |h| h * 2.0);
// Swish: the output is a product of two chain values.
layer!(swish, |h| &h * h.sigmoid());
// GELU, tanh form: a long chain (28 equations with its derivative).
layer!(gelu, |h| &h
    * 0.5
    * ((&h + &h * &h * &h * 0.044715) * 0.797_884_6).tanh()
    + &h * 0.5);
// The output reads the chain's `tanh` again (a value the call returns).
layer!(reread, |h| {
    let a = h.tanh();
    &a * &a + &h * 0.5
});

type F = fn(&T64, &T64, &T64) -> T64;

struct Layer {
    f: F,
    jacrev: F,
    jacfwd: F,
    hessian: F,
    batch_jacrev: F,
    batch_hessian: F,
}

fn row(xs: &T64, i: usize) -> T64 {
    let d = xs.shape()[1];
    T64::from_shape_vec(&[d], xs.to_vec()[i * d..(i + 1) * d].to_vec()).unwrap()
}

fn block(t: &T64, i: usize, shape: &[usize]) -> T64 {
    let per: usize = shape.iter().product();
    T64::from_shape_vec(shape, t.to_vec()[i * per..(i + 1) * per].to_vec()).unwrap()
}

fn check(name: &str, l: &Layer) {
    let (n, k, batch) = (5, 4, 3);
    let (w, b) = (input(&[n, k], 1, false), input(&[n], 2, false));
    let x = input(&[k], 3, false);
    let t = input(&[k], 4, false);
    let jr = (l.jacrev)(&w, &b, &x);
    assert_eq!(jr.shape(), &[n, k], "{name}");
    close(
        &format!("{name}: jacfwd == jacrev"),
        &(l.jacfwd)(&w, &b, &x),
        &jr,
        1e-12,
    );
    let fd_f = fd(|x| (l.f)(&w, &b, x), &x, &t);
    close(
        &format!("{name}: J t == fd"),
        &jac_vec(&jr, &[n], &t),
        &fd_f,
        1e-6,
    );
    let h = (l.hessian)(&w, &b, &x);
    assert_eq!(h.shape(), &[n, k, k], "{name}");
    let fd_j = fd(|x| (l.jacfwd)(&w, &b, x), &x, &t);
    close(
        &format!("{name}: H t == fd of J"),
        &jac_vec(&h, &[n, k], &t),
        &fd_j,
        1e-6,
    );
    let xs = input(&[batch, k], 5, false);
    let (bj, bh) = (
        (l.batch_jacrev)(&w, &b, &xs),
        (l.batch_hessian)(&w, &b, &xs),
    );
    assert_eq!(bj.shape(), &[batch, n, k], "{name}");
    assert_eq!(bh.shape(), &[batch, n, k, k], "{name}");
    for i in 0..batch {
        let xi = row(&xs, i);
        let what = format!("{name}: vmap(jacrev) example {i} == jacrev");
        close(
            &what,
            &block(&bj, i, &[n, k]),
            &(l.jacrev)(&w, &b, &xi),
            1e-12,
        );
        let what = format!("{name}: vmap(hessian) example {i} == hessian");
        close(
            &what,
            &block(&bh, i, &[n, k, k]),
            &(l.hessian)(&w, &b, &xi),
            1e-12,
        );
    }
}

#[test]
fn layer_jacobians_and_hessians_match_differences_and_loops() {
    for (name, l) in [
        ("tanh", tanh::all()),
        ("sigmoid", sigmoid::all()),
        ("softplus", softplus::all()),
        ("relu", relu::all()),
        ("no activation", no_activation::all()),
        ("reread", reread::all()),
        ("swish", swish::all()),
        ("gelu", gelu::all()),
    ] {
        check(name, &l);
    }
}

mod scaled {
    use transforms::prelude::*;

    /// A scalar parameter inside the chain (captured by its closure).
    #[jacrev(argnums = 2)]
    #[jacfwd(argnums = 2)]
    pub fn g(w: &Tensor<f64>, b: &Tensor<f64>, x: &Tensor<f64>, c: f64) -> Tensor<f64> {
        (linear(x, w, b) * c).tanh()
    }
}

#[test]
fn a_scalar_parameter_in_the_chain() {
    let (n, k) = (6, 3);
    let (w, b) = (input(&[n, k], 6, false), input(&[n], 7, false));
    let (x, t) = (input(&[k], 8, false), input(&[k], 9, false));
    for c in [0.5, -2.0] {
        let jr = scaled::g_jacrev(&w, &b, &x, c);
        close(
            "jacfwd == jacrev",
            &scaled::g_jacfwd(&w, &b, &x, c),
            &jr,
            1e-12,
        );
        let fd_g = fd(|x| scaled::g(&w, &b, x, c), &x, &t);
        close("J t == fd", &jac_vec(&jr, &[n], &t), &fd_g, 1e-6);
    }
}

#[test]
fn the_separate_ops_where_the_call_declines() {
    // A bias of shape [1, n] broadcasts `y` to [1, n]: the one-call forms
    // return None and the groups' separate ops run (jacfwd's among them
    // build its seed of ones, which the call itself never needs).
    let (n, k) = (5, 4);
    let (w, b) = (input(&[n, k], 10, false), input(&[1, n], 11, false));
    let (x, t) = (input(&[k], 12, false), input(&[k], 13, false));
    let l = tanh::all();
    let jr = (l.jacrev)(&w, &b, &x);
    assert_eq!(jr.shape(), &[1, n, k]);
    close("jacfwd == jacrev", &(l.jacfwd)(&w, &b, &x), &jr, 1e-12);
    let fd_f = fd(|x| (l.f)(&w, &b, x), &x, &t);
    close("J t == fd", &jac_vec(&jr, &[1, n], &t), &fd_f, 1e-6);
    let h = (l.hessian)(&w, &b, &x);
    let fd_j = fd(|x| (l.jacfwd)(&w, &b, x), &x, &t);
    close("H t == fd of J", &jac_vec(&h, &[1, n, k], &t), &fd_j, 1e-6);
}
