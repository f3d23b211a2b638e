//! The structured-seed products against their dense definitions, and the
//! adjointness of `diag` / `diag_t`.

use transforms_runtime::{Tensor, ops};

type T = Tensor<f64>;

fn dot(a: &T, b: &T) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.to_vec().iter().zip(b.to_vec()).map(|(x, y)| x * y).sum()
}

fn close(a: &T, b: &T) {
    assert_eq!(a.shape(), b.shape());
    assert!(a.max_abs_diff(b) < 1e-12, "{a}\n{b}");
}

#[test]
fn diag_is_a_scaled_identity() {
    let u = T::from_shape_vec(&[3], vec![1., 2., 3.]).unwrap();
    let d = ops::diag(&u, &u, None, 0, 0);
    assert_eq!(d.to_vec(), vec![1., 0., 0., 0., 2., 0., 0., 0., 3.]);
    // Summed down to a [1]-shaped target: each basis row keeps its scale.
    let d = ops::diag(&u, &u, Some(&T::zeros(&[1])), 0, 0);
    assert_eq!(
        (d.shape(), d.to_vec()),
        (&[3usize, 1][..], vec![1., 2., 3.])
    );
}

#[test]
fn diag_and_diag_t_are_adjoint() {
    // (u shape, like shape, target shape, nb)
    type Case<'a> = (&'a [usize], &'a [usize], Option<&'a [usize]>, usize);
    let cases: [Case; 5] = [
        (&[4], &[4], None, 0),
        (&[1], &[2, 3], None, 0),
        (&[2, 3], &[3], None, 0),
        (&[2, 3], &[3], Some(&[3]), 0),
        (&[2, 1, 3], &[1, 3], Some(&[1, 3]), 1),
    ];
    for (k, (us, ls, ts, nb)) in cases.into_iter().enumerate() {
        let (u, like) = (T::randn(us, k as u64), T::randn(ls, 50 + k as u64));
        let t = ts.map(T::zeros);
        let d = ops::diag(&u, &like, t.as_ref(), nb, 1);
        let ct = T::randn(d.shape(), 100 + k as u64);
        let g = ops::diag_t(&ct, &like, t.as_ref(), &u, nb, 0);
        assert_eq!(g.shape(), u.shape());
        assert!((dot(&d, &ct) - dot(&g, &u)).abs() < 1e-10, "case {k}");
    }
}

#[test]
fn diag_matmul_matches_the_dense_product() {
    // (u, like = a, b, nb)
    type Case<'a> = (&'a [usize], &'a [usize], &'a [usize], usize);
    let cases: [Case; 6] = [
        (&[4], &[4], &[4, 3], 0),
        (&[1], &[4], &[4], 0),
        (&[2, 4], &[2, 4], &[4, 3], 0),
        (&[2, 3, 4], &[2, 3, 4], &[4, 5], 0),
        (&[2, 4], &[1, 4], &[2, 4, 3], 1),
        (&[5, 2, 4], &[1, 4], &[1, 4, 3], 1), // u broadcast larger than like: dense path
    ];
    for (k, (us, ls, bs, nb)) in cases.into_iter().enumerate() {
        let (u, like, b) = (
            T::randn(us, k as u64),
            T::randn(ls, 10 + k as u64),
            T::randn(bs, 20 + k as u64),
        );
        let fast = ops::diag_matmul(&u, &like, None, &b, nb, false);
        // The same with b given as the transpose of its transpose (2-D only).
        let transposed = if bs.len() - nb <= 2 {
            ops::diag_matmul(&u, &like, None, &ops::t(&b, nb), nb, true)
        } else {
            fast.clone()
        };
        let dense = ops::matmul(
            &ops::diag(&u, &like, None, nb, 0),
            &ops::unsqueeze(&b, 0, nb),
            nb + 1,
        );
        close(&fast, &dense);
        close(&transposed, &dense);
    }
    // An identity seed (ones, or a single one) times a matrix is the matrix
    // itself, shared; any other scale is not.
    let (like, b) = (T::randn(&[4], 50), T::randn(&[4, 3], 51));
    let mut almost = vec![1.0; 4];
    almost[2] = 1.0 + 1e-12;
    let almost = T::from_shape_vec(&[4], almost).unwrap();
    for (u, shared) in [
        (T::ones(&[4]), true),
        (T::ones(&[1]), true),
        (almost, false),
    ] {
        let got = ops::diag_matmul(&u, &like, None, &b, 0, false);
        let dense = ops::matmul(
            &ops::diag(&u, &like, None, 0, 0),
            &ops::unsqueeze(&b, 0, 0),
            1,
        );
        close(&got, &dense);
        assert_eq!(got.as_slice().as_ptr() == b.as_slice().as_ptr(), shared);
    }
}

