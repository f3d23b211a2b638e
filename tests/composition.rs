//! Composition tests on functions other than `predict`: an MLP, a
//! softmax-like function and a scalar energy with matmul and broadcasting,
//! in f32 and f64. jacfwd == jacrev, hessian == jacfwd(jacfwd) ==
//! jacrev(jacrev) and symmetric, vmap(jacrev) == a loop, jvp(grad) == H v,
//! vmap(vmap) == a double loop, several outputs, scalar parameters.

mod common;

use common::*;
use transforms::Tensor;

fn to64(t: &Tensor<f32>) -> T64 {
    T64::from_shape_vec(
        t.shape(),
        t.to_vec().iter().map(|&v| f64::from(v)).collect(),
    )
    .unwrap()
}

fn to32(t: &T64) -> Tensor<f32> {
    Tensor::from_shape_vec(t.shape(), t.to_vec().iter().map(|&v| v as f32).collect()).unwrap()
}

/// The same models for each element type.
macro_rules! models {
    ($m:ident, $t:ty) => {
        #[allow(dead_code)]
        mod $m {
            use transforms::prelude::*;

            #[jacrev(argnums = 0)]
            #[jacfwd(argnums = 0)]
            #[jacrev(argnums = (1, 2), name = mlp_jac_params)]
            #[vmap(jacrev(argnums = 0), in_dims = (0, None, None, None, None), name = mlp_batch_jac)]
            #[vmap(vmap(jacfwd, in_dims = (1, None, None, None, None), out_dims = 1), in_dims = (1, None, None, None, None), out_dims = 1, name = mlp_vv_jac)]
            pub fn mlp(x: &Tensor<$t>, w1: &Tensor<$t>, b1: &Tensor<$t>, w2: &Tensor<$t>, b2: &Tensor<$t>) -> Tensor<$t> {
                let h = linear(x, w1, b1).tanh();
                linear(&h, w2, b2).sigmoid()
            }

            #[jacrev]
            #[jacfwd]
            #[vmap(in_dims = -1, out_dims = -1, name = softmax_last)]
            pub fn softmax(x: &Tensor<$t>) -> Tensor<$t> {
                let e = (x - x.mean()).exp();
                &e / e.sum_dim(-1).unsqueeze(-1)
            }

            #[grad]
            #[hessian]
            #[jacfwd(jacfwd)]
            #[jacrev(jacrev)]
            #[jvp(grad, name = energy_hvp)]
            #[vmap(hessian, in_dims = (0, None, None), name = energy_batch_hessian)]
            pub fn energy(x: &Tensor<$t>, m: &Tensor<$t>, b: &Tensor<$t>) -> Tensor<$t> {
                let quad = x.matmul(m).matmul(x) * 0.5;
                let bias = (x.unsqueeze(0) * b).sum_dim(1).mean();
                let barrier = (x.square() + 1.0).ln().sum();
                quad + bias + barrier
            }
        }
    };
}

models!(m32, f32);
models!(m64, f64);

struct Inputs {
    x: T64,
    w1: T64,
    b1: T64,
    w2: T64,
    b2: T64,
    xs: T64,
    m: T64,
    bm: T64,
}

fn inputs() -> Inputs {
    Inputs {
        x: T64::randn(&[4], 1),
        w1: T64::randn(&[6, 4], 2),
        b1: T64::randn(&[6], 3),
        w2: T64::randn(&[3, 6], 4),
        b2: T64::randn(&[3], 5),
        xs: T64::randn(&[5, 4], 6),
        m: T64::randn(&[4, 4], 7),
        bm: T64::randn(&[3, 4], 8),
    }
}

