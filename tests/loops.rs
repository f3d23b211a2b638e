//! Loops: `for` over scalar bounds lowers to one `scan`, whatever the trip
//! count; every transform of a loop equals the same transform of the
//! unrolled program, and finite differences.

mod common;

use common::*;
use transforms::prelude::*;

/// A fixed-step integrator: x <- x + h tanh(W x) + h i/n b.
#[jvp]
#[vjp]
#[jacrev]
#[jacfwd]
#[hessian]
#[jacrev(jacrev)]
#[vmap(jacrev, in_dims = (0, None, None, None))]
fn euler(x0: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>, n: usize) -> Tensor<f64> {
    let mut x = x0.clone();
    for i in 0..n {
        let drive = b * (i as f64 / n as f64);
        x = &x + (matmul(w, &x).tanh() + drive) * 0.1;
    }
    x
}

/// The same for n = 3, unrolled by hand.
#[jacrev]
#[jacfwd]
#[hessian]
#[jacrev(jacrev)]
fn euler3(x0: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let x1 = x0 + (matmul(w, x0).tanh() + b * 0.0) * 0.1;
    let x2 = &x1 + (matmul(w, &x1).tanh() + b * (1.0 / 3.0)) * 0.1;
    &x2 + (matmul(w, &x2).tanh() + b * (2.0 / 3.0)) * 0.1
}

fn inputs() -> (T64, T64, T64) {
    (
        input(&[4], 1, false),
        input(&[4, 4], 2, false) * 0.5,
        input(&[4], 3, false),
    )
}

#[test]
fn loop_matches_unrolled() {
    let (x, w, b) = inputs();
    close("value", &euler(&x, &w, &b, 3), &euler3(&x, &w, &b), 1e-12);
    close(
        "jacrev",
        &euler_jacrev(&x, &w, &b, 3),
        &euler3_jacrev(&x, &w, &b),
        1e-12,
    );
    close(
        "jacfwd",
        &euler_jacfwd(&x, &w, &b, 3),
        &euler3_jacfwd(&x, &w, &b),
        1e-12,
    );
    close(
        "hessian",
        &euler_hessian(&x, &w, &b, 3),
        &euler3_hessian(&x, &w, &b),
        1e-10,
    );
    close(
        "jacrev(jacrev)",
        &euler_jacrev_jacrev(&x, &w, &b, 3),
        &euler3_jacrev_jacrev(&x, &w, &b),
        1e-10,
    );
}

#[test]
fn loop_against_finite_differences_for_many_trip_counts() {
    let (x, w, b) = inputs();
    for n in [0usize, 1, 2, 7, 40] {
        let t = input(&[4], 10 + n as u64, false);
        let j = euler_jacrev(&x, &w, &b, n);
        close("jacrev == jacfwd", &j, &euler_jacfwd(&x, &w, &b, n), 1e-12);
        close(
            "J t vs FD",
            &jac_vec(&j, &[4], &t),
            &fd(|x| euler(x, &w, &b, n), &x, &t),
            1e-6,
        );
        let (y, jt) = euler_jvp(&x, &w, &b, n, &t);
        close("jvp value", &y, &euler(&x, &w, &b, n), 0.0);
        close("jvp == J t", &jt, &jac_vec(&j, &[4], &t), 1e-12);
        let ct = input(&[4], 20 + n as u64, false);
        let (_, pb) = euler_vjp(&x, &w, &b, n);
        let lhs = dot(&ct, &jt);
        let rhs = dot(&pb.call(&ct), &t);
        assert!(
            (lhs - rhs).abs() < 1e-10,
            "n = {n}: <ct, J t> = {lhs}, <J^T ct, t> = {rhs}"
        );
    }
}

#[test]
fn vmap_of_a_loop_is_a_loop_of_calls() {
    let (_, w, b) = inputs();
    let xs = input(&[5, 4], 30, false);
    let batched = euler_vmap_jacrev(&xs, &w, &b, 4);
    for i in 0..5 {
        close(
            "row",
            &batched.select(0, i),
            &euler_jacrev(&xs.select(0, i), &w, &b, 4),
            1e-12,
        );
    }
}

/// Nested loops, a reversed range, the loop index in scalar arithmetic,
/// and a constant read inside the loop.
#[jacrev]
#[hessian]
fn nested(x: &Tensor<f64>, c: &Tensor<f64>, n: usize) -> Tensor<f64> {
    let mut acc = x * 0.0;
    let mut y = x.clone();
    for i in (0..n).rev() {
        for j in 1..=2 {
            y = (&y * c).sin() * (1.0 + (i * j) as f64 * 0.1);
        }
        acc = acc + &y;
    }
    acc.sum()
}

#[hessian]
fn nested_n2(x: &Tensor<f64>, c: &Tensor<f64>) -> Tensor<f64> {
    // i = 1 then i = 0; j = 1, 2.
    let y1 = (x * c).sin() * 1.1;
    let y2 = (&y1 * c).sin() * 1.2;
    let acc = x * 0.0 + &y2;
    let y3 = (&y2 * c).sin() * 1.0;
    let y4 = (&y3 * c).sin() * 1.0;
    (acc + &y4).sum()
}

