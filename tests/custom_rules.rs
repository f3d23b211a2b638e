//! Custom derivative rules (JAX's custom_jvp / custom_vjp): the rule is
//! used wherever the function is called, under every transform and nesting.

mod common;

use common::*;
use transforms::prelude::*;

mod rules {
    use transforms::prelude::*;

    /// softplus with its JVP written by hand.
    #[custom_jvp(softplus_jvp)]
    pub fn softplus(x: &Tensor<f64>) -> Tensor<f64> {
        (x.exp() + 1.0).ln()
    }

    #[differentiable]
    pub fn softplus_jvp(x: &Tensor<f64>, t: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        ((x.exp() + 1.0).ln(), t * x.sigmoid())
    }

    /// The identity, whose derivative is declared to be `scale` (so the
    /// tests can tell the rule from the body).
    #[custom_jvp(half_rule)]
    pub fn scaled_identity(x: &Tensor<f64>, _scale: f64) -> Tensor<f64> {
        x * 1.0
    }

    /// The same, with transform attributes on the function itself, above
    /// and below the custom attribute: they use the rule too.
    #[custom_jvp(half_rule)]
    #[jacrev]
    #[vmap(jacfwd, in_dims = (0, None))]
    pub fn scaled_above(x: &Tensor<f64>, _scale: f64) -> Tensor<f64> {
        x * 1.0
    }

    #[jacfwd]
    #[hessian]
    #[custom_jvp(half_rule)]
    pub fn scaled_below(x: &Tensor<f64>, _scale: f64) -> Tensor<f64> {
        x * 1.0
    }

    #[differentiable]
    pub fn half_rule(x: &Tensor<f64>, scale: f64, t: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        (x * 1.0, t * scale)
    }

    /// sin with a VJP from residuals: linear backward rule, so forward
    /// mode is derived from it.
    #[custom_vjp(sin_fwd, sin_bwd)]
    pub fn my_sin(x: &Tensor<f64>) -> Tensor<f64> {
        x.sin()
    }

    #[differentiable]
    pub fn sin_fwd(x: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
        (x.sin(), x.cos())
    }

    #[differentiable]
    pub fn sin_bwd(cos_x: &Tensor<f64>, ct: &Tensor<f64>) -> Tensor<f64> {
        ct * cos_x
    }

    /// Gradient clipping: the identity whose cotangent is clamped to
    /// `[-c, c]` (a backward rule that is not linear: reverse mode only).
    #[custom_vjp(clip_fwd, clip_bwd)]
    pub fn clip_gradient(x: &Tensor<f64>, _c: f64) -> Tensor<f64> {
        x * 1.0
    }

    #[differentiable]
    pub fn clip_fwd(x: &Tensor<f64>, _c: f64) -> (Tensor<f64>, Tensor<f64>) {
        (x * 1.0, x * 0.0)
    }

    #[differentiable]
    pub fn clip_bwd(c: f64, _zero: &Tensor<f64>, ct: &Tensor<f64>) -> Tensor<f64> {
        ct.clamp(-c, c)
    }
}

use rules::*;

#[jacrev]
#[jacfwd]
#[hessian]
#[vjp]
#[vmap(jacrev)]
fn uses_softplus(x: &Tensor<f64>) -> Tensor<f64> {
    softplus(&(x * 2.0)) * x.tanh()
}

#[jacrev]
#[hessian]
fn automatic(x: &Tensor<f64>) -> Tensor<f64> {
    ((x * 2.0).exp() + 1.0).ln() * x.tanh()
}

#[test]
fn custom_jvp_matches_the_automatic_derivative() {
    let x = input(&[5], 1, false);
    close("value", &uses_softplus(&x), &automatic(&x), 1e-12);
    close(
        "jacrev",
        &uses_softplus_jacrev(&x),
        &automatic_jacrev(&x),
        1e-12,
    );
    close(
        "jacfwd",
        &uses_softplus_jacfwd(&x),
        &automatic_jacrev(&x),
        1e-12,
    );
    close(
        "hessian",
        &uses_softplus_hessian(&x),
        &automatic_hessian(&x),
        1e-10,
    );
    let t = input(&[5], 2, false);
    let ct = input(&[5], 3, false);
    let j = uses_softplus_jacrev(&x);
    let (_, pb) = uses_softplus_vjp(&x);
    assert!((dot(&ct, &jac_vec(&j, &[5], &t)) - dot(&pb.call(&ct), &t)).abs() < 1e-10);
    let xs = input(&[3, 5], 4, false);
    let bj = uses_softplus_vmap_jacrev(&xs);
    for i in 0..3 {
        close(
            "vmap row",
            &bj.select(0, i),
            &uses_softplus_jacrev(&xs.select(0, i)),
            1e-12,
        );
    }
}