#[test]
fn mlp_jacobians_f64() {
    use m64::*;
    let i = inputs();
    let jr = mlp_jacrev(&i.x, &i.w1, &i.b1, &i.w2, &i.b2);
    assert_eq!(jr.shape(), &[3, 4]);
    close(
        "jacfwd == jacrev",
        &mlp_jacfwd(&i.x, &i.w1, &i.b1, &i.w2, &i.b2),
        &jr,
        1e-12,
    );
    let t = T64::randn(&[4], 9);
    close(
        "J t vs fd",
        &jac_vec(&jr, &[3], &t),
        &fd(|x| mlp(x, &i.w1, &i.b1, &i.w2, &i.b2), &i.x, &t),
        1e-7,
    );
    let (jw1, jb1) = mlp_jac_params(&i.x, &i.w1, &i.b1, &i.w2, &i.b2);
    assert_eq!((jw1.shape(), jb1.shape()), (&[3, 6, 4][..], &[3, 6][..]));
    let tw = T64::randn(&[6, 4], 10);
    close(
        "J_w1 t vs fd",
        &jac_vec(&jw1, &[3], &tw),
        &fd(|w| mlp(&i.x, w, &i.b1, &i.w2, &i.b2), &i.w1, &tw),
        1e-7,
    );
    // vmap(jacrev) == a loop of jacrev.
    let batch = mlp_batch_jac(&i.xs, &i.w1, &i.b1, &i.w2, &i.b2);
    let rows: Vec<T64> =
        i.xs.unbind(0)
            .iter()
            .map(|x| mlp_jacrev(x, &i.w1, &i.b1, &i.w2, &i.b2))
            .collect();
    close("vmap(jacrev) == loop", &batch, &T64::stack(&rows, 0), 1e-12);
    // vmap(vmap(jacfwd)) over dims 1 then 0 of a [4, 2, 5] input, out_dims = 1 twice.
    let xss = T64::randn(&[4, 2, 5], 11);
    let vv = mlp_vv_jac(&xss, &i.w1, &i.b1, &i.w2, &i.b2);
    assert_eq!(vv.shape(), &[3, 2, 5, 4]);
    for a in 0..2 {
        for b in 0..5 {
            let x = xss.select(1, a).select(1, b);
            let j = mlp_jacrev(&x, &i.w1, &i.b1, &i.w2, &i.b2);
            close(
                "vmap(vmap) == double loop",
                &vv.select(1, a).select(1, b),
                &j,
                1e-12,
            );
        }
    }
}

#[test]
fn mlp_f32_matches_f64() {
    let i = inputs();
    let j64 = m64::mlp_batch_jac(&i.xs, &i.w1, &i.b1, &i.w2, &i.b2);
    let j32 = m32::mlp_batch_jac(
        &to32(&i.xs),
        &to32(&i.w1),
        &to32(&i.b1),
        &to32(&i.w2),
        &to32(&i.b2),
    );
    close("f32 vs f64", &to64(&j32), &j64, 1e-5);
    let f32j = m32::mlp_jacfwd(
        &to32(&i.x),
        &to32(&i.w1),
        &to32(&i.b1),
        &to32(&i.w2),
        &to32(&i.b2),
    );
    let r32j = m32::mlp_jacrev(
        &to32(&i.x),
        &to32(&i.w1),
        &to32(&i.b1),
        &to32(&i.w2),
        &to32(&i.b2),
    );
    close("f32 jacfwd == jacrev", &to64(&f32j), &to64(&r32j), 1e-6);
}

#[test]
fn softmax_jacobian_closed_form() {
    use m64::*;
    let x = T64::randn(&[5], 12);
    let p = softmax(&x).to_vec();
    let j = softmax_jacrev(&x);
    close("jacfwd == jacrev", &softmax_jacfwd(&x), &j, 1e-12);
    // d p_i / d x_j = p_i (delta_ij - p_j)
    let closed: Vec<f64> = (0..5)
        .flat_map(|a| (0..5).map(move |b| (a, b)))
        .map(|(a, b)| p[a] * (f64::from(u8::from(a == b)) - p[b]))
        .collect();
    close(
        "closed form",
        &j,
        &T64::from_shape_vec(&[5, 5], closed).unwrap(),
        1e-12,
    );
    // vmap with negative in_dims / out_dims == a loop over the last dim.
    let xs = T64::randn(&[5, 3], 13);
    let ys = softmax_last(&xs);
    for k in 0..3 {
        close(
            "vmap(in_dims=-1, out_dims=-1)",
            &ys.select(1, k),
            &softmax(&xs.select(1, k)),
            1e-12,
        );
    }
    let f32j = m32::softmax_jacrev(&to32(&x));
    close("f32 vs f64", &to64(&f32j), &j, 1e-5);
}

