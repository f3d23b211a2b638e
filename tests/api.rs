//! The API beyond the basic transforms (f64): `has_aux`, `value_and_grad`,
//! `chunk_size`, `jacobian` and `linearize`, each against the plain
//! transforms and direct computations.

mod common;

use common::*;

#[allow(dead_code)]
mod m {
    use transforms::prelude::*;

    // A scalar energy, without and with aux.
    #[grad(argnums = 1)]
    #[jacrev(argnums = 1)]
    #[jacfwd(argnums = 1)]
    #[hessian(argnums = 1)]
    #[jvp(argnums = 1)]
    #[vjp(argnums = 1)]
    #[value_and_grad(argnums = (0, 1))]
    #[grad(argnums = (0, 1), name = energy_grads)]
    #[vmap(grad(argnums = 1), in_dims = (0, None), name = energy_batch_grad)]
    #[vmap(value_and_grad(argnums = 1), in_dims = (0, None), name = energy_batch_vg)]
    pub fn energy(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
        let h = x.matmul(w);
        h.tanh().sum() + w.square().sum() * 0.1
    }

    #[grad(argnums = 1, has_aux = true)]
    #[jacrev(argnums = 1, has_aux = true)]
    #[jacfwd(argnums = 1, has_aux = true)]
    #[hessian(argnums = 1, has_aux = true)]
    #[jvp(argnums = 1, has_aux = true)]
    #[vjp(argnums = 1, has_aux = true)]
    #[value_and_grad(argnums = 1, has_aux = true)]
    #[jacobian(argnums = 1, has_aux = true)]
    #[jacrev(argnums = 1, has_aux = true, chunk_size = 3, name = energy_aux_jacrev_c3)]
    #[jacrev(grad(argnums = 1, has_aux = true), argnums = 1, has_aux = true, name = energy_aux_hess_of_grad)]
    #[vmap(grad(argnums = 1, has_aux = true), in_dims = (0, None), name = energy_aux_batch_grad)]
    pub fn energy_aux(
        x: &Tensor<f64>,
        w: &Tensor<f64>,
    ) -> (Tensor<f64>, (Tensor<f64>, Tensor<f64>)) {
        let h = x.matmul(w);
        let e = h.tanh().sum() + w.square().sum() * 0.1;
        (e, (h.clone(), h.sigmoid().mean()))
    }

    // A vector function (x [3], w [3, 7] -> [7]), without and with aux.
    #[jacrev(argnums = 0)]
    #[jacfwd(argnums = 0)]
    #[jacrev(argnums = 1, name = feat_jacrev_w)]
    #[jacfwd(argnums = 1, name = feat_jacfwd_w)]
    #[jacobian(argnums = 0)]
    #[jacobian(argnums = 1, name = feat_jacobian_w)]
    #[jacrev(argnums = 0, chunk_size = 1, name = feat_jacrev_c1)]
    #[jacrev(argnums = 0, chunk_size = 3, name = feat_jacrev_c3)]
    #[jacrev(argnums = 0, chunk_size = 7, name = feat_jacrev_c7)]
    #[jacrev(argnums = 0, chunk_size = 12, name = feat_jacrev_c12)]
    #[jacrev(argnums = (0, 1), chunk_size = 3, name = feat_jacrev_both_c3)]
    #[jacrev(argnums = (0, 1), name = feat_jacrev_both)]
    #[jvp(argnums = (0, 1))]
    #[linearize(argnums = (0, 1))]
    #[linearize(argnums = 1, name = feat_linearize_w)]
    #[jvp(argnums = 1, name = feat_jvp_w)]
    #[vmap(in_dims = (0, None))]
    #[vmap(in_dims = (0, None), chunk_size = 1, name = feat_vmap_c1)]
    #[vmap(in_dims = (0, None), chunk_size = 3, name = feat_vmap_c3)]
    #[vmap(in_dims = (0, None), chunk_size = 7, name = feat_vmap_c7)]
    #[vmap(in_dims = (0, None), chunk_size = 12, name = feat_vmap_c12)]
    #[vmap(in_dims = (1, None), out_dims = 1, name = feat_vmap_cols)]
    #[vmap(in_dims = (1, None), out_dims = 1, chunk_size = 3, name = feat_vmap_cols_c3)]
    #[vmap(jacrev(argnums = 0), in_dims = (0, None), name = feat_batch_jac)]
    #[vmap(jacrev(argnums = 0), in_dims = (0, None), chunk_size = 3, name = feat_batch_jac_c3)]
    pub fn feat(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
        x.matmul(w).tanh()
    }

