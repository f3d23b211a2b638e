//! A matrix times the input, `a.matmul(x)`: the seed meets the product on
//! its right (`ops::diag_matmul_right` in `jacfwd`, `ops::diag_matmul_tb`
//! in `jacrev`), one scaled column or row of `a` per basis element when
//! `x` is a vector, the dense seed otherwise. Checked for vector and
//! matrix `x`, in both arguments, nested (reverse mode over either runs the
//! new products' transposes, in the scales and in the matrix; `hessian`
//! their derivatives), and under `vmap`:
//! `jacrev == jacfwd`, `J t` against central differences, the Hessian
//! against differences of the Jacobian, and `vmap` against a loop.

mod common;

use common::*;
use transforms::prelude::*;

#[jacrev(argnums = 1)]
#[jacfwd(argnums = 1)]
#[hessian(argnums = 1)]
#[jacrev(jacrev(argnums = 1), argnums = 1, name = f_rev_rev)]
#[jacrev(jacfwd(argnums = 1), argnums = 1, name = f_rev_fwd)]
#[jacrev(jacrev(argnums = 1), argnums = 0, name = f_rev_rev_a)]
#[jacfwd(jacrev(argnums = 1), argnums = 0, name = f_fwd_rev_a)]
#[jacrev(jacfwd(argnums = 1), argnums = 0, name = f_rev_fwd_a)]
#[jacrev(argnums = 0, name = f_jacrev_a)]
#[jacfwd(argnums = 0, name = f_jacfwd_a)]
#[vmap(jacrev(argnums = 1), in_dims = (None, 0), name = f_batch_jacrev)]
#[vmap(jacfwd(argnums = 1), in_dims = (None, 0), name = f_batch_jacfwd)]
fn f(a: &Tensor<f64>, x: &Tensor<f64>) -> Tensor<f64> {
    a.matmul(x).tanh() * 1.5
}

/// A second layer written as matrix times vector.
#[jacrev(argnums = 4)]
#[jacfwd(argnums = 4)]
#[hessian(argnums = 4)]
fn two(
    w: &Tensor<f64>,
    b: &Tensor<f64>,
    v: &Tensor<f64>,
    c: &Tensor<f64>,
    x: &Tensor<f64>,
) -> Tensor<f64> {
    let h = linear(x, w, b).tanh();
    (v.matmul(&h) + c).sin()
}

#[test]
fn a_matrix_times_the_input() {
    let (m, n) = (5, 4);
    let a = input(&[m, n], 1, false);
    // A vector input (the gathers), then a matrix one (the dense seed).
    for x_shape in [vec![n], vec![n, 3]] {
        let x = input(&x_shape, 2, false);
        let t = input(&x_shape, 3, false);
        let out_shape = concat_shape(&[m], &x_shape[1..]);
        let what = |s: &str| format!("x {x_shape:?}: {s}");
        let jr = f_jacrev(&a, &x);
        assert_eq!(jr.shape(), &concat_shape(&out_shape, &x_shape)[..]);
        close(&what("jacfwd == jacrev"), &f_jacfwd(&a, &x), &jr, 1e-12);
        let fd_f = fd(|x| f(&a, x), &x, &t);
        close(
            &what("J t == fd"),
            &jac_vec(&jr, &out_shape, &t),
            &fd_f,
            1e-6,
        );
        let jo = concat_shape(&out_shape, &x_shape);
        let h = f_hessian(&a, &x);
        let fd_j = fd(|x| f_jacfwd(&a, x), &x, &t);
        close(&what("H t == fd of J"), &jac_vec(&h, &jo, &t), &fd_j, 1e-6);
        close(
            &what("jacrev(jacrev) == hessian"),
            &f_rev_rev(&a, &x),
            &h,
            1e-10,
        );
        close(
            &what("jacrev(jacfwd) == hessian"),
            &f_rev_fwd(&a, &x),
            &h,
            1e-10,
        );
        // The Jacobian in x differentiated in the matrix, three ways (the
        // reverse ones transpose the products in their matrix).
        let mixed = f_fwd_rev_a(&a, &x);
        close(
            &what("d_a J_x: rev(rev) == fwd(rev)"),
            &f_rev_rev_a(&a, &x),
            &mixed,
            1e-10,
        );
        close(
            &what("d_a J_x: rev(fwd) == fwd(rev)"),
            &f_rev_fwd_a(&a, &x),
            &mixed,
            1e-10,
        );
        let ta = input(&[m, n], 4, false);
        let fd_ja = fd(|a| f_jacrev(a, &x), &a, &ta);
        close(
            &what("d_a J_x t == fd"),
            &jac_vec(&mixed, &jo, &ta),
            &fd_ja,
            1e-6,
        );
        // In the matrix: J t against differences.
        let ja = f_jacrev_a(&a, &x);
        close(
            &what("jacfwd == jacrev in a"),
            &f_jacfwd_a(&a, &x),
            &ja,
            1e-12,
        );
        let fd_a = fd(|a| f(a, &x), &a, &ta);
        close(
            &what("J_a t == fd"),
            &jac_vec(&ja, &out_shape, &ta),
            &fd_a,
            1e-6,
        );
    }
    // A batch of vectors: vmap == a loop.
    let xs = input(&[3, n], 5, false);
    let (bj, bf) = (f_batch_jacrev(&a, &xs), f_batch_jacfwd(&a, &xs));
    for i in 0..3 {
        let xi = Tensor::from_shape_vec(&[n], xs.as_slice()[i * n..(i + 1) * n].to_vec()).unwrap();
        let one = f_jacrev(&a, &xi);
        let block = |t: &Tensor<f64>| {
            Tensor::from_shape_vec(&[m, n], t.as_slice()[i * m * n..(i + 1) * m * n].to_vec())
                .unwrap()
        };
        close("vmap(jacrev) == jacrev", &block(&bj), &one, 1e-12);
        close("vmap(jacfwd) == jacrev", &block(&bf), &one, 1e-12);
    }
}

#[test]
fn a_second_layer_as_matrix_times_vector() {
    let (n, k, m) = (6, 4, 3);
    let (w, b) = (input(&[n, k], 6, false), input(&[n], 7, false));
    let (v, c) = (input(&[m, n], 8, false), input(&[m], 9, false));
    let (x, t) = (input(&[k], 10, false), input(&[k], 11, false));
    let jr = two_jacrev(&w, &b, &v, &c, &x);
    close(
        "jacfwd == jacrev",
        &two_jacfwd(&w, &b, &v, &c, &x),
        &jr,
        1e-12,
    );
    let fd_f = fd(|x| two(&w, &b, &v, &c, x), &x, &t);
    close("J t == fd", &jac_vec(&jr, &[m], &t), &fd_f, 1e-6);
    let h = two_hessian(&w, &b, &v, &c, &x);
    let fd_j = fd(|x| two_jacfwd(&w, &b, &v, &c, x), &x, &t);
    close("H t == fd of J", &jac_vec(&h, &[m, k], &t), &fd_j, 1e-6);
}