#[test]
fn energy_second_order() {
    use m64::*;
    let i = inputs();
    let (x, m, b) = (&i.x, &i.m, &i.bm);
    let h = energy_hessian(x, m, b);
    assert_eq!(h.shape(), &[4, 4]);
    close(
        "hessian == jacfwd(jacfwd)",
        &energy_jacfwd_jacfwd(x, m, b),
        &h,
        1e-12,
    );
    close(
        "hessian == jacrev(jacrev)",
        &energy_jacrev_jacrev(x, m, b),
        &h,
        1e-12,
    );
    let hv = h.to_vec();
    for r in 0..4 {
        for c in 0..4 {
            assert!(
                (hv[r * 4 + c] - hv[c * 4 + r]).abs() < 1e-12,
                "hessian not symmetric"
            );
        }
    }
    // Closed form: (M + M^T)/2 + diag(2 (1 - x^2) / (1 + x^2)^2).
    let (mv, xv) = (m.to_vec(), x.to_vec());
    let closed: Vec<f64> = (0..16)
        .map(|k| {
            let (r, c) = (k / 4, k % 4);
            let d = if r == c {
                2.0 * (1.0 - xv[r] * xv[r]) / (1.0 + xv[r] * xv[r]).powi(2)
            } else {
                0.0
            };
            0.5 * (mv[r * 4 + c] + mv[c * 4 + r]) + d
        })
        .collect();
    close(
        "closed form",
        &h,
        &T64::from_shape_vec(&[4, 4], closed).unwrap(),
        1e-12,
    );
    // Hessian-vector product by jvp(grad).
    let v = T64::randn(&[4], 14);
    let (g, hvp) = energy_hvp(x, m, b, &v);
    close("jvp(grad) primal == grad", &g, &energy_grad(x, m, b), 1e-12);
    close("jvp(grad) == H v", &hvp, &jac_vec(&h, &[4], &v), 1e-12);
    close(
        "grad vs fd",
        &T64::from_shape_vec(&[], vec![dot(&g, &v)]).unwrap(),
        &fd(|x| energy(x, m, b), x, &v),
        1e-7,
    );
    // vmap(hessian) == a loop.
    let hs = energy_batch_hessian(&i.xs, m, b);
    let loop_h: Vec<T64> =
        i.xs.unbind(0)
            .iter()
            .map(|x| energy_hessian(x, m, b))
            .collect();
    close("vmap(hessian) == loop", &hs, &T64::stack(&loop_h, 0), 1e-12);
    let h32 = m32::energy_hessian(&to32(x), &to32(m), &to32(b));
    close("f32 vs f64", &to64(&h32), &h, 1e-4);
}

mod outputs {
    use transforms::prelude::*;

    #[jacrev(argnums = (0, 1))]
    #[jacfwd]
    #[jvp(argnums = 1)]
    #[vjp(argnums = (0, 1))]
    #[vmap(in_dims = (0, None), out_dims = 1)]
    pub fn two(x: &Tensor<f64>, y: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        let p = x * y;
        (p.sin(), (x.sum() * y).exp())
    }

    /// A Hessian laid out by symmetry in the product that computes it: a
    /// matrix input, a matrix-valued and a scalar output.
    #[hessian(argnums = 0)]
    #[hessian(argnums = (0,), name = layer_hessian_tuple)]
    #[jacfwd(jacrev(argnums = 0), argnums = 0, name = layer_fwd_rev)]
    pub fn layer(x: &Tensor<f64>, w: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        let y = linear(x, w, &w.sum_dim(1)).tanh();
        (y.clone() * 2.0, (x * x).sum() + y.sum())
    }