    #[jacrev(argnums = 0, has_aux = true)]
    #[jacfwd(argnums = 0, has_aux = true)]
    #[vmap(jacrev(argnums = 0, has_aux = true), in_dims = (0, None), name = feat_aux_batch_jac)]
    #[vmap(jvp(argnums = 0, has_aux = true), in_dims = (0, None, 0), name = feat_aux_batch_jvp)]
    pub fn feat_aux(x: &Tensor<f64>, w: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        let h = x.matmul(w);
        (h.tanh(), h.exp().sum())
    }

    // Two outputs, one of them 2-D.
    #[jacrev(argnums = (0, 1))]
    #[jacrev(argnums = (0, 1), chunk_size = 4, name = pair_jacrev_c4)]
    #[jacfwd(argnums = (0, 1))]
    #[jacobian(argnums = (0, 1))]
    #[jvp(argnums = 0)]
    #[linearize]
    #[vmap(in_dims = (0, None))]
    #[vmap(in_dims = (0, None), chunk_size = 2, name = pair_vmap_c2)]
    pub fn pair(x: &Tensor<f64>, w: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        let y = x.matmul(w).tanh();
        let z = (w * x.sin().sum()).exp();
        (y, z)
    }

    // `linear` (a transposed weight read by a matmul): x [4] -> [3, 4].
    #[jacobian(argnums = 0)]
    #[jacobian(argnums = (1, 2), name = layer_jacobian_wb)]
    #[jacrev(argnums = (0, 1, 2))]
    #[jacfwd(argnums = (0, 1, 2))]
    #[jacrev(argnums = (0, 1, 2), chunk_size = 5, name = layer_jacrev_c5)]
    #[linearize(argnums = (0, 1))]
    #[jvp(argnums = (0, 1))]
    #[vmap(jacrev(argnums = 0), in_dims = (0, None, None, None))]
    #[vmap(jacrev(argnums = 0), in_dims = (0, None, None, None), chunk_size = 2, name = layer_vmap_jacrev_c2)]
    pub fn layer(
        x: &Tensor<f64>,
        w: &Tensor<f64>,
        b: &Tensor<f64>,
        c: &Tensor<f64>,
    ) -> Tensor<f64> {
        let h = linear(x, w, b).tanh();
        linear(&h, w, b).unsqueeze(0) * c
    }

    // A scalar parameter carried by the linear map.
    #[linearize]
    #[jvp]
    pub fn scaled(x: &Tensor<f64>, c: f64) -> Tensor<f64> {
        (x * c).sin() * c
    }
}

use m::*;

fn xw() -> (T64, T64) {
    (T64::randn(&[3], 1), T64::randn(&[3, 7], 2))
}