#[jacrev]
#[jacfwd]
#[hessian]
fn uses_scaled(x: &Tensor<f64>) -> Tensor<f64> {
    scaled_identity(&x.sin(), 0.5).sum()
}

#[test]
fn the_rule_is_used_not_the_body() {
    let x = input(&[4], 5, false);
    let want = x.cos() * 0.5;
    close("jacrev", &uses_scaled_jacrev(&x), &want, 1e-12);
    close("jacfwd", &uses_scaled_jacfwd(&x), &want, 1e-12);
    // d/dx (0.5 cos x) on the diagonal.
    let h = uses_scaled_hessian(&x);
    for i in 0..4 {
        let hi = h.select(0, i).select(0, i).to_vec()[0];
        assert!((hi + 0.5 * x.to_vec()[i].sin()).abs() < 1e-12);
    }
    let t = transform!(jacrev(scaled_identity))(&x, 3.0);
    close("transform!", &t, &(Tensor::eye(4) * 3.0), 0.0);
}

#[jacrev]
#[jacfwd]
#[hessian]
#[vmap(grad)]
fn uses_my_sin(x: &Tensor<f64>) -> Tensor<f64> {
    (my_sin(x) * x).sum()
}

#[test]
fn custom_vjp_reverse_and_derived_forward() {
    let x = input(&[4], 6, false);
    // d/dx sum(x sin x) = sin x + x cos x; second derivative 2 cos x - x sin x.
    let g = x.sin() + &x * x.cos();
    close("jacrev", &uses_my_sin_jacrev(&x), &g, 1e-12);
    close("jacfwd (derived)", &uses_my_sin_jacfwd(&x), &g, 1e-12);
    let h = uses_my_sin_hessian(&x);
    for i in 0..4 {
        let xi = x.to_vec()[i];
        let hi = h.select(0, i).select(0, i).to_vec()[0];
        assert!(
            (hi - (2.0 * xi.cos() - xi * xi.sin())).abs() < 1e-10,
            "{hi}"
        );
    }
    let xs = input(&[3, 4], 7, false);
    let gs = uses_my_sin_vmap_grad(&xs);
    for i in 0..3 {
        close(
            "vmap(grad)",
            &gs.select(0, i),
            &uses_my_sin_jacrev(&xs.select(0, i)),
            1e-12,
        );
    }
}

#[jacrev]
#[vjp]
fn uses_clip(x: &Tensor<f64>) -> Tensor<f64> {
    clip_gradient(&(x * 3.0), 0.5).square().sum()
}

#[test]
fn custom_vjp_with_a_nonlinear_backward_rule() {
    let x = Tensor::from_shape_vec(&[3], vec![0.01f64, 0.2, -1.0]).unwrap();
    // ct of the clipped value is 2 * 3x, clamped to [-0.5, 0.5], then * 3.
    let want: Vec<f64> = x
        .to_vec()
        .iter()
        .map(|v| (6.0 * v).clamp(-0.5, 0.5) * 3.0)
        .collect();
    close(
        "grad",
        &uses_clip_jacrev(&x),
        &Tensor::from_shape_vec(&[3], want).unwrap(),
        1e-12,
    );
}

#[test]
fn transform_attributes_on_the_function_itself_use_the_rule() {
    let x = input(&[3], 8, false);
    let want = Tensor::<f64>::eye(3) * 0.25;
    close("jacrev above", &scaled_above_jacrev(&x, 0.25), &want, 0.0);
    close("jacfwd below", &scaled_below_jacfwd(&x, 0.25), &want, 0.0);
    let h = scaled_below_hessian(&x, 0.25);
    assert_eq!(h.shape(), &[3, 3, 3]);
    close("hessian below", &h, &Tensor::zeros(&[3, 3, 3]), 0.0);
    let xs = input(&[2, 3], 9, false);
    let v = scaled_above_vmap_jacfwd(&xs, 0.25);
    close("vmap(jacfwd) above", &v.select(0, 1), &want, 0.0);
}