    #[jacrev]
    #[hessian(argnums = 0)]
    pub fn scaled(x: &Tensor<f64>, s: f64, k: usize) -> Tensor<f64> {
        let c = s * 2.0;
        (x.powf(s) * c).sum_dim(k as isize - 1).sum()
    }
}

#[test]
fn several_outputs() {
    use outputs::*;
    let (x, y) = (T64::randn(&[3], 20), T64::randn(&[3], 21));
    let ((ja, jb), (jc, jd)) = two_jacrev(&x, &y);
    assert_eq!((ja.shape(), jd.shape()), (&[3, 3][..], &[3, 3][..]));
    let (fa, fc) = two_jacfwd(&x, &y);
    close("jacfwd == jacrev (out 0)", &fa, &ja, 1e-12);
    close("jacfwd == jacrev (out 1)", &fc, &jc, 1e-12);
    let t = T64::randn(&[3], 22);
    let ((o1, o2), (t1, t2)) = two_jvp(&x, &y, &t);
    close("jvp primal", &o1, &two(&x, &y).0, 1e-12);
    close("jvp out 0", &t1, &jac_vec(&jb, &[3], &t), 1e-12);
    close("jvp out 1", &t2, &jac_vec(&jd, &[3], &t), 1e-12);
    let _ = o2;
    let (c1, c2) = (T64::randn(&[3], 23), T64::randn(&[3], 24));
    let (_, pb) = two_vjp(&x, &y);
    let (gx, gy) = pb.call(&c1, &c2);
    let lhs = dot(&c1, &jac_vec(&ja, &[3], &t)) + dot(&c2, &jac_vec(&jc, &[3], &t));
    assert!((lhs - dot(&gx, &t)).abs() < 1e-10);
    let lhs = dot(&c1, &jac_vec(&jb, &[3], &t)) + dot(&c2, &jac_vec(&jd, &[3], &t));
    assert!((lhs - dot(&gy, &t)).abs() < 1e-10);
    // pullback.vmap over stacked cotangents == a loop of call.
    let (cs1, cs2) = (T64::randn(&[4, 3], 25), T64::randn(&[4, 3], 26));
    let (bx, by) = pb.vmap(&cs1, &cs2);
    for k in 0..4 {
        let (gx, gy) = pb.call(&cs1.select(0, k), &cs2.select(0, k));
        close("pullback.vmap == loop (x)", &bx.select(0, k), &gx, 1e-12);
        close("pullback.vmap == loop (y)", &by.select(0, k), &gy, 1e-12);
    }
    // vmap with several outputs and out_dims = 1.
    let xs = T64::randn(&[4, 3], 27);
    let (va, vb) = two_vmap(&xs, &y);
    for k in 0..4 {
        let (a, b) = two(&xs.select(0, k), &y);
        close("vmap out 0", &va.select(1, k), &a, 1e-12);
        close("vmap out 1", &vb.select(1, k), &b, 1e-12);
    }
}

#[test]
fn hessians_in_their_own_layout() {
    use outputs::*;
    let (x, w) = (T64::randn(&[3, 4], 30), T64::randn(&[5, 4], 31));
    let (h0, h1) = layer_hessian(&x, &w);
    let (f0, f1) = layer_fwd_rev(&x, &w);
    assert_eq!(h0.shape(), &[3, 5, 3, 4, 3, 4]);
    assert_eq!(h1.shape(), &[3, 4, 3, 4]);
    close("hessian == jacfwd(jacrev) (out 0)", &h0, &f0, 1e-12);
    close("hessian == jacfwd(jacrev) (out 1)", &h1, &f1, 1e-12);
    let (((t0,),), ((t1,),)) = layer_hessian_tuple(&x, &w);
    close("tuple argnums (out 0)", &t0, &h0, 0.0);
    close("tuple argnums (out 1)", &t1, &h1, 0.0);
    // The scalar output's Hessian: 2 I (from x.x) plus the tanh part.
    let i = T64::eye(12).reshape(&[3, 4, 3, 4]);
    let tanh_part = &h1 - &(i * 2.0);
    let swapped = tanh_part.transpose(0, 2).transpose(1, 3);
    close("symmetric", &tanh_part, &swapped, 1e-12);
    // f0's Hessian is symmetric in its two input blocks too.
    close(
        "symmetric (out 0)",
        &h0,
        &h0.transpose(2, 4).transpose(3, 5),
        1e-12,
    );
}

