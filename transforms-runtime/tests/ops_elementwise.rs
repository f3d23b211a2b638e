//! Elementwise unary ops and the broadcasting binary ops.

mod common;

use common::{assert_tensor_close, check_batched, rand, t64};
use transforms_runtime::{Tensor, ops};

#[test]
fn unary_values() {
    let x = t64(&[4], &[-2.0, -0.0, 0.5, 3.0]);
    assert_eq!(ops::relu(&x).to_vec(), vec![0.0, 0.0, 0.5, 3.0]);
    assert_eq!(ops::heaviside(&x).to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
    assert_eq!(ops::neg(&x).to_vec(), vec![2.0, 0.0, -0.5, -3.0]);
    assert_eq!(ops::square(&x).to_vec(), vec![4.0, 0.0, 0.25, 9.0]);
    assert_eq!(ops::add_scalar(&x, 1.0).to_vec(), vec![-1.0, 1.0, 1.5, 4.0]);
    assert_eq!(
        ops::mul_scalar(&x, -2.0).to_vec(),
        vec![4.0, 0.0, -1.0, -6.0]
    );
    assert_eq!(
        ops::powf(&t64(&[2], &[4.0, 9.0]), 1.5).to_vec(),
        vec![8.0, 27.0]
    );
    assert_eq!(
        ops::recip(&t64(&[2], &[4.0, -0.5])).to_vec(),
        vec![0.25, -2.0]
    );
    assert_eq!(ops::sqrt(&t64(&[2], &[4.0, 0.25])).to_vec(), vec![2.0, 0.5]);
    let e = ops::exp(&t64(&[1], &[1.0])).item();
    assert!((e - std::f64::consts::E).abs() < 1e-15);
    assert!((ops::ln(&t64(&[1], &[e])).item() - 1.0).abs() < 1e-15);
    assert!((ops::sin(&t64(&[1], &[0.5])).item() - 0.5f64.sin()).abs() < 1e-15);
    assert!((ops::cos(&t64(&[1], &[0.5])).item() - 0.5f64.cos()).abs() < 1e-15);
    assert!((ops::tanh(&t64(&[1], &[0.5])).item() - 0.5f64.tanh()).abs() < 1e-15);
    // sigmoid is stable for large |x|
    let s = ops::sigmoid(&t64(&[3], &[-1000.0, 0.0, 1000.0])).to_vec();
    assert_eq!(s, vec![0.0, 0.5, 1.0]);
    assert!(ops::relu(&t64(&[1], &[f64::NAN])).item().is_nan());
    // shape is preserved, including 0-dim
    assert_eq!(ops::exp(&Tensor::scalar(0.0f32)).shape(), &[] as &[usize]);
}

#[test]
fn binary_hand_computed_broadcasts() {
    let a = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let col = t64(&[2, 1], &[10., 20.]);
    let row = t64(&[3], &[100., 200., 300.]);
    assert_eq!(
        ops::add(&a, &col, 0).to_vec(),
        vec![11., 12., 13., 24., 25., 26.]
    );
    assert_eq!(
        ops::sub(&a, &row, 0).to_vec(),
        vec![-99., -198., -297., -96., -195., -294.]
    );
    let outer = ops::mul(&t64(&[3, 1], &[1., 2., 3.]), &t64(&[2], &[1., 10.]), 0);
    assert_eq!(outer.shape(), &[3, 2]);
    assert_eq!(outer.to_vec(), vec![1., 10., 2., 20., 3., 30.]);
    assert_eq!(
        ops::div(&a, &Tensor::scalar(2.0), 0).to_vec(),
        vec![0.5, 1., 1.5, 2., 2.5, 3.]
    );
    assert_eq!(
        ops::div(&Tensor::scalar(6.0), &a, 0).to_vec(),
        vec![6., 3., 2., 1.5, 1.2, 1.]
    );
    assert_eq!(ops::add(&a, &a, 0).to_vec(), vec![2., 4., 6., 8., 10., 12.]);
}

#[test]
fn binary_batch_dims_are_left_aligned() {
    // nb = 1: a has batch [2] and pe [3]; b has batch [2] and pe [] (0-dim).
    // Right-aligned numpy would fail ([2,3] vs [2]); batch-aware gives a[i] + b[i].
    let a = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let b = t64(&[2], &[10., 20.]);
    let y = ops::add(&a, &b, 1);
    assert_eq!(y.shape(), &[2, 3]);
    assert_eq!(y.to_vec(), vec![11., 12., 13., 24., 25., 26.]);
    // batch size 1 broadcasts against 2; pe [3] against [2, 1]
    let c = t64(&[1, 3], &[1., 2., 3.]);
    let d = t64(&[2, 2, 1], &[0., 10., 100., 1000.]);
    let z = ops::mul(&c, &d, 1);
    assert_eq!(z.shape(), &[2, 2, 3]);
    assert_eq!(
        z.to_vec(),
        vec![
            0., 0., 0., 10., 20., 30., 100., 200., 300., 1000., 2000., 3000.
        ]
    );
}

#[test]
fn binary_nb1_equals_loop_over_batch() {
    let cases: [(&[usize], &[usize]); 6] = [
        (&[3, 2, 4], &[3, 2, 4]),
        (&[3, 2, 4], &[3, 4]),
        (&[3, 2, 1], &[1, 5]),
        (&[1, 2, 3], &[4, 3]),
        (&[4], &[4, 2, 2]),
        (&[2, 5, 1, 3], &[1, 4, 1]),
    ];
    for (i, (sa, sb)) in cases.iter().enumerate() {
        let a = rand(sa, i as u64);
        let b = rand(sb, 100 + i as u64);
        check_batched(&[a.clone(), b.clone()], |x, nb| ops::add(&x[0], &x[1], nb));
        check_batched(&[a.clone(), b.clone()], |x, nb| ops::sub(&x[0], &x[1], nb));
        check_batched(&[a.clone(), b.clone()], |x, nb| ops::mul(&x[0], &x[1], nb));
        check_batched(&[a.clone(), b.clone()], |x, nb| ops::div(&x[0], &x[1], nb));
    }
}

#[test]
fn binary_nb2_matches_explicit_expansion() {
    // batch dims [2, 1] vs [1, 3] broadcast to [2, 3]
    let a = rand(&[2, 1, 4], 1);
    let b = rand(&[1, 3, 4], 2);
    let y = ops::add(&a, &b, 2);
    assert_eq!(y.shape(), &[2, 3, 4]);
    let want = ops::add(&a, &b, 0); // pe parts line up here, so numpy gives the same
    assert_tensor_close(&y, &want);
}

#[test]
#[should_panic(expected = "transforms: mul: batch dims do not broadcast, shapes [2, 3] and [4, 3]")]
fn binary_batch_mismatch_panics() {
    ops::mul(
        &Tensor::<f32>::zeros(&[2, 3]),
        &Tensor::<f32>::zeros(&[4, 3]),
        1,
    );
}

#[test]
#[should_panic(expected = "transforms: sub: shapes do not broadcast, shapes [2, 3] and [2, 2]")]
fn binary_pe_mismatch_panics() {
    ops::sub(
        &Tensor::<f32>::zeros(&[2, 3]),
        &Tensor::<f32>::zeros(&[2, 2]),
        1,
    );
}

#[test]
#[should_panic(
    expected = "transforms: div: a tensor has 1 dims, fewer than the 2 batch dims, shapes [2, 3] and [2]"
)]
fn binary_too_few_dims_panics() {
    ops::div(
        &Tensor::<f32>::zeros(&[2, 3]),
        &Tensor::<f32>::zeros(&[2]),
        2,
    );
}