#[test]
fn diag_matmul_ta_matches_the_dense_transpose() {
    // (u, like = out, b, a_like, target, nb)
    type Case<'a> = (
        &'a [usize],
        &'a [usize],
        &'a [usize],
        &'a [usize],
        Option<&'a [usize]>,
        usize,
    );
    let cases: [Case; 10] = [
        (&[3], &[3], &[4, 3], &[4], None, 0),
        // A dense layer's shapes with one scale for all, a 0-dim scale, and
        // rows of 32 (read transposed below: the direct path).
        (&[1], &[3], &[4, 3], &[4], None, 0),
        (&[], &[3], &[4, 3], &[4], Some(&[3]), 0),
        (&[5], &[5], &[32, 5], &[32], None, 0),
        (&[3], &[3], &[4, 3], &[4], Some(&[3]), 0),
        (&[1], &[2, 3], &[4, 3], &[2, 4], None, 0),
        (&[2, 2, 3], &[2, 2, 3], &[4, 3], &[2, 2, 4], None, 0),
        (&[2, 3], &[2, 3], &[2, 4, 3], &[4], None, 0),
        (&[2, 3], &[1, 3], &[1, 4, 3], &[1, 4], None, 1),
        (&[2, 3], &[3], &[4, 3], &[4], Some(&[3]), 0), // u larger than the basis: dense path
    ];
    for (k, (us, ls, bs, as_, ts, nb)) in cases.into_iter().enumerate() {
        let (u, like, b) = (
            T::randn(us, k as u64),
            T::randn(ls, 30 + k as u64),
            T::randn(bs, 40 + k as u64),
        );
        let (a, t) = (T::zeros(as_), ts.map(T::zeros));
        for keep in [0, 1] {
            let fast = ops::diag_matmul_ta(&u, &like, t.as_ref(), &b, &a, nb, keep, false);
            // The same with b given as the transpose of its transpose (2-D only).
            let transposed = if bs.len() - nb <= 2 {
                ops::diag_matmul_ta(&u, &like, t.as_ref(), &ops::t(&b, nb), &a, nb, keep, true)
            } else {
                fast.clone()
            };
            let c = ops::diag(&u, &like, t.as_ref(), nb, 1);
            let lift = |x: &T| ops::unsqueeze(x, 0, nb);
            let dense = ops::matmul_ta(&c, &lift(&b), &lift(&a), nb + 1, keep | (1 << nb));
            close(&fast, &dense);
            close(&transposed, &dense);
        }
    }
}

/// The definition `diag_matmul_ta_swapped` folds into one pass.
#[allow(clippy::too_many_arguments)]
fn swapped_by_definition(
    u: &T,
    like: &T,
    t: Option<&T>,
    b: &T,
    a: &T,
    nb: usize,
    keep: u32,
    b_t: bool,
    ref_o: &T,
    ref_k: &T,
) -> T {
    let p = ops::diag_matmul_ta(u, like, t, b, a, nb, keep, b_t);
    let p = ops::expand_dim0_like(&p, ref_o, nb);
    let p = ops::expand_dim0_like(&p, ref_k, nb - 1);
    ops::movedim(&p, 0, 1, nb - 1)
}

#[test]
fn diag_matmul_ta_swapped_matches_its_definition() {
    // (u, like = out, b, a_like, nb, ref_o, ref_k): Hessian layouts (the
    // outer basis as the last batch dim, its size in ref_k's pe dim 0).
    type Case<'a> = (
        &'a [usize],
        &'a [usize],
        &'a [usize],
        &'a [usize],
        usize,
        &'a [usize],
        &'a [usize],
    );
    let cases: [Case; 5] = [
        // W4-like: one matrix, `a` a vector (the one-row slabs).
        (&[5, 3], &[1, 3], &[1, 5, 3], &[1, 5], 1, &[1, 3], &[5]),
        // W6-like: a user batch before the outer basis.
        (
            &[2, 5, 3],
            &[2, 1, 3],
            &[1, 1, 5, 3],
            &[2, 1, 5],
            2,
            &[1, 1, 3],
            &[1, 5],
        ),
        // `a` a matrix: zero rows around each scaled column.
        (
            &[4, 2, 2],
            &[1, 2, 2],
            &[1, 3, 2],
            &[1, 2, 3],
            1,
            &[1, 4],
            &[4],
        ),
        // The outer basis dim of size 1, expanded like ref_k.
        (&[1, 3], &[1, 3], &[1, 5, 3], &[1, 5], 1, &[1, 3], &[4]),
        // Batched b.
        (&[5, 3], &[1, 3], &[5, 4, 3], &[1, 4], 1, &[1, 3], &[5]),
    ];
    for (k, (us, ls, bs, as_, nb, os, ks)) in cases.into_iter().enumerate() {
        let (u, like, b, a) = (
            T::randn(us, k as u64),
            T::randn(ls, 30 + k as u64),
            T::randn(bs, 40 + k as u64),
            T::zeros(as_),
        );
        let (ref_o, ref_k) = (T::zeros(os), T::zeros(ks));
        for b_t in [false, true] {
            let b = if b_t { ops::t(&b, nb) } else { b.clone() };
            let keep = 1;
            let want =
                swapped_by_definition(&u, &like, None, &b, &a, nb, keep, b_t, &ref_o, &ref_k);
            let got =
                ops::diag_matmul_ta_swapped(&u, &like, None, &b, &a, nb, keep, b_t, &ref_o, &ref_k);
            assert_eq!(got.shape(), want.shape(), "case {k}, b_t {b_t}");
            assert_eq!(got.to_vec(), want.to_vec(), "case {k}, b_t {b_t}");
        }
    }
}