#[test]
fn has_aux_grad_jac_hessian() {
    let (x, w) = xw();
    let h = x.matmul(&w);
    let aux_h = h.clone();
    let aux_m = h.sigmoid().mean();
    let check_aux = |what: &str, (a, b): &(T64, T64)| {
        close(&format!("{what}: aux h"), a, &aux_h, 1e-14);
        close(&format!("{what}: aux mean"), b, &aux_m, 1e-14);
    };
    let (g, aux) = energy_aux_grad(&x, &w);
    close("grad has_aux", &g, &energy_grad(&x, &w), 1e-14);
    check_aux("grad", &aux);
    // The gradient itself against finite differences.
    let t = T64::randn(&[3, 7], 3);
    close(
        "<grad, t> vs fd",
        &T64::scalar(dot(&g, &t)),
        &fd(|w| energy(&x, w), &w, &t),
        1e-7,
    );
    let (j, aux) = energy_aux_jacrev(&x, &w);
    close("jacrev has_aux", &j, &energy_jacrev(&x, &w), 1e-14);
    check_aux("jacrev", &aux);
    let (j, aux) = energy_aux_jacfwd(&x, &w);
    close("jacfwd has_aux", &j, &energy_jacfwd(&x, &w), 1e-14);
    check_aux("jacfwd", &aux);
    let (j, aux) = energy_aux_jacobian(&x, &w);
    close("jacobian has_aux", &j, &energy_jacrev(&x, &w), 1e-14);
    check_aux("jacobian", &aux);
    let (j, aux) = energy_aux_jacrev_c3(&x, &w);
    close("chunked jacrev has_aux", &j, &energy_jacrev(&x, &w), 1e-14);
    check_aux("chunked jacrev", &aux);
    let (hs, aux) = energy_aux_hessian(&x, &w);
    let hess = energy_hessian(&x, &w);
    assert_eq!(hess.shape(), &[3, 7, 3, 7]);
    close("hessian has_aux", &hs, &hess, 1e-14);
    check_aux("hessian", &aux);
    // torch's pattern: jacrev(grad(f, has_aux), has_aux) is the Hessian.
    let (hs, aux) = energy_aux_hess_of_grad(&x, &w);
    close("jacrev(grad(has_aux)) == hessian", &hs, &hess, 1e-12);
    check_aux("jacrev(grad)", &aux);
}

#[test]
fn has_aux_jvp_vjp_value_and_grad() {
    let (x, w) = xw();
    let h = x.matmul(&w);
    let t = T64::randn(&[3, 7], 4);
    let (out, tan, (a, b)) = energy_aux_jvp(&x, &w, &t);
    let (out0, tan0) = energy_jvp(&x, &w, &t);
    close("jvp has_aux: out", &out, &out0, 1e-14);
    close("jvp has_aux: tangent", &tan, &tan0, 1e-14);
    close(
        "jvp tangent vs fd",
        &tan,
        &fd(|w| energy(&x, w), &w, &t),
        1e-7,
    );
    close("jvp aux", &a, &h, 1e-14);
    close("jvp aux mean", &b, &h.sigmoid().mean(), 1e-14);
    let (out, pullback, (a, _)) = energy_aux_vjp(&x, &w);
    let (out0, pullback0) = energy_vjp(&x, &w);
    close("vjp has_aux: out", &out, &out0, 1e-14);
    close("vjp aux", &a, &h, 1e-14);
    let ct = T64::scalar(1.7);
    close(
        "vjp has_aux: pullback",
        &pullback.call(&ct),
        &pullback0.call(&ct),
        1e-14,
    );
    // value_and_grad == (f, grad), with and without aux.
    let (v, (gx, gw)) = energy_value_and_grad(&x, &w);
    let (gx0, gw0) = energy_grads(&x, &w);
    close("value", &v, &energy(&x, &w), 1e-14);
    close("grad x", &gx, &gx0, 1e-14);
    close("grad w", &gw, &gw0, 1e-14);
    let ((v, (a, b)), g) = energy_aux_value_and_grad(&x, &w);
    close("value (aux)", &v, &energy(&x, &w), 1e-14);
    close("grad (aux)", &g, &energy_grad(&x, &w), 1e-14);
    close("aux h", &a, &h, 1e-14);
    close("aux mean", &b, &h.sigmoid().mean(), 1e-14);
}

