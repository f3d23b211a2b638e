//! Results large enough to be built in parallel (the runtime splits results
//! of at least `PAR_MIN_ELEMS` elements across rayon's pool): the same
//! numbers as the per-example loop and as the other mode, with ragged sizes
//! so that blocks and tiles do not divide evenly. The pool has as many
//! threads as the machine has cores (2 in CI), so these take the parallel
//! path there; `RAYON_NUM_THREADS=1` runs the same checks serially.

mod common;

use common::*;
use transforms::prelude::*;

#[jacrev(argnums = 2)]
#[jacfwd(argnums = 2)]
#[hessian(argnums = 2)]
#[vmap(jacrev(argnums = 2), in_dims = (None, None, 0), name = batch_jacrev)]
#[vmap(jacfwd(argnums = 2), in_dims = (None, None, 0), name = batch_jacfwd)]
#[vmap(hessian(argnums = 2), in_dims = (None, None, 0), name = batch_hessian)]
fn predict(w: &Tensor<f64>, b: &Tensor<f64>, x: &Tensor<f64>) -> Tensor<f64> {
    linear(x, w, b).tanh()
}

fn example(xs: &T64, i: usize) -> T64 {
    let d = xs.shape()[1];
    T64::from_shape_vec(&[d], xs.to_vec()[i * d..(i + 1) * d].to_vec()).unwrap()
}

#[test]
fn batch_jacobians_of_a_large_batch_match_the_loop() {
    let (batch, din, dout) = (37, 61, 67);
    assert!(batch * din * dout >= transforms_kernels_min());
    let (w, b) = (input(&[dout, din], 1, false), input(&[dout], 2, false));
    let xs = input(&[batch, din], 3, false);
    let jr = batch_jacrev(&w, &b, &xs);
    let jf = batch_jacfwd(&w, &b, &xs);
    assert_eq!(jr.shape(), &[batch, dout, din]);
    close("vmap(jacfwd) == vmap(jacrev)", &jf, &jr, 1e-12);
    let per = dout * din;
    for i in [0, 1, 17, batch - 1] {
        let j = predict_jacrev(&w, &b, &example(&xs, i));
        let row = T64::from_shape_vec(&[dout, din], jr.to_vec()[i * per..(i + 1) * per].to_vec())
            .unwrap();
        close(
            &format!("vmap(jacrev) example {i} == jacrev"),
            &row,
            &j,
            1e-12,
        );
    }
}

#[test]
fn a_large_hessian_matches_finite_differences_of_the_jacobian() {
    let (din, dout) = (83, 29);
    assert!(din * din * dout >= transforms_kernels_min());
    let (w, b) = (input(&[dout, din], 4, false), input(&[dout], 5, false));
    let x = input(&[din], 6, false);
    let h = predict_hessian(&w, &b, &x);
    assert_eq!(h.shape(), &[dout, din, din]);
    // H t == d/ds J(x + s t): one direction, by central differences.
    let t = input(&[din], 7, false);
    let fd_j = fd(|x| predict_jacfwd(&w, &b, x), &x, &t);
    let hv = jac_vec(&h, &[dout, din], &t);
    close("H t == fd of the Jacobian", &hv, &fd_j, 1e-6);
    // Closed form: H[o] = tanh''(z_o) w_o w_o^T.
    let z = linear(&x, &w, &b).to_vec();
    let (hv, wv) = (h.to_vec(), w.to_vec());
    for o in [0, 13, dout - 1] {
        let y = z[o].tanh();
        let d2 = -2.0 * y * (1.0 - y * y);
        for (i, j) in [(0, 0), (5, 80), (82, 41)] {
            let want = d2 * wv[o * din + i] * wv[o * din + j];
            let got = hv[(o * din + i) * din + j];
            assert!(
                (got - want).abs() < 1e-12,
                "H[{o}, {i}, {j}] = {got}, want {want}"
            );
        }
    }
}

/// The runtime's parallel threshold, as the kernels crate defines it.
fn transforms_kernels_min() -> usize {
    1 << 17
}

