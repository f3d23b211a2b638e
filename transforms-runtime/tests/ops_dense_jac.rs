//! `ops::dense_jac` (a dense layer's reverse-mode Jacobian in one call)
//! against the separate ops it stands for, bit for bit, and its refusals.

use transforms_runtime::{Tensor, ops};

type T = Tensor<f64>;

/// The separate ops: `y = matmul_t(x, w)`, `z = tanh(y + s)`, `u = 1 - z²`
/// (`s` broadcast as the fused op broadcasts it), the seed product with
/// `u`; returns the Jacobian and `z`.
fn by_ops(x: &T, w: &T, s: &T, nb: usize) -> (T, T) {
    let y = ops::matmul_t(x, w, nb);
    let z = ops::fused2(&y, s, nb, |y, s| (y + s).tanh());
    let u = ops::fused1(&z, |z| 1.0 - z * z);
    let j = ops::diag_matmul_ta(&u, &z, Some(&y), w, x, nb, 0, true);
    (j, z)
}

fn one_call(x: &T, w: &T, s: &T, nb: usize) -> Option<(T, T)> {
    let (j, [z]) = ops::dense_jac(x, w, nb, [s], |y, [s]| {
        let z = (y + s).tanh();
        (1.0 - z * z, [z])
    })?;
    Some((j, z))
}

#[track_caller]
fn same(x: &T, w: &T, s: &T, nb: usize) {
    let (j, z) = one_call(x, w, s, nb).expect("the one-call case");
    let (wj, wz) = by_ops(x, w, s, nb);
    assert_eq!(j.shape(), wj.shape());
    assert_eq!(z.shape(), wz.shape());
    assert_eq!(j.to_vec(), wj.to_vec());
    assert_eq!(z.to_vec(), wz.to_vec());
}

#[test]
fn one_layer_matches_the_separate_ops() {
    // k = 37: a tail past the 8-lane dot products; 150 rows of 20: blocks
    // of 64 rows and a partial one; 300 x 500: past the size where the
    // rows are built in parallel (with more than one thread).
    for (n, k) in [(19, 37), (150, 20), (300, 500)] {
        let x = T::randn(&[k], 1);
        let w = T::randn(&[n, k], 2);
        for s in [T::randn(&[n], 3), T::randn(&[1], 4), T::randn(&[], 5)] {
            same(&x, &w, &s, 0);
        }
    }
}

#[test]
fn batched_layers_match_the_separate_ops() {
    // 50 rows of 100: chunks of 40 rows cross the batch blocks. The chain
    // runs over groups of blocks a whole number of 32 elements long where
    // the batch allows: 8 blocks of 4 (20 is two groups and a partial
    // one), 32 blocks of 33 (37 is one group and a partial one).
    for (c, n, k) in [(3, 4, 5), (3, 50, 100), (1, 7, 9), (20, 4, 5), (37, 33, 31)] {
        let x = T::randn(&[c, k], 1);
        let shared = T::randn(&[1, n, k], 2);
        let per_sample = T::randn(&[c, n, k], 3);
        let sides = [
            T::randn(&[1, n], 4),
            T::randn(&[c, n], 5),
            T::randn(&[c, 1], 6),
            T::randn(&[1], 7),
        ];
        for w in [&shared, &per_sample] {
            for s in &sides {
                same(&x, w, s, 1);
            }
        }
    }
}

#[test]
fn other_shapes_are_left_to_the_separate_ops() {
    let (n, k) = (4, 3);
    let x = T::randn(&[k], 1);
    let w = T::randn(&[n, k], 2);
    // A side operand that would broadcast `y` to a larger shape.
    assert!(one_call(&x, &w, &T::randn(&[2, n], 3), 0).is_none());
    assert!(one_call(&x, &w, &T::randn(&[n + 1], 3), 0).is_none());
    // Mismatched inner dims (the separate ops report the error).
    assert!(one_call(&x, &T::randn(&[n, k + 1], 4), &T::randn(&[n], 5), 0).is_none());
    // A batch of 2 against a side operand batched by 3.
    let xb = T::randn(&[2, k], 6);
    let wb = T::randn(&[1, n, k], 7);
    assert!(one_call(&xb, &wb, &T::randn(&[3, n], 8), 1).is_none());
    // Two batch dims.
    let x2 = T::randn(&[2, 2, k], 9);
    assert!(one_call(&x2, &T::randn(&[1, 1, n, k], 10), &T::randn(&[n], 11), 2).is_none());
}

/// `jacfwd`'s separate ops for the same layer: the seed product of `seed`
/// broadcast like `y + s`, scaled by `u = 1 - tanh(y + s)²`, the basis dim
/// moved last.
fn by_fwd_ops(x: &T, w: &T, s: &T, seed: &T) -> T {
    let y = ops::matmul_t(x, w, 0);
    let pre = ops::add(&y, s, 0);
    let u = ops::fused1(&pre, |p| 1.0 - p.tanh() * p.tanh());
    let p = ops::diag_matmul(seed, x, None, w, 0, true);
    let p = ops::broadcast_like(&p, &ops::unsqueeze(&pre, 0, 0), 1);
    let scaled = ops::mul(&p, &ops::unsqueeze(&u, 0, 0), 1);
    let e = ops::expand_dim0_like(&scaled, &ops::reshape(x, &[-1], 0), 0);
    ops::movedim(&e, 0, -1, 0)
}

#[test]
fn the_forward_form_matches_its_separate_ops_for_a_seed_of_ones() {
    let (n, k) = (150, 20);
    let x = T::randn(&[k], 1);
    let w = T::randn(&[n, k], 2);
    let s = T::randn(&[n], 3);
    let f = |y: f64, [s]: [f64; 1]| {
        let t = (y + s).tanh();
        (1.0 - t * t, [])
    };
    let ones = T::ones(&[k]);
    let (j, []) = ops::dense_jac_fwd(&x, &w, 0, &ones, [&s], f).expect("a seed of ones");
    let want = by_fwd_ops(&x, &w, &s, &ones);
    assert_eq!(j.shape(), want.shape());
    assert_eq!(j.to_vec(), want.to_vec());
    // Any other seed is left to the separate ops.
    let twos = T::ones(&[k]) * 2.0;
    assert!(ops::dense_jac_fwd(&x, &w, 0, &twos, [&s], f).is_none());
    assert!(ops::dense_jac_fwd(&x, &w, 0, &T::ones(&[1]), [&s], f).is_none());
    assert_ne!(by_fwd_ops(&x, &w, &s, &twos).to_vec(), want.to_vec());
}
