//! Programs: calls between `#[differentiable]` functions (across modules and
//! from another crate) and call-site `transform!`, checked against the same
//! program with the calls inlined by hand and against finite differences.

mod common;

use common::*;
use transforms::prelude::*;

mod nn {
    use transforms::prelude::*;

    #[differentiable]
    pub fn act(x: &Tensor<f64>) -> Tensor<f64> {
        x.tanh() * 0.5 + x.sigmoid()
    }

    #[differentiable]
    pub fn layer(x: &Tensor<f64>, w: &Tensor<f64>, scale: f64) -> Tensor<f64> {
        let h = matmul(w, x) * scale;
        act(&h)
    }
}

use nn::layer;

#[jacrev]
#[jacfwd]
#[hessian]
#[jacfwd(jacrev)]
#[vmap(jacrev, in_dims = (0, None))]
fn net(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
    let h = layer(x, w, 0.7);
    nn::layer(&h, w, 1.3).sum_dim(0).unsqueeze(0) + h
}

#[jacrev]
#[jacfwd]
#[hessian]
fn net_inlined(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
    let h1 = matmul(w, x) * 0.7;
    let h = h1.tanh() * 0.5 + h1.sigmoid();
    let g1 = matmul(w, &h) * 1.3;
    let g = g1.tanh() * 0.5 + g1.sigmoid();
    g.sum_dim(0).unsqueeze(0) + h
}

#[test]
fn calls_match_the_inlined_program() {
    let x = input(&[4], 1, false);
    let w = input(&[4, 4], 2, false);
    close("value", &net(&x, &w), &net_inlined(&x, &w), 1e-12);
    close(
        "jacrev",
        &net_jacrev(&x, &w),
        &net_inlined_jacrev(&x, &w),
        1e-12,
    );
    close(
        "jacfwd",
        &net_jacfwd(&x, &w),
        &net_inlined_jacfwd(&x, &w),
        1e-12,
    );
    close(
        "hessian",
        &net_hessian(&x, &w),
        &net_inlined_hessian(&x, &w),
        1e-10,
    );
    close(
        "jacfwd(jacrev)",
        &net_jacfwd_jacrev(&x, &w),
        &net_inlined_hessian(&x, &w),
        1e-10,
    );
    // The Jacobian against finite differences.
    let t = input(&[4], 3, false);
    let jt = jac_vec(&net_jacrev(&x, &w), &[4], &t);
    close("J t vs FD", &jt, &fd(|x| net(x, &w), &x, &t), 1e-6);
}

#[test]
fn transform_call_site_matches_attributes() {
    let x = input(&[4], 1, false);
    let w = input(&[4, 4], 2, false);
    let j = transform!(jacrev(layer, argnums = 0))(&x, &w, 0.7);
    let xs = input(&[3, 4], 5, false);
    let bj = transform!(vmap(jacrev(nn::layer), in_dims = (0, None, None)))(&xs, &w, 0.7);
    assert_eq!(bj.shape(), &[3, 4, 4]);
    for i in 0..3 {
        let xi = xs.select(0, i);
        let ji = transform!(jacfwd(layer))(&xi, &w, 0.7);
        close("vmap(jacrev) row", &bj.select(0, i), &ji, 1e-12);
    }
    let t = input(&[4], 3, false);
    close(
        "J t vs FD",
        &jac_vec(&j, &[4], &t),
        &fd(|x| nn::layer(x, &w, 0.7), &x, &t),
        1e-6,
    );
}

/// A `pub` differentiable function of another crate, which calls a private
/// one of its own module.
#[jacrev(argnums = (0, 1))]
#[hessian]
fn two_layers(x: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let h = transforms_difflib::layers::dense(x, w, b);
    dense(&h, w, b).sum()
}

use transforms_difflib::layers::dense;

#[hessian]
fn two_layers_inlined(x: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let a = linear(x, w, b);
    let h = &a * (&a * 1.702).sigmoid();
    let c = linear(&h, w, b);
    (&c * (&c * 1.702).sigmoid()).sum()
}

