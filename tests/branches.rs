//! `if`/`else` on scalar conditions: every transform of a function with
//! branches equals the same transform of the branch that runs.

mod common;

use common::*;
use transforms::prelude::*;

#[jacrev]
#[jacfwd]
#[hessian]
#[vjp]
#[vmap(jacrev, in_dims = (0, None))]
fn branchy(x: &Tensor<f64>, c: f64) -> Tensor<f64> {
    let y = x * 2.0;
    if c > 0.0 && c < 10.0 {
        (y * c).sin()
    } else if c >= 10.0 {
        y.exp() * 0.1
    } else {
        y.tanh() + x
    }
}

#[jacrev]
#[hessian]
fn first(x: &Tensor<f64>, c: f64) -> Tensor<f64> {
    (x * 2.0 * c).sin()
}

#[jacrev]
#[hessian]
fn second(x: &Tensor<f64>) -> Tensor<f64> {
    (x * 2.0).exp() * 0.1
}

#[jacrev]
#[hessian]
fn third(x: &Tensor<f64>) -> Tensor<f64> {
    (x * 2.0).tanh() + x
}

#[test]
fn each_branch_matches_its_program() {
    let x = input(&[4], 1, false);
    for (c, name) in [(0.7, "first"), (12.0, "second"), (-1.0, "third")] {
        let (want_j, want_h) = match name {
            "first" => (first_jacrev(&x, c), first_hessian(&x, c)),
            "second" => (second_jacrev(&x), second_hessian(&x)),
            _ => (third_jacrev(&x), third_hessian(&x)),
        };
        close(name, &branchy_jacrev(&x, c), &want_j, 1e-12);
        close(name, &branchy_jacfwd(&x, c), &want_j, 1e-12);
        close(name, &branchy_hessian(&x, c), &want_h, 1e-10);
        let t = input(&[4], 2, false);
        let ct = input(&[4], 3, false);
        let (_, pb) = branchy_vjp(&x, c);
        let lhs = dot(&ct, &jac_vec(&want_j, &[4], &t));
        assert!((lhs - dot(&pb.call(&ct), &t)).abs() < 1e-10, "{name}");
        let xs = input(&[3, 4], 4, false);
        let bj = branchy_vmap_jacrev(&xs, c);
        for i in 0..3 {
            close(
                name,
                &bj.select(0, i),
                &branchy_jacrev(&xs.select(0, i), c),
                1e-12,
            );
        }
    }
}

/// Branches on the loop index, an `if` without `else` that assigns, and a
/// tuple-valued `if`.
#[jacrev]
#[jacfwd]
#[hessian]
fn schedule(x: &Tensor<f64>, n: usize, warm: usize) -> Tensor<f64> {
    let mut y = x.clone();
    let mut z = x * 0.5;
    for i in 0..n {
        if i < warm {
            y = (&y * 0.9).sin();
        } else {
            y = &y * 1.1 + &z;
        }
        if i == 0 {
            z = z.tanh();
        }
        let (a, b) = if i < 2 {
            (y.clone(), z.clone())
        } else {
            (z.clone(), y.clone())
        };
        y = a * 0.5 + b * 0.5;
    }
    y.sum()
}

#[jacrev]
#[hessian]
fn schedule_3_1(x: &Tensor<f64>) -> Tensor<f64> {
    // n = 3, warm = 1.
    let z = (x * 0.5).tanh();
    let y0 = (x * 0.9).sin();
    let y1 = &y0 * 0.5 + &z * 0.5;
    let y2 = &y1 * 1.1 + &z;
    let y3 = &y2 * 0.5 + &z * 0.5;
    let y4 = &y3 * 1.1 + &z;
    let y5 = &z * 0.5 + &y4 * 0.5;
    y5.sum()
}

#[test]
fn branches_in_loops() {
    let x = input(&[5], 5, false);
    close(
        "grad",
        &schedule_jacrev(&x, 3, 1),
        &schedule_3_1_jacrev(&x),
        1e-12,
    );
    close(
        "grad fwd",
        &schedule_jacfwd(&x, 3, 1),
        &schedule_3_1_jacrev(&x),
        1e-12,
    );
    close(
        "hessian",
        &schedule_hessian(&x, 3, 1),
        &schedule_3_1_hessian(&x),
        1e-10,
    );
    let t = input(&[5], 6, false);
    let g = schedule_jacrev(&x, 6, 2);
    let gt = Tensor::from_shape_vec(&[], vec![dot(&g, &t)]).unwrap();
    close("grad vs FD", &gt, &fd(|x| schedule(x, 6, 2), &x, &t), 1e-6);
}