#[test]
fn a_large_batch_of_hessians_matches_the_loop_and_the_closed_form() {
    let (batch, din, dout) = (7, 29, 23);
    assert!(batch * dout * din * din >= transforms_kernels_min());
    let (w, b) = (input(&[dout, din], 8, false), input(&[dout], 9, false));
    let xs = input(&[batch, din], 10, false);
    let hs = batch_hessian(&w, &b, &xs);
    assert_eq!(hs.shape(), &[batch, dout, din, din]);
    let per = dout * din * din;
    let (hv, wv) = (hs.to_vec(), w.to_vec());
    for i in [0, 3, batch - 1] {
        let x = example(&xs, i);
        let h = predict_hessian(&w, &b, &x);
        let row =
            T64::from_shape_vec(&[dout, din, din], hv[i * per..(i + 1) * per].to_vec()).unwrap();
        close(
            &format!("vmap(hessian) example {i} == hessian"),
            &row,
            &h,
            1e-12,
        );
        // Closed form: H[o] = tanh''(z_o) w_o w_o^T.
        let z = linear(&x, &w, &b).to_vec();
        for o in [0, 11, dout - 1] {
            let y = z[o].tanh();
            let d2 = -2.0 * y * (1.0 - y * y);
            for (p, q) in [(0, 0), (3, 28), (28, 14)] {
                let want = d2 * wv[o * din + p] * wv[o * din + q];
                let got = hv[i * per + (o * din + p) * din + q];
                assert!(
                    (got - want).abs() < 1e-12,
                    "H[{i}, {o}, {p}, {q}] = {got}, want {want}"
                );
            }
        }
    }
}

/// A quadratic form under `sin`: its Hessian adds the products of the seed
/// with `m` into a running sum in blocks of rows once the result is over
/// 64 KiB (`ops::add_rows`: 160 x 160 f64 is 200 KiB, blocks of 40 rows).
#[hessian(argnums = 0)]
#[vmap(hessian(argnums = 0), in_dims = (0, None), name = batch_form_hessian)]
fn form(x: &Tensor<f64>, m: &Tensor<f64>) -> Tensor<f64> {
    (x.matmul(m).matmul(x) * 0.01).sin()
}

#[test]
fn a_hessian_summed_in_blocks_of_rows_is_the_closed_form() {
    let n = 160;
    let m = input(&[n, n], 61, false);
    let mv = m.to_vec();
    let check = |x: &T64, h: &T64, what: &str| {
        // q = 0.01 x^T M x, g = 0.01 (M + M^T) x,
        // H = cos(q) 0.01 (M + M^T) - sin(q) g g^T.
        let xv = x.to_vec();
        let q: f64 = (0..n)
            .map(|i| (0..n).map(|j| xv[i] * mv[i * n + j] * xv[j]).sum::<f64>())
            .sum::<f64>()
            * 0.01;
        let g: Vec<f64> = (0..n)
            .map(|i| {
                0.01 * (0..n)
                    .map(|j| (mv[i * n + j] + mv[j * n + i]) * xv[j])
                    .sum::<f64>()
            })
            .collect();
        let hv = h.to_vec();
        assert_eq!(h.shape(), &[n, n], "{what}");
        for i in 0..n {
            for j in 0..n {
                let want = q.cos() * 0.01 * (mv[i * n + j] + mv[j * n + i]) - q.sin() * g[i] * g[j];
                let got = hv[i * n + j];
                assert!(
                    (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
                    "{what}: H[{i}, {j}] = {got}, want {want}"
                );
            }
        }
    };
    let x = input(&[n], 62, false);
    check(&x, &form_hessian(&x, &m), "hessian");
    // Batched (here without blocks): each example's Hessian the closed
    // form too.
    let xs = input(&[3, n], 63, false);
    let hs = batch_form_hessian(&xs, &m);
    assert_eq!(hs.shape(), &[3, n, n]);
    let hv = hs.to_vec();
    for i in 0..3 {
        let x = example(&xs, i);
        let h = T64::from_shape_vec(&[n, n], hv[i * n * n..(i + 1) * n * n].to_vec()).unwrap();
        check(&x, &h, &format!("vmap(hessian) example {i}"));
    }
}