#[test]
fn has_aux_under_vmap() {
    let (xs, w) = (T64::randn(&[5, 3], 5), T64::randn(&[3, 7], 2));
    let (g, (a, b)) = energy_aux_batch_grad(&xs, &w);
    assert_eq!(
        (g.shape(), a.shape(), b.shape()),
        (&[5, 3, 7][..], &[5, 7][..], &[5][..])
    );
    close("vmap(grad has_aux)", &g, &energy_batch_grad(&xs, &w), 1e-14);
    for (i, x) in xs.unbind(0).iter().enumerate() {
        let h = x.matmul(&w);
        close("vmap aux h == loop", &a.select(0, i), &h, 1e-14);
        close(
            "vmap aux mean == loop",
            &b.select(0, i),
            &h.sigmoid().mean(),
            1e-14,
        );
    }
    // vmap(value_and_grad) == (loop of f, vmap(grad)).
    let (v, g) = energy_batch_vg(&xs, &w);
    close(
        "vmap(value_and_grad) grad",
        &g,
        &energy_batch_grad(&xs, &w),
        1e-14,
    );
    for (i, x) in xs.unbind(0).iter().enumerate() {
        close(
            "vmap(value_and_grad) value",
            &v.select(0, i),
            &energy(x, &w),
            1e-14,
        );
    }
    let (j, e) = feat_aux_batch_jac(&xs, &w);
    close("vmap(jacrev has_aux)", &j, &feat_batch_jac(&xs, &w), 1e-14);
    let ts = T64::randn(&[5, 3], 6);
    let (out, tan, e2) = feat_aux_batch_jvp(&xs, &w, &ts);
    for (i, x) in xs.unbind(0).iter().enumerate() {
        let expect = x.matmul(&w).exp().sum();
        close("vmap(jacrev) aux == loop", &e.select(0, i), &expect, 1e-14);
        close("vmap(jvp) aux == loop", &e2.select(0, i), &expect, 1e-14);
        let (o0, t0) = feat_jvp(x, &w, &ts.select(0, i), &T64::zeros(&[3, 7]));
        close("vmap(jvp has_aux) out", &out.select(0, i), &o0, 1e-14);
        close("vmap(jvp has_aux) tangent", &tan.select(0, i), &t0, 1e-14);
    }
    // The unbatched has_aux jacobians.
    let x = xs.select(0, 0);
    let (j, e) = feat_aux_jacrev(&x, &w);
    close("jacrev has_aux (vector)", &j, &feat_jacrev(&x, &w), 1e-14);
    close("jacrev aux (vector)", &e, &x.matmul(&w).exp().sum(), 1e-14);
    let (j, _) = feat_aux_jacfwd(&x, &w);
    close("jacfwd has_aux (vector)", &j, &feat_jacrev(&x, &w), 1e-13);
}

#[test]
fn chunked_vmap_equals_unchunked() {
    // k = 1, 3 (does not divide 7), 7 (= n) and 12 (> n).
    let (xs, w) = (T64::randn(&[7, 3], 7), T64::randn(&[3, 7], 2));
    let full = feat_vmap(&xs, &w);
    assert_eq!(full.shape(), &[7, 7]);
    for (k, got) in [
        (1, feat_vmap_c1(&xs, &w)),
        (3, feat_vmap_c3(&xs, &w)),
        (7, feat_vmap_c7(&xs, &w)),
        (12, feat_vmap_c12(&xs, &w)),
    ] {
        close(&format!("vmap chunk_size = {k}"), &got, &full, 1e-14);
    }
    // Mapped over dim 1, results on dim 1.
    let xt = xs.movedim(0, 1);
    close(
        "vmap(in_dims 1, out_dims 1) chunk 3",
        &feat_vmap_cols_c3(&xt, &w),
        &feat_vmap_cols(&xt, &w),
        0.0,
    );
    close(
        "vmap(jacrev) chunk 3",
        &feat_batch_jac_c3(&xs, &w),
        &feat_batch_jac(&xs, &w),
        0.0,
    );
    // Two outputs.
    let (a, b) = pair_vmap_c2(&xs, &w);
    let (a0, b0) = pair_vmap(&xs, &w);
    close("pair vmap chunk 2: y", &a, &a0, 1e-14);
    close("pair vmap chunk 2: z", &b, &b0, 1e-14);
    assert_eq!(b.shape(), &[7, 3, 7]);
}

