//! `ops::dense_hess` (a dense layer's Hessian in one call) against the
//! separate ops `hessian` emits for it, bit for bit, and its refusals.

use transforms_runtime::{Tensor, ops};

type T = Tensor<f64>;

/// One layer's tensors: `lead` batch dims (0 or 1) of `count`, `n`
/// outputs, `k` inputs.
struct Layer {
    lead: usize,
    x: T,
    w: T,
    seed: T,
    like: T,
    t: T,
    a_like: T,
    ref_o: T,
    ref_k: T,
}

impl Layer {
    fn new(lead: usize, count: usize, n: usize, k: usize) -> Layer {
        let b: Vec<usize> = vec![count; lead];
        let with = |rest: &[usize]| [&b[..], rest].concat();
        let w = if lead == 0 {
            T::randn(&[n, k], 2)
        } else {
            T::randn(&[1, n, k], 2)
        };
        let x = T::randn(&with(&[k]), 1);
        Layer {
            lead,
            seed: T::ones(x.shape()),
            like: T::randn(&with(&[1, n]), 3),
            t: T::randn(&with(&[1, n]), 4),
            a_like: ops::unsqueeze(&x, 0, lead),
            ref_o: T::randn(&with(&[1, n]), 5),
            ref_k: ops::reshape(&x, &[-1], lead),
            x,
            w,
        }
    }

    fn hess(&self) -> ops::DenseHess<'_, f64> {
        ops::DenseHess {
            seed: &self.seed,
            x: &self.x,
            w: &self.w,
            like: &self.like,
            t: Some(&self.t),
            a_like: &self.a_like,
            ref_o: &self.ref_o,
            ref_k: &self.ref_k,
            nb: self.lead + 1,
        }
    }

    /// The separate ops, as `hessian` emits them, with the chain
    /// `-(p * g0) * g1`.
    fn by_ops(&self, g: [&T; 2]) -> T {
        let nb = self.lead + 1;
        let p = ops::diag_matmul(&self.seed, &self.x, None, &self.w, self.lead, true);
        let p = ops::broadcast_like(&p, &self.like, nb);
        let u = ops::fused3(&p, g[0], g[1], nb, |p, a, b| -(p * a) * b);
        let b = ops::unsqueeze(&self.w, 0, 0);
        let keep = 1 << self.lead;
        ops::diag_matmul_ta_swapped(
            &u,
            &self.like,
            Some(&self.t),
            &b,
            &self.a_like,
            nb,
            keep,
            true,
            &self.ref_o,
            &self.ref_k,
        )
    }

    fn one_call(&self, g: [&T; 2]) -> Option<T> {
        ops::dense_hess(self.hess(), g, |p, [a, b]| -(p * a) * b)
    }
}

#[test]
fn a_layer_hessian_matches_the_separate_ops() {
    for (lead, count, n, k) in [
        (0, 1, 4, 5),
        (0, 1, 33, 70), // scales past the stack buffer
        (1, 3, 4, 5),
        (1, 1, 6, 2),
    ] {
        let layer = Layer::new(lead, count, n, k);
        let b = vec![count; lead];
        let with = |rest: &[usize], seed| T::randn(&[&b[..], rest].concat(), seed);
        let per_output = with(&[1, n], 10);
        let shared_g = with(&[1, 1], 11);
        for g in [[&per_output, &shared_g], [&shared_g, &per_output]] {
            let got = layer.one_call(g).expect("the one-call case");
            let want = layer.by_ops(g);
            assert_eq!(got.shape(), want.shape(), "lead {lead}, {n} x {k}");
            assert_eq!(got.to_vec(), want.to_vec(), "lead {lead}, {n} x {k}");
        }
    }
}

#[test]
fn other_seeds_and_shapes_are_left_to_the_separate_ops() {
    let (n, k) = (4, 5);
    let layer = Layer::new(1, 3, n, k);
    let g = T::randn(&[3, 1, n], 1);
    assert!(layer.one_call([&g, &g]).is_some());
    // A seed that is not all ones.
    let twos = T::ones(&[3, k]) * 2.0;
    let h = ops::DenseHess {
        seed: &twos,
        ..layer.hess()
    };
    assert!(ops::dense_hess(h, [&g], |p, [a]| p * a).is_none());
    // An operand with more than one value per output.
    let wide = T::randn(&[3, 2, n], 2);
    assert!(layer.one_call([&g, &wide]).is_none());
    // `like` of another shape (the basis would not be the outputs).
    let like = T::randn(&[3, 1, n + 1], 3);
    let h = ops::DenseHess {
        like: &like,
        ..layer.hess()
    };
    assert!(ops::dense_hess(h, [&g], |p, [a]| p * a).is_none());
    // A layer per batch element.
    let per_sample = T::randn(&[3, n, k], 4);
    let h = ops::DenseHess {
        w: &per_sample,
        ..layer.hess()
    };
    assert!(ops::dense_hess(h, [&g], |p, [a]| p * a).is_none());
    // Two batch dims.
    let h = ops::DenseHess {
        nb: 3,
        ..layer.hess()
    };
    assert!(ops::dense_hess(h, [&g], |p, [a]| p * a).is_none());
}