#[test]
fn scalar_parameters_are_constants() {
    use outputs::*;
    let x = input(&[2, 3], 30, true);
    let g = scaled_jacrev(&x, 1.5, 1);
    let t = T64::randn(&[2, 3], 31);
    close(
        "jacrev vs fd",
        &T64::from_shape_vec(&[], vec![dot(&g, &t)]).unwrap(),
        &fd(|x| scaled(x, 1.5, 1), &x, &t),
        1e-7,
    );
    let h = scaled_hessian(&x, 1.5, 2);
    close(
        "hessian vs fd of jacrev",
        &jac_vec(&h, &[2, 3], &t),
        &fd(|x| scaled_jacrev(x, 1.5, 2), &x, &t),
        1e-6,
    );
}

#[test]
fn identity_seeds_scaled_by_a_broadcast_factor() {
    // `x * s` with `s` smaller than `x`: the identity seed's scale becomes
    // `s` itself (no product with ones), a diagonal that broadcasts into
    // `x`'s shape, both when closed directly and through a nonlinearity.
    mod p {
        use transforms::prelude::*;

        #[jacrev(argnums = 0)]
        #[jacfwd(argnums = 0)]
        #[vmap(jacrev(argnums = 0), in_dims = (0, None), name = scale_batch_jacrev)]
        pub fn scale(x: &Tensor<f64>, s: &Tensor<f64>) -> Tensor<f64> {
            x * s
        }

        #[jacrev(argnums = 0)]
        #[hessian(argnums = 0)]
        pub fn scale_tanh(x: &Tensor<f64>, s: &Tensor<f64>) -> Tensor<f64> {
            (x * s).tanh()
        }
    }
    let x = input(&[3, 4], 40, false);
    let t = T64::randn(&[3, 4], 41);
    for s_shape in [&[4][..], &[1], &[1, 4]] {
        let s = input(s_shape, 42, true);
        let jr = p::scale_jacrev(&x, &s);
        close("x*s jacrev vs jacfwd", &jr, &p::scale_jacfwd(&x, &s), 1e-12);
        close(
            "x*s jacrev vs fd",
            &jac_vec(&jr, &[3, 4], &t),
            &fd(|x| p::scale(x, &s), &x, &t),
            1e-7,
        );
        let jb = p::scale_batch_jacrev(&x, &s);
        for b in 0..3isize {
            let xb = x.narrow(0, b, 1).reshape(&[4]);
            let jbb = jb.narrow(0, b, 1).reshape(&[4, 4]);
            // (with `s` [1, 4] each example's output is [1, 4])
            let want = p::scale_jacrev(&xb, &s).reshape(&[4, 4]);
            close("vmap(jacrev) vs a loop", &jbb, &want, 1e-12);
        }
        let jt = p::scale_tanh_jacrev(&x, &s);
        close(
            "tanh(x*s) jacrev vs fd",
            &jac_vec(&jt, &[3, 4], &t),
            &fd(|x| p::scale_tanh(x, &s), &x, &t),
            1e-7,
        );
        let h = p::scale_tanh_hessian(&x, &s);
        close(
            "tanh(x*s) hessian vs fd of jacrev",
            &jac_vec(&h, &[3, 4, 3, 4], &t),
            &fd(|x| p::scale_tanh_jacrev(x, &s), &x, &t),
            1e-6,
        );
    }
}