#[test]
fn calls_across_crates() {
    let x = input(&[3], 7, false);
    let w = input(&[3, 3], 8, false);
    let b = input(&[3], 9, false);
    close(
        "value",
        &two_layers(&x, &w, &b),
        &two_layers_inlined(&x, &w, &b),
        1e-12,
    );
    close(
        "hessian",
        &two_layers_hessian(&x, &w, &b),
        &two_layers_inlined_hessian(&x, &w, &b),
        1e-10,
    );
    let (gx, gw) = two_layers_jacrev(&x, &w, &b);
    let t = input(&[3], 4, false);
    close(
        "grad x vs FD",
        &Tensor::from_shape_vec(&[], vec![dot(&gx, &t)]).unwrap(),
        &fd(|x| two_layers(x, &w, &b), &x, &t),
        1e-6,
    );
    let tw = input(&[3, 3], 5, false);
    close(
        "grad w vs FD",
        &Tensor::from_shape_vec(&[], vec![dot(&gw, &tw)]).unwrap(),
        &fd(|w| two_layers(&x, w, &b), &w, &tw),
        1e-6,
    );
    let jx = transform!(jacrev(dense))(&x, &w, &b);
    close(
        "J t vs FD",
        &jac_vec(&jx, &[3], &t),
        &fd(|x| dense(x, &w, &b), &x, &t),
        1e-6,
    );
}

mod parts {
    use transforms::prelude::*;

    /// Two outputs; the caller destructures them.
    #[differentiable]
    pub(crate) fn split(x: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        (x.sin(), x.exp() * 0.5)
    }
}

#[jacrev]
#[jacfwd]
#[vjp]
fn uses_tuple(x: &Tensor<f64>) -> Tensor<f64> {
    let (s, e) = parts::split(x);
    let (_, e2) = parts::split(&e);
    s * e2
}

#[test]
fn tuple_results_destructure() {
    let x = input(&[5], 3, false);
    let direct = x.sin() * ((x.exp() * 0.5).exp() * 0.5);
    close("value", &uses_tuple(&x), &direct, 1e-12);
    let t = input(&[5], 4, false);
    let j = uses_tuple_jacrev(&x);
    close("jacrev == jacfwd", &j, &uses_tuple_jacfwd(&x), 1e-12);
    close(
        "J t vs FD",
        &jac_vec(&j, &[5], &t),
        &fd(uses_tuple, &x, &t),
        1e-6,
    );
    let ct = input(&[5], 6, false);
    let (_, pb) = uses_tuple_vjp(&x);
    let lhs = dot(&ct, &jac_vec(&j, &[5], &t));
    assert!((lhs - dot(&pb.call(&ct), &t)).abs() < 1e-10);
}

/// A caller above its callee, and a child module reaching both through
/// `use super::*` (as test modules do).
mod ordering {
    use transforms::prelude::*;

    #[jacrev]
    pub fn outer(x: &Tensor<f64>) -> Tensor<f64> {
        inner(x) * 2.0
    }

    #[differentiable]
    fn inner(x: &Tensor<f64>) -> Tensor<f64> {
        x.sin()
    }

    pub mod child {
        use super::*;

        #[jacrev]
        pub fn via_glob(x: &Tensor<f64>) -> Tensor<f64> {
            inner(x).exp()
        }
    }
}

#[test]
fn callees_resolve_in_any_order_and_through_globs() {
    let x = input(&[3], 9, false);
    let diag = |v: T64| &Tensor::<f64>::eye(3) * &v;
    close(
        "outer",
        &ordering::outer_jacrev(&x),
        &diag(x.cos() * 2.0),
        1e-12,
    );
    let want = diag(x.sin().exp() * x.cos());
    close(
        "via glob",
        &ordering::child::via_glob_jacrev(&x),
        &want,
        1e-12,
    );
}
