//! Features together: a differentiable callee with a loop and a branch on
//! its own scalar parameter, called inside a loop; with has_aux, chunking,
//! linearize and vmap; a while loop whose carry becomes batched.

mod common;

use common::*;
use transforms::prelude::*;

#[differentiable]
fn smooth_step(x: &Tensor<f64>, steps: usize, gain: f64) -> Tensor<f64> {
    let mut y = x.clone();
    for k in 0..steps {
        if gain > 1.0 {
            y = (&y * gain).tanh() + &y * (k as f64 * 0.01);
        } else {
            y = y.sin() * gain;
        }
    }
    y
}

#[jacrev(has_aux = true)]
#[jacrev(chunk_size = 2, name = model_jacrev_chunked)]
#[jacfwd]
#[hessian(argnums = 1)]
#[linearize]
#[vmap(jacrev, in_dims = (0, None))]
fn model(x: &Tensor<f64>, w: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
    let mut h = x.clone();
    for _ in 0..2 {
        h = smooth_step(&matmul(w, &h), 2, 1.5) + smooth_step(&h, 1, 0.5);
    }
    (h.clone(), h.sum())
}

#[jacrev]
#[jacfwd]
fn model_out(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
    let mut h = x.clone();
    for _ in 0..2 {
        h = smooth_step(&matmul(w, &h), 2, 1.5) + smooth_step(&h, 1, 0.5);
    }
    h
}

#[test]
fn features_compose() {
    let x = input(&[3], 60, false);
    let w = input(&[3, 3], 61, false) * 0.5;
    let j = model_out_jacrev(&x, &w);
    close("jacfwd", &model_out_jacfwd(&x, &w), &j, 1e-12);
    let t = input(&[3], 62, false);
    close(
        "J t vs FD",
        &jac_vec(&j, &[3], &t),
        &fd(|x| model_out(x, &w), &x, &t),
        1e-6,
    );
    let (jo, s) = model_jacrev(&x, &w);
    close("has_aux jac", &jo, &j, 1e-12);
    close("has_aux aux", &s, &model_out(&x, &w).sum(), 1e-12);
    let (jc, _) = model_jacrev_chunked(&x, &w);
    close("chunked", &jc, &j, 1e-12);
    let ((y, _), lin) = model_linearize(&x, &w);
    close("linearize out", &y, &model_out(&x, &w), 1e-12);
    let (ty, _) = lin.call(&t);
    close("linearize call", &ty, &jac_vec(&j, &[3], &t), 1e-10);
    let xs = input(&[4, 3], 63, false);
    let (bj, _) = model_vmap_jacrev(&xs, &w);
    for i in 0..4 {
        close(
            "vmap row",
            &bj.select(0, i),
            &model_out_jacrev(&xs.select(0, i), &w),
            1e-12,
        );
    }
    let (hw, hs) = model_hessian(&x, &w);
    assert_eq!(
        (hw.shape(), hs.shape()),
        (&[3, 3, 3, 3, 3][..], &[3, 3, 3, 3][..])
    );
    // The Hessian of the sum output is the sum of the first's over outputs.
    close("hessian of the sum", &hs, &hw.sum_dim(0), 1e-10);
}

/// A while loop whose carry starts unbatched and becomes batched.
#[vmap(jacrev, in_dims = (None, 0))]
#[jacrev]
fn relax(x0: &Tensor<f64>, target: &Tensor<f64>) -> Tensor<f64> {
    let mut x = x0.clone();
    let mut err = 1.0;
    while err > 0.05 {
        x = &x + (target - &x) * 0.5;
        err *= 0.5;
    }
    x
}

#[test]
fn while_carry_becomes_batched() {
    let x0 = input(&[3], 64, false);
    let ts = input(&[2, 3], 65, false);
    let b = relax_vmap_jacrev(&x0, &ts);
    for i in 0..2 {
        close(
            "row",
            &b.select(0, i),
            &relax_jacrev(&x0, &ts.select(0, i)),
            1e-12,
        );
    }
}