#[test]
#[should_panic(expected = "transforms: vmap: mapped inputs have different sizes")]
fn chunked_vmap_mismatched_batch_panics() {
    #[allow(dead_code)]
    mod two {
        use transforms::prelude::*;
        #[vmap(chunk_size = 2)]
        pub fn add(x: &Tensor<f64>, y: &Tensor<f64>) -> Tensor<f64> {
            x + y
        }
    }
    let _ = two::add_vmap(&T64::zeros(&[5, 2]), &T64::zeros(&[4, 2]));
}

#[test]
fn chunked_jacrev_equals_unchunked() {
    let (x, w) = xw();
    let full = feat_jacrev(&x, &w);
    assert_eq!(full.shape(), &[7, 3]);
    for (k, got) in [
        (1, feat_jacrev_c1(&x, &w)),
        (3, feat_jacrev_c3(&x, &w)),
        (7, feat_jacrev_c7(&x, &w)),
        (12, feat_jacrev_c12(&x, &w)),
    ] {
        close(&format!("jacrev chunk_size = {k}"), &got, &full, 1e-14);
    }
    close("jacrev == jacfwd", &full, &feat_jacfwd(&x, &w), 1e-13);
    let (jx, jw) = feat_jacrev_both_c3(&x, &w);
    let (jx0, jw0) = feat_jacrev_both(&x, &w);
    close("tuple argnums chunked: x", &jx, &jx0, 1e-14);
    close("tuple argnums chunked: w", &jw, &jw0, 1e-14);
    // Two outputs, one 2-D (21 basis rows in chunks of 4).
    let ((yx, yw), (zx, zw)) = pair_jacrev_c4(&x, &w);
    let ((yx0, yw0), (zx0, zw0)) = pair_jacrev(&x, &w);
    assert_eq!(zw.shape(), &[3, 7, 3, 7]);
    for (what, a, b) in [
        ("y/x", &yx, &yx0),
        ("y/w", &yw, &yw0),
        ("z/x", &zx, &zx0),
        ("z/w", &zw, &zw0),
    ] {
        close(&format!("pair chunked jacrev {what}"), a, b, 1e-14);
    }
}

#[test]
fn jacobian_picks_a_mode_and_matches_both() {
    let (x, w) = xw();
    // Tall: 3 inputs -> 7 outputs (forward mode).
    let j = feat_jacobian(&x, &w);
    close("tall: jacobian == jacrev", &j, &feat_jacrev(&x, &w), 1e-13);
    close("tall: jacobian == jacfwd", &j, &feat_jacfwd(&x, &w), 1e-13);
    // Wide: 21 inputs -> 7 outputs (reverse mode).
    let j = feat_jacobian_w(&x, &w);
    assert_eq!(j.shape(), &[7, 3, 7]);
    close(
        "wide: jacobian == jacrev",
        &j,
        &feat_jacrev_w(&x, &w),
        1e-13,
    );
    close(
        "wide: jacobian == jacfwd",
        &j,
        &feat_jacfwd_w(&x, &w),
        1e-13,
    );
    let t = T64::randn(&[3, 7], 8);
    close(
        "wide: J t vs fd",
        &jac_vec(&j, &[7], &t),
        &fd(|w| feat(&x, w), &w, &t),
        1e-7,
    );
    // Several outputs and tuple argnums: exactly jacrev's structure.
    let ((a, b), (c, d)) = pair_jacobian(&x, &w);
    let ((a0, b0), (c0, d0)) = pair_jacrev(&x, &w);
    let ((a1, b1), (c1, d1)) = pair_jacfwd(&x, &w);
    for (what, got, r, f) in [
        ("y/x", &a, &a0, &a1),
        ("y/w", &b, &b0, &b1),
        ("z/x", &c, &c0, &c1),
        ("z/w", &d, &d0, &d1),
    ] {
        close(&format!("pair jacobian == jacrev {what}"), got, r, 1e-13);
        close(&format!("pair jacobian == jacfwd {what}"), got, f, 1e-13);
    }
}

