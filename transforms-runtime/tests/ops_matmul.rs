//! `matmul`, `matmul_ta`, `matmul_tb`: values, batching and the
//! inner-product identities `<c, a@b> == <ta(c, b), a> == <tb(a, c), b>`.

mod common;

use common::{assert_close, assert_tensor_close, check_batched, dot, rand, t64};
use transforms_runtime::{Tensor, ops};

#[test]
fn matmul_hand_computed_rank_cases() {
    let m = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let v3 = t64(&[3], &[1., 0., -1.]);
    let v2 = t64(&[2], &[1., 1.]);
    let dotv = ops::matmul(&v3, &v3, 0);
    assert_eq!(dotv.shape(), &[] as &[usize]);
    assert_eq!(dotv.item(), 2.0);
    let mv = ops::matmul(&m, &v3, 0);
    assert_eq!((mv.shape(), mv.to_vec()), (&[2usize][..], vec![-2., -2.]));
    let vm = ops::matmul(&v2, &m, 0);
    assert_eq!((vm.shape(), vm.to_vec()), (&[3usize][..], vec![5., 7., 9.]));
    let mm = ops::matmul(&m, &m.t(), 0);
    assert_eq!(
        (mm.shape(), mm.to_vec()),
        (&[2usize, 2][..], vec![14., 32., 32., 77.])
    );
    // batched 3-D @ 1-D and 1-D @ 3-D
    let b = t64(&[2, 2, 2], &[1., 2., 3., 4., 5., 6., 7., 8.]);
    assert_eq!(ops::matmul(&b, &v2, 0).to_vec(), vec![3., 7., 11., 15.]);
    let vb = ops::matmul(&v2, &b, 0);
    assert_eq!(
        (vb.shape(), vb.to_vec()),
        (&[2usize, 2][..], vec![4., 6., 12., 14.])
    );
}

#[test]
fn matmul_broadcast_matches_loop() {
    // [2,1,3,4] @ [5,4,2] -> [2,5,3,2]
    let a = rand(&[2, 1, 3, 4], 1);
    let b = rand(&[5, 4, 2], 2);
    let y = ops::matmul(&a, &b, 0);
    assert_eq!(y.shape(), &[2, 5, 3, 2]);
    for i in 0..2 {
        for j in 0..5 {
            let want = ops::matmul(&a.select(0, i).select(0, 0), &b.select(0, j), 0);
            assert_tensor_close(&y.select(0, i).select(0, j), &want);
        }
    }
    // a big enough product to go through the packed GEMM path
    let p = rand(&[33, 17], 3);
    let q = rand(&[17, 29], 4);
    let pq = ops::matmul(&p, &q, 0);
    let (pv, qv) = (p.to_vec(), q.to_vec());
    let want: f64 = (0..17).map(|k| pv[5 * 17 + k] * qv[k * 29 + 7]).sum();
    assert_close(pq.to_vec()[5 * 29 + 7], want);
}

/// (a pe shape, b pe shape) pairs covering every rank case.
const CASES: [(&[usize], &[usize]); 9] = [
    (&[4], &[4]),
    (&[3, 4], &[4]),
    (&[4], &[4, 2]),
    (&[3, 4], &[4, 2]),
    (&[2, 1, 3, 4], &[5, 4, 2]),
    (&[2, 3, 4], &[4]),
    (&[4], &[2, 4, 3]),
    (&[3, 4], &[2, 4, 5]),
    (&[2, 1, 3, 4], &[1, 4, 2]),
];

fn check_identities(a: &Tensor<f64>, b: &Tensor<f64>, nb: usize, seed: u64) {
    let y = ops::matmul(a, b, nb);
    let c = rand(y.shape(), seed);
    let ga = ops::matmul_ta(&c, b, a, nb, 0);
    let gb = ops::matmul_tb(a, &c, b, nb, 0);
    assert_eq!(
        ga.shape(),
        a.shape(),
        "matmul_ta shape for {:?} @ {:?}",
        a.shape(),
        b.shape()
    );
    assert_eq!(
        gb.shape(),
        b.shape(),
        "matmul_tb shape for {:?} @ {:?}",
        a.shape(),
        b.shape()
    );
    let lhs = dot(&c, &y);
    assert_close(lhs, dot(&ga, a));
    assert_close(lhs, dot(&gb, b));
}