#[test]
fn tutorial_sum_trick() {
    mod p {
        use transforms::prelude::*;
        #[vmap(jacrev(argnums = 2), in_dims = (None, None, 0), name = batch_jacobian)]
        pub fn predict(w: &Tensor<f64>, b: &Tensor<f64>, x: &Tensor<f64>) -> Tensor<f64> {
            linear(x, w, b).tanh()
        }
        #[jacrev(argnums = 2)]
        pub fn predict_summed(w: &Tensor<f64>, b: &Tensor<f64>, x: &Tensor<f64>) -> Tensor<f64> {
            linear(x, w, b).tanh().sum_dim(0)
        }
    }
    let (w, b, x) = (
        T64::randn(&[33, 31], 40),
        T64::randn(&[33], 41),
        T64::randn(&[64, 31], 42),
    );
    let j1 = p::batch_jacobian(&w, &b, &x);
    let j2 = p::predict_summed_jacrev(&w, &b, &x).movedim(1, 0);
    assert_eq!(j1.shape(), &[64, 33, 31]);
    close("vmap(jacrev) == jacrev of the sum", &j1, &j2, 1e-12);
}

mod errors {
    use transforms::prelude::*;
    #[vmap]
    #[grad]
    pub fn f(x: &Tensor<f64>, y: &Tensor<f64>) -> Tensor<f64> {
        x * y
    }
}

#[test]
#[should_panic(expected = "transforms: vmap: mapped inputs have different batch sizes")]
fn vmap_batch_size_mismatch_is_an_error() {
    errors::f_vmap(&T64::zeros(&[3, 2]), &T64::zeros(&[4, 2]));
}

#[test]
#[should_panic(expected = "transforms: grad: the function's output must be 0-dim")]
fn grad_of_non_scalar_is_an_error() {
    errors::f_grad(&T64::zeros(&[3]), &T64::zeros(&[3]));
}

#[test]
#[should_panic(expected = "transforms: mul: shapes do not broadcast, shapes [3] and [4]")]
fn shape_errors_name_the_op() {
    errors::f(&T64::zeros(&[3]), &T64::zeros(&[4]));
}

mod unmapped {
    use transforms::prelude::*;

    #[jacrev(argnums = 1)]
    #[jacrev(vmap(in_dims = (0, None)), argnums = 1, name = f_jac_of_vmap)]
    #[jacfwd(vmap(in_dims = (0, None)), argnums = 1, name = f_jacfwd_of_vmap)]
    #[vmap(jacrev(argnums = 1), in_dims = (0, None), name = f_vmap_of_jac)]
    #[hessian(vmap(in_dims = (0, None)), argnums = 1, name = f_hess_of_vmap)]
    pub fn f(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
        let h = w.matmul(x).tanh();
        (h * x.sum() + w.sum_dim(1).sin()).sum()
    }
}

#[test]
fn derivatives_of_vmap_in_an_unmapped_input() {
    use unmapped::*;
    let (xs, w) = (T64::randn(&[5, 3], 50), T64::randn(&[4, 3], 51));
    // d/dw of the batch of outputs: [5] ++ w.shape, one row per example.
    let j = f_jac_of_vmap(&xs, &w);
    assert_eq!(j.shape(), &[5, 4, 3]);
    let rows: Vec<T64> = xs.unbind(0).iter().map(|x| f_jacrev(x, &w)).collect();
    close(
        "jacrev(vmap) == loop of jacrev",
        &j,
        &T64::stack(&rows, 0),
        1e-12,
    );
    close(
        "jacfwd(vmap) == jacrev(vmap)",
        &f_jacfwd_of_vmap(&xs, &w),
        &j,
        1e-12,
    );
    close(
        "vmap(jacrev) == jacrev(vmap)",
        &f_vmap_of_jac(&xs, &w),
        &j,
        1e-12,
    );
    let h = f_hess_of_vmap(&xs, &w);
    assert_eq!(h.shape(), &[5, 4, 3, 4, 3]);
    let t = T64::randn(&[4, 3], 52);
    let fd_h = fd(|w| f_jac_of_vmap(&xs, w), &w, &t);
    close(
        "hessian(vmap) t vs fd",
        &jac_vec(&h, &[5, 4, 3], &t),
        &fd_h,
        1e-6,
    );
}