#[test]
fn linearize_equals_jvp() {
    let (x, w) = xw();
    let (out, lin) = feat_linearize(&x, &w);
    close("linearize out == f", &out, &feat(&x, &w), 1e-14);
    for seed in 0..4 {
        let (tx, tw) = (T64::randn(&[3], 10 + seed), T64::randn(&[3, 7], 20 + seed));
        let (_, t0) = feat_jvp(&x, &w, &tx, &tw);
        close("linearize call == jvp", &lin.call(&tx, &tw), &t0, 1e-14);
        close(
            "linearize call vs fd (w)",
            &feat_linearize_w(&x, &w).1.call(&tw),
            &fd(|w| feat(&x, w), &w, &tw),
            1e-7,
        );
    }
    let (outs, lin) = pair_linearize(&x, &w);
    let (y, z) = pair(&x, &w);
    close("pair linearize out y", &outs.0, &y, 1e-14);
    close("pair linearize out z", &outs.1, &z, 1e-14);
    for seed in 0..3 {
        let tx = T64::randn(&[3], 30 + seed);
        let (_, (ty, tz)) = pair_jvp(&x, &w, &tx);
        let (ly, lz) = lin.call(&tx);
        close("pair linearize y == jvp", &ly, &ty, 1e-14);
        close("pair linearize z == jvp", &lz, &tz, 1e-14);
    }
    let (out, lin) = scaled_linearize(&x, 1.3);
    close("scaled out", &out, &scaled(&x, 1.3), 1e-14);
    for seed in 0..3 {
        let t = T64::randn(&[3], 40 + seed);
        close(
            "scaled linearize == jvp",
            &lin.call(&t),
            &scaled_jvp(&x, 1.3, &t).1,
            1e-14,
        );
    }
}

#[test]
fn transposed_weights_through_the_new_transforms() {
    let (x, w, b, c) = (
        T64::randn(&[4], 50),
        T64::randn(&[4, 4], 51),
        T64::randn(&[4], 52),
        T64::randn(&[3, 1], 53),
    );
    let (jx, jw, jb) = layer_jacrev(&x, &w, &b, &c);
    let (fx, fw, fb) = layer_jacfwd(&x, &w, &b, &c);
    close("layer jacrev == jacfwd x", &jx, &fx, 1e-13);
    close("layer jacrev == jacfwd w", &jw, &fw, 1e-13);
    close("layer jacrev == jacfwd b", &jb, &fb, 1e-13);
    // 4 inputs -> 12 outputs: forward mode; 20 -> 12: reverse mode.
    close(
        "layer jacobian x",
        &layer_jacobian(&x, &w, &b, &c),
        &jx,
        1e-13,
    );
    let (aw, ab) = layer_jacobian_wb(&x, &w, &b, &c);
    close("layer jacobian w", &aw, &jw, 1e-13);
    close("layer jacobian b", &ab, &jb, 1e-13);
    let (cx, cw, cb) = layer_jacrev_c5(&x, &w, &b, &c);
    close("layer chunked x", &cx, &jx, 1e-14);
    close("layer chunked w", &cw, &jw, 1e-14);
    close("layer chunked b", &cb, &jb, 1e-14);
    let (out, lin) = layer_linearize(&x, &w, &b, &c);
    close("layer linearize out", &out, &layer(&x, &w, &b, &c), 1e-14);
    for seed in 0..3 {
        let (tx, tw) = (T64::randn(&[4], 60 + seed), T64::randn(&[4, 4], 70 + seed));
        let (_, t0) = layer_jvp(&x, &w, &b, &c, &tx, &tw);
        close("layer linearize == jvp", &lin.call(&tx, &tw), &t0, 1e-14);
    }
    let xs = T64::randn(&[5, 4], 54);
    close(
        "layer vmap(jacrev) chunked",
        &layer_vmap_jacrev_c2(&xs, &w, &b, &c),
        &layer_vmap_jacrev(&xs, &w, &b, &c),
        1e-14,
    );
}