#[test]
fn broadcast_fast_paths_match_explicit_broadcasting() {
    // (a, b, nb): repeated rows, repeated elements, either side, with batch dims.
    let cases: [(&[usize], &[usize], usize); 6] = [
        (&[4, 3], &[3], 0),
        (&[3], &[4, 3], 0),
        (&[4, 3], &[4, 1], 0),
        (&[4, 1], &[4, 3], 0),
        (&[2, 4, 3], &[1, 4, 3], 1),
        (&[2, 1], &[2, 4, 3], 1),
    ];
    for (k, (sa, sb, nb)) in cases.into_iter().enumerate() {
        let a = Tensor::<f64>::randn(sa, k as u64);
        let b = Tensor::<f64>::randn(sb, 10 + k as u64);
        let out = ops::add(&a, &b, nb);
        let (fa, fb) = (
            ops::broadcast_like(&a, &out, nb),
            ops::broadcast_like(&b, &out, nb),
        );
        for (name, got, want) in [
            ("sub", ops::sub(&a, &b, nb), ops::sub(&fa, &fb, nb)),
            ("div", ops::div(&a, &b, nb), ops::div(&fa, &fb, nb)),
            ("mul", ops::mul(&a, &b, nb), ops::mul(&fa, &fb, nb)),
        ] {
            assert_eq!(got.shape(), want.shape(), "{name} case {k}");
            assert_eq!(got.to_vec(), want.to_vec(), "{name} case {k}");
        }
    }
}

#[test]
fn products_with_broadcast_ones_are_the_other_operand() {
    let x = t64(
        &[2, 3],
        &[-0.0, f64::INFINITY, f64::NAN, 2.5, -1.0, f64::NEG_INFINITY],
    );
    let ones = Tensor::<f64>::ones(&[3]);
    let bits = |t: &Tensor<f64>| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let shares = |t: &Tensor<f64>| t.as_slice().as_ptr() == x.as_slice().as_ptr();
    for (got, shared) in [
        (ops::mul(&x, &ones, 0), true),
        (ops::mul(&ones, &x, 0), true),
        (ops::div(&x, &ones, 0), true),
        // Batched: ones of one example against a batch of two.
        (ops::mul(&x, &Tensor::ones(&[1, 3]), 1), true),
        // Ones that would enlarge the result, and a scale that is not one.
        (ops::mul(&x, &Tensor::ones(&[2, 2, 3]), 0), false),
        (ops::mul(&x, &t64(&[3], &[1.0, 1.0, 1.0 + 1e-15]), 0), false),
    ] {
        assert_eq!(shares(&got), shared, "{:?}", got.shape());
        if got.shape() == x.shape() && shared {
            assert_eq!(bits(&got), bits(&x));
        }
    }
    // The divisor's ones do not make `1 / x` into `x`.
    let inv = ops::div(&ones, &x, 0);
    assert_eq!(inv.to_vec()[3], 1.0 / 2.5);
    // The slow path gives the same values where the shortcut applies.
    let dense = ops::mul(&x, &Tensor::ones(&[2, 3]), 0);
    assert_eq!(bits(&dense), bits(&ops::mul(&x, &ones, 0)));
}