#[test]
#[should_panic(expected = "expand_dim0_like")]
fn diag_matmul_ta_swapped_reports_a_basis_size_mismatch() {
    // ref_o says 4 output elements where the product has 3: the same
    // error as the unfused ops.
    let (u, like, b, a) = (
        T::randn(&[5, 3], 1),
        T::randn(&[1, 3], 2),
        T::randn(&[1, 5, 3], 3),
        T::zeros(&[1, 5]),
    );
    ops::diag_matmul_ta_swapped(
        &u,
        &like,
        None,
        &b,
        &a,
        1,
        1,
        false,
        &T::zeros(&[1, 4]),
        &T::zeros(&[5]),
    );
}

/// The separate ops `diag_matmul_map_last` stands for, with the chain
/// `f(p, others) = p * o0 + o1` (or fewer operands).
fn map_last_by_definition(dm: &ops::DiagMm<'_, f64>, slot: usize, others: &[&T], r: &T) -> T {
    let p = if dm.right {
        ops::diag_matmul_right(dm.u, dm.like, dm.t, dm.b, dm.nb)
    } else {
        ops::diag_matmul(dm.u, dm.like, dm.t, dm.b, dm.nb, dm.b_t)
    };
    let p = match dm.bl {
        Some(bl) => ops::broadcast_like(&p, bl, dm.nb + 1),
        None => p,
    };
    let y = chain_by_definition(&p, slot, others, dm.nb + 1);
    let y = ops::expand_dim0_like(&y, r, dm.nb);
    ops::movedim(&y, 0, -1, dm.nb)
}

#[test]
fn diag_matmul_map_last_matches_the_separate_ops() {
    // k = 32: rows of a fixed length; a seed's ones give one scale for all.
    for (k, n) in [(5, 7), (32, 9)] {
        map_last_cases(k, n);
    }
}

fn map_last_cases(k: usize, n: usize) {
    let x = T::randn(&[k], 1);
    let w = T::randn(&[n, k], 2); // read transposed: a layer's weight
    let wt = ops::t(&w, 0); // the same matrix as [k, n]
    let shared = T::randn(&[1, n], 3);
    let shared2 = T::randn(&[1, n], 4);
    let full = T::randn(&[k, n], 5); // not shared along the basis: the separate ops
    let r = T::zeros(&[k]);
    let u_k = T::randn(&[k], 6);
    let u_1 = T::randn(&[1], 7);
    let ones = T::ones(&[k]);
    let bl = T::zeros(&[1, n]);
    // The seed on the right of `w` (`w @ seed`) is `w` read transposed.
    for (case, (u, b, b_t, bl, right)) in [
        (&u_k, &w, true, Some(&bl), false),
        (&u_1, &w, true, None, false),
        (&u_k, &wt, false, None, false),
        (&u_1, &wt, false, Some(&bl), false),
        (&ones, &w, true, None, false),
        (&ones, &wt, false, Some(&bl), false),
        (&u_k, &w, false, Some(&bl), true),
        (&u_1, &w, false, None, true),
        (&ones, &w, false, None, true),
    ]
    .into_iter()
    .enumerate()
    {
        let dm = || ops::DiagMm {
            u,
            like: &x,
            t: None,
            b,
            nb: 0,
            b_t,
            bl,
            right,
        };
        let check = |got: T, slot: usize, others: &[&T]| {
            let want = map_last_by_definition(&dm(), slot, others, &r);
            assert_eq!(got.shape(), want.shape(), "case {case}, slot {slot}");
            assert_eq!(got.to_vec(), want.to_vec(), "case {case}, slot {slot}");
        };
        check(
            ops::diag_matmul_map_last(dm(), 0, [], &r, None, |p, []| p * 3.0),
            0,
            &[],
        );
        check(
            ops::diag_matmul_map_last(dm(), 0, [&shared], &r, None, |p, [o]| p * o),
            0,
            &[&shared],
        );
        check(
            ops::diag_matmul_map_last(dm(), 1, [&shared], &r, None, |p, [o]| p * o),
            1,
            &[&shared],
        );
        for slot in 0..3 {
            let f = |p: f64, [o0, o1]: [f64; 2]| p * o0 + o1;
            let got = ops::diag_matmul_map_last(dm(), slot, [&shared, &shared2], &r, None, f);
            check(got, slot, &[&shared, &shared2]);
        }
        // An operand that differs along the basis dim: the separate ops.
        check(
            ops::diag_matmul_map_last(dm(), 0, [&full], &r, None, |p, [o]| p * o),
            0,
            &[&full],
        );
    }
}