#[test]
fn inner_product_identities_nb0() {
    for (i, (pa, pb)) in CASES.iter().enumerate() {
        let a = rand(pa, 10 + i as u64);
        let b = rand(pb, 20 + i as u64);
        check_identities(&a, &b, 0, 30 + i as u64);
    }
}

#[test]
fn inner_product_identities_nb1() {
    for (i, (pa, pb)) in CASES.iter().enumerate() {
        let a = rand(&[[3].as_slice(), pa].concat(), 40 + i as u64);
        let b = rand(&[[3].as_slice(), pb].concat(), 50 + i as u64);
        check_identities(&a, &b, 1, 60 + i as u64);
    }
}

#[test]
fn matmul_family_nb1_equals_loop() {
    for (i, (pa, pb)) in CASES.iter().enumerate() {
        let a = rand(&[[3].as_slice(), pa].concat(), 70 + i as u64);
        let b = rand(&[[3].as_slice(), pb].concat(), 80 + i as u64);
        let b1 = rand(&[[1].as_slice(), pb].concat(), 81 + i as u64); // broadcast batch
        check_batched(&[a.clone(), b.clone()], |x, nb| {
            ops::matmul(&x[0], &x[1], nb)
        });
        check_batched(&[a.clone(), b1.clone()], |x, nb| {
            ops::matmul(&x[0], &x[1], nb)
        });
        let c = rand(ops::matmul(&a, &b, 1).shape(), 90 + i as u64);
        check_batched(&[c.clone(), b.clone(), a.clone()], |x, nb| {
            ops::matmul_ta(&x[0], &x[1], &x[2], nb, 0)
        });
        check_batched(&[a.clone(), c.clone(), b.clone()], |x, nb| {
            ops::matmul_tb(&x[0], &x[1], &x[2], nb, 0)
        });
    }
}

#[test]
fn transposes_hand_computed() {
    // <c, a.b> for vectors: grad_a = c * b, grad_b = c * a
    let a = t64(&[2], &[1., 2.]);
    let b = t64(&[2], &[3., 4.]);
    let c = Tensor::scalar(2.0);
    assert_eq!(ops::matmul_ta(&c, &b, &a, 0, 0).to_vec(), vec![6., 8.]);
    assert_eq!(ops::matmul_tb(&a, &c, &b, 0, 0).to_vec(), vec![2., 4.]);
    // matrix case: grad_a = c @ b^T
    let m = t64(&[1, 2], &[1., 2.]);
    let n = t64(&[2, 2], &[1., 2., 3., 4.]);
    let cm = t64(&[1, 2], &[1., 1.]);
    assert_eq!(ops::matmul_ta(&cm, &n, &m, 0, 0).to_vec(), vec![3., 7.]);
    assert_eq!(
        ops::matmul_tb(&m, &cm, &n, 0, 0).to_vec(),
        vec![1., 1., 2., 2.]
    );
    // broadcast a: [1, 2] against a batch of 3 b's: grad_a sums over the batch
    let bb = Tensor::stack(&[n.clone(), n.clone(), n.clone()], 0);
    let c3 = Tensor::stack(&[cm.clone(), cm.clone(), cm.clone()], 0);
    assert_eq!(ops::matmul_ta(&c3, &bb, &m, 0, 0).to_vec(), vec![9., 21.]);
}

#[test]
#[should_panic(
    expected = "transforms: matmul: the inner dimensions do not match (4 vs 3), shapes [2, 4] and [3, 2]"
)]
fn matmul_inner_mismatch_panics() {
    ops::matmul(
        &Tensor::<f32>::zeros(&[2, 4]),
        &Tensor::<f32>::zeros(&[3, 2]),
        0,
    );
}