#[test]
fn nested_and_reversed_loops() {
    let x = input(&[3], 40, false);
    let c = input(&[3], 41, false);
    close("value", &nested(&x, &c, 2), &nested_n2(&x, &c), 1e-12);
    close(
        "hessian",
        &nested_hessian(&x, &c, 2),
        &nested_n2_hessian(&x, &c),
        1e-10,
    );
    let t = input(&[3], 42, false);
    let g = nested_jacrev(&x, &c, 5);
    let g_t = Tensor::from_shape_vec(&[], vec![dot(&g, &t)]).unwrap();
    close("grad vs FD", &g_t, &fd(|x| nested(x, &c, 5), &x, &t), 1e-6);
}

/// A `while` loop on scalar state: halving steps until the step is small,
/// with the step used in tensor arithmetic; its state after the loop too.
#[jacrev]
#[jacfwd]
#[hessian]
#[vjp]
#[vmap(jacrev, in_dims = (0, None))]
fn halving(x: &Tensor<f64>, tol: f64) -> Tensor<f64> {
    let mut y = x.clone();
    let mut h = 1.0;
    let mut k = 0;
    while h > tol {
        y = &y + (&y * h).sin() * 0.5;
        h *= 0.5;
        k += 1;
    }
    y * (k as f64)
}

/// tol = 0.3: h = 1, 0.5 (two iterations), k = 2.
#[jacrev]
#[hessian]
fn halving_unrolled(x: &Tensor<f64>) -> Tensor<f64> {
    let y1 = x + (x * 1.0).sin() * 0.5;
    let y2 = &y1 + (&y1 * 0.5).sin() * 0.5;
    y2 * 2.0
}

#[test]
fn while_loops_record_their_trip_count() {
    let x = input(&[3], 50, false);
    close("value", &halving(&x, 0.3), &halving_unrolled(&x), 1e-12);
    close(
        "jacrev",
        &halving_jacrev(&x, 0.3),
        &halving_unrolled_jacrev(&x),
        1e-12,
    );
    close(
        "jacfwd",
        &halving_jacfwd(&x, 0.3),
        &halving_unrolled_jacrev(&x),
        1e-12,
    );
    close(
        "hessian",
        &halving_hessian(&x, 0.3),
        &halving_unrolled_hessian(&x),
        1e-10,
    );
    for tol in [2.0, 0.01, 1e-4] {
        let t = input(&[3], 51, false);
        let j = halving_jacrev(&x, tol);
        close("jacrev == jacfwd", &j, &halving_jacfwd(&x, tol), 1e-12);
        close(
            "J t vs FD",
            &jac_vec(&j, &[3], &t),
            &fd(|x| halving(x, tol), &x, &t),
            1e-6,
        );
        let ct = input(&[3], 52, false);
        let (_, pb) = halving_vjp(&x, tol);
        assert!((dot(&ct, &jac_vec(&j, &[3], &t)) - dot(&pb.call(&ct), &t)).abs() < 1e-10);
    }
    let xs = input(&[4, 3], 53, false);
    let bj = halving_vmap_jacrev(&xs, 0.1);
    for i in 0..4 {
        close(
            "vmap row",
            &bj.select(0, i),
            &halving_jacrev(&xs.select(0, i), 0.1),
            1e-12,
        );
    }
}

/// The carry starts from an unmapped input and meets a mapped one in the
/// body, so under `vmap` it becomes batched only inside the loop; the
/// residual stack of `jacrev` then holds slices of batch 1 and batch 3.
/// (Found by the property tests, seed 2, program 5.)
#[jacrev]
#[vmap(jacrev, in_dims = (None, 0), name = carry_batched_in_body)]
fn carry_meets_mapped(x0: &Tensor<f64>, x1: &Tensor<f64>) -> Tensor<f64> {
    let mut v = x0.clone();
    for _ in 0..2 {
        v = (&v * x1).sin();
    }
    v
}

#[test]
fn vmap_of_jacrev_of_a_loop_whose_carry_becomes_batched() {
    let x0 = input(&[4], 50, false);
    let xs = input(&[3, 4], 51, false);
    let batched = carry_batched_in_body(&x0, &xs);
    assert_eq!(batched.shape(), &[3, 4, 4]);
    for i in 0..3 {
        let x1 = xs.select(0, i);
        let j = carry_meets_mapped_jacrev(&x0, &x1);
        close("row", &batched.select(0, i), &j, 1e-12);
        let t = input(&[4], 52 + i as u64, false);
        close(
            "J t vs FD",
            &jac_vec(&j, &[4], &t),
            &fd(|x| carry_meets_mapped(x, &x1), &x0, &t),
            1e-6,
        );
    }
}