/// The separate ops `diag_matmul_ta_map` stands for, with the chain
/// `f(p, others) = p * o0 + o1` (or fewer operands).
fn ta_map_by_definition(ta: &ops::DiagTa<'_, f64>, slot: usize, others: &[&T]) -> T {
    let p = ops::diag_matmul_ta(ta.u, ta.like, ta.t, ta.b, ta.a_like, ta.nb, ta.keep, ta.b_t);
    chain_by_definition(&p, slot, others, ta.nb + 1)
}

/// The separate fused op of the chain `f(p, others) = p * o0 + o1` (or
/// fewer operands: `p * o0`, `p * 3`), `p` at operand position `slot`.
fn chain_by_definition(p: &T, slot: usize, others: &[&T], nb: usize) -> T {
    let mut ts: Vec<&T> = others.to_vec();
    ts.insert(slot, p);
    match ts.as_slice() {
        [a] => ops::fused1(a, |x| x * 3.0),
        [a, b] if slot == 0 => ops::fused2(a, b, nb, |p, o| p * o),
        [a, b] => ops::fused2(a, b, nb, |o, p| p * o),
        [a, b, c] => ops::fused3(a, b, c, nb, |x, y, z| {
            let v = [x, y, z];
            let o: Vec<f64> = (0..3).filter(|&i| i != slot).map(|i| v[i]).collect();
            v[slot] * o[0] + o[1]
        }),
        _ => unreachable!(),
    }
}

#[test]
fn diag_matmul_ta_map_matches_the_separate_ops() {
    // vmap(jacrev) of a layer followed by an activation's derivative: a
    // batch of 3, a basis over 4 outputs, a input of 5.
    let (bs, nl, k) = (3, 4, 5);
    let like = T::randn(&[bs, nl], 1);
    let a_like = T::randn(&[bs, k], 2);
    let u = T::randn(&[bs, nl], 3);
    let ones = T::ones(&[bs, nl]);
    let w = T::randn(&[1, nl, k], 4); // a shared layer weight, read transposed
    let per_batch = T::randn(&[bs, nl, k], 5);
    let wt = ops::t(&w, 1); // the same matrix as [k, nl]
    let row = T::randn(&[bs, 1, k], 6); // one row per batch block
    let row2 = T::randn(&[bs, 1, k], 7);
    let full = T::randn(&[bs, nl, k], 8); // a value per element
    let shared = T::randn(&[1, 1, k], 9); // broadcast over the batch: the separate ops
    for (case, (u, t, b, b_t)) in [
        (&u, None, &w, true),
        (&ones, Some(&like), &w, true),
        (&u, None, &per_batch, true),
        (&u, Some(&like), &wt, false),
    ]
    .into_iter()
    .enumerate()
    {
        let ta = || ops::DiagTa {
            u,
            like: &like,
            t,
            b,
            a_like: &a_like,
            nb: 1,
            keep: 0,
            b_t,
        };
        let check = |got: T, slot: usize, others: &[&T]| {
            let want = ta_map_by_definition(&ta(), slot, others);
            assert_eq!(got.shape(), &[bs, nl, k], "case {case}, slot {slot}");
            assert_eq!(got.shape(), want.shape(), "case {case}, slot {slot}");
            assert_eq!(got.to_vec(), want.to_vec(), "case {case}, slot {slot}");
        };
        check(
            ops::diag_matmul_ta_map(ta(), 0, [], None, |p, []| p * 3.0),
            0,
            &[],
        );
        for other in [&row, &full, &shared] {
            for slot in 0..2 {
                let got = ops::diag_matmul_ta_map(ta(), slot, [other], None, |p, [o]| p * o);
                check(got, slot, &[other]);
            }
        }
        for slot in 0..3 {
            let f = |p: f64, [o0, o1]: [f64; 2]| p * o0 + o1;
            check(
                ops::diag_matmul_ta_map(ta(), slot, [&row, &full], None, f),
                slot,
                &[&row, &full],
            );
            check(
                ops::diag_matmul_ta_map(ta(), slot, [&full, &row2], None, f),
                slot,
                &[&full, &row2],
            );
        }
    }
}