#[test]
#[should_panic(expected = "transforms: matmul: both operands need at least one per-example dim")]
fn matmul_zero_dim_panics() {
    ops::matmul(
        &Tensor::<f32>::zeros(&[2]),
        &Tensor::<f32>::zeros(&[2, 2]),
        1,
    );
}

#[test]
#[should_panic(expected = "transforms: matmul: batch dims do not broadcast")]
fn matmul_batch_mismatch_panics() {
    ops::matmul(
        &Tensor::<f32>::zeros(&[2, 3, 3]),
        &Tensor::<f32>::zeros(&[4, 3, 3]),
        1,
    );
}

#[test]
#[should_panic(
    expected = "transforms: matmul_ta: the cotangent's per-example shape must be [2, 5]"
)]
fn matmul_ta_bad_cotangent_panics() {
    let a = Tensor::<f32>::zeros(&[2, 3]);
    let b = Tensor::<f32>::zeros(&[3, 5]);
    ops::matmul_ta(&Tensor::zeros(&[5, 2]), &b, &a, 0, 0);
}

#[test]
#[should_panic(expected = "transforms: matmul_tb")]
fn matmul_tb_bad_shapes_panics() {
    let a = Tensor::<f32>::zeros(&[2, 3]);
    let b = Tensor::<f32>::zeros(&[4, 5]);
    ops::matmul_tb(&a, &Tensor::zeros(&[2, 5]), &b, 0, 0);
}

#[test]
fn matmul_t_equals_matmul_of_the_transpose() {
    // (a, w, nb)
    let cases: [(&[usize], &[usize], usize); 5] = [
        (&[3], &[4, 3], 0),
        (&[2, 3], &[4, 3], 0),
        (&[5, 2, 3], &[4, 3], 0),
        (&[2, 3], &[2, 4, 3], 1),
        (&[3], &[3], 0),
    ];
    for (k, (sa, sw, nb)) in cases.into_iter().enumerate() {
        let a = Tensor::<f64>::randn(sa, k as u64);
        let w = Tensor::<f64>::randn(sw, 20 + k as u64);
        let got = ops::matmul_t(&a, &w, nb);
        let want = ops::matmul(&a, &ops::t(&w, nb), nb);
        assert_eq!(got.shape(), want.shape(), "case {k}");
        assert!(got.max_abs_diff(&want) < 1e-12, "case {k}");
    }
}

#[test]
fn unbatched_products_match_the_batched_path() {
    // nb = 0 with vectors and matrices takes a direct path; the same
    // product with a batch dim of 1 goes through the general one.
    let cases: [(&[usize], &[usize]); 7] = [
        (&[3], &[3]),
        (&[3], &[3, 4]),
        (&[2, 3], &[3]),
        (&[2, 3], &[3, 4]),
        (&[1, 3], &[3, 1]),
        (&[2, 0], &[0, 4]),
        (&[0], &[0]),
    ];
    for (k, (sa, sb)) in cases.into_iter().enumerate() {
        let a = Tensor::<f64>::randn(sa, 40 + k as u64);
        let b = Tensor::<f64>::randn(sb, 60 + k as u64);
        let lift = |t: &Tensor<f64>| ops::unsqueeze(t, 0, 0);
        let want = ops::squeeze(&ops::matmul(&lift(&a), &lift(&b), 1), 0, 0);
        let got = ops::matmul(&a, &b, 0);
        assert_eq!(got.shape(), want.shape(), "case {k}");
        assert!(got.max_abs_diff(&want) < 1e-12, "case {k}");
        if sb.len() == 2 {
            let bt = ops::t(&b, 0);
            let got_t = ops::matmul_t(&a, &bt, 0);
            assert_eq!(got_t.shape(), want.shape(), "case {k}, transposed");
            assert!(got_t.max_abs_diff(&want) < 1e-12, "case {k}, transposed");
        }
    }
}

#[test]
#[should_panic(expected = "transforms: matmul: both operands need at least one per-example dim")]
fn matmul_zero_dim_unbatched_panics() {
    ops::matmul(
        &Tensor::<f32>::scalar(1.0),
        &Tensor::<f32>::zeros(&[2, 2]),
        0,
    );
}
