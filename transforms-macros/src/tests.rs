//! IR-level tests: every transform's output passes the verifier, after
//! every pass and for every nesting tried, and the printer is stable.

use syn::parse_quote;

use crate::errors::Errors;
use crate::ir::{Func, print, verify};
use crate::lower::lower;
use crate::opt;
use crate::transforms::{jac, jvp, vmap};

fn lowered(item: syn::ItemFn) -> Func {
    let mut errs = Errors::default();
    let l = lower(&item, &crate::handoff::State::default(), &mut errs);
    assert!(errs.is_empty(), "lowering failed");
    l.expect("lowered").func
}

fn predict() -> Func {
    lowered(parse_quote! {
        fn predict(weight: &Tensor, bias: &Tensor, x: &Tensor) -> Tensor {
            linear(x, weight, bias).tanh()
        }
    })
}

fn energy() -> Func {
    lowered(parse_quote! {
        fn energy(x: &Tensor<f64>, m: &Tensor<f64>, s: f64) -> Tensor<f64> {
            let q = x.matmul(m).matmul(x);
            (q * s + (x * x).sum().sin()).exp()
        }
    })
}

fn vocabulary() -> Func {
    lowered(parse_quote! {
        fn vocab(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
            let h = w.matmul(x);
            let c = cat(&[&h, x], 0);
            let m = maximum(&c, &(c.abs().exp2() * 0.5)) + minimum(&c, &c.log1p());
            let s = where_(&x.gt(0.0), &x.clamp(-1.0, 1.0), &w.max_dim(-1).narrow(0, 1, 3));
            let y = stack(&[&s, &x.le(&s)], -1).index_select(0, &[2, 0, 2]);
            m.softmax(0).sum() + y.log_softmax(-1).sum() + y.logsumexp(0).sum() + w.norm()
        }
    })
}

/// Loops (nested, reversed), branches on scalars, a tuple-valued `if`.
fn programs() -> Func {
    lowered(parse_quote! {
        fn program(x: &Tensor<f64>, w: &Tensor<f64>, n: usize, c: f64) -> Tensor<f64> {
            let mut h = x.clone();
            let mut acc = x * 0.0;
            for i in (0..n).rev() {
                h = w.matmul(&h).tanh() * (i as f64 + 1.0);
                for _ in 0..2 {
                    acc = acc + h.sin();
                }
                if c > 0.0 && i < 3 {
                    acc = acc * c;
                }
            }
            let (a, b) = if n > 2 { (h.exp(), acc.clone()) } else { (acc.clone(), h.clone()) };
            (a * b).sum()
        }
    })
}

#[track_caller]
fn checked(f: Func) -> Func {
    verify::func(&f).unwrap_or_else(|e| panic!("{e}\n{}", print::func(&f)));
    let mut g = f.clone();
    opt::optimize(&mut g.eqns, &mut g.outs);
    verify::func(&g).unwrap_or_else(|e| panic!("after optimize: {e}\n{}", print::func(&g)));
    g
}

#[test]
fn printer_is_stable() {
    let f = predict();
    assert_eq!(
        print::func(&f),
        "fn(weight: %0, bias: %1, x: %2) {\n  %3 = t(%0)\n  %4 = matmul(%2, %3)\n  %5 = add(%4, %1)\n  %6 = tanh(%5)\n  return %6\n}\n"
    );
    let g = checked(jvp::jvp(&f, &[2]));
    assert_eq!(print::func(&g), print::func(&checked(jvp::jvp(&f, &[2]))));
    assert!(
        print::func(&g).contains("x_tangent: %7"),
        "{}",
        print::func(&g)
    );
}

#[test]
fn every_transform_and_nesting_verifies() {
    for f in [predict(), energy(), vocabulary(), programs()] {
        let first = checked(jvp::jvp(&f, &[0, 1]));
        let _ = checked(jac::jacrev(&f, &[0, 1], true).unwrap());
        let jf = checked(jac::jacfwd(&f, &[1], false).unwrap());
        let h = checked(jac::hessian(&f, &[0], false).unwrap());
        let dims: Vec<Option<isize>> = f.params.iter().map(|p| p.var().map(|_| 0)).collect();
        let v = checked(vmap::vmap(&h, &dims, 0));
        let _ = checked(vmap::vmap(&v, &dims, 1));
        let _ = checked(jac::jacrev(&jf, &[0], false).unwrap());
        let _ = checked(jac::jacrev(&first, &[0], false).unwrap());
        let parts = jac::vjp(&v, &[0]).unwrap();
        let params: std::collections::HashSet<_> = parts
            .forward
            .params
            .iter()
            .filter_map(|p| p.var())
            .collect();
        verify::body(
            &parts.forward.eqns,
            &parts.forward.outs,
            params,
            parts.forward.next_var,
        )
        .unwrap();
        let mut inputs: std::collections::HashSet<_> = parts.residuals.iter().copied().collect();
        inputs.extend(parts.cts.iter().copied());
        verify::body(
            &parts.pullback.eqns,
            &parts.pullback.outs,
            inputs.clone(),
            parts.forward.next_var,
        )
        .unwrap();
        verify::body(
            &parts.pullback_batched.eqns,
            &parts.pullback_batched.outs,
            inputs,
            parts.forward.next_var,
        )
        .unwrap();
    }
}

fn with_aux() -> Func {
    lowered(parse_quote! {
        fn f(x: &Tensor, w: &Tensor) -> (Tensor, (Tensor, Tensor)) {
            let h = x.matmul(w);
            (h.tanh().sum(), (h.clone(), w.exp()))
        }
    })
}

#[test]
fn aux_value_and_grad_linearize_and_chunks_verify() {
    use crate::transforms::{Body, aux};
    let f = with_aux();
    let (main, a) = aux::split(&f).expect("a pair");
    assert_eq!((main.outs.len(), a.vars.len()), (1, 2));
    let g = checked(aux::attach(
        jac::grad(&main, &[1], false).unwrap(),
        &a,
        aux::pair,
    ));
    assert_eq!(g.outs.len(), 3);
    let _ = checked(aux::attach(
        jac::value_and_grad(&main, &[0, 1], true).unwrap(),
        &a,
        aux::with_value,
    ));
    let _ = checked(aux::attach(jvp::jvp(&main, &[0]), &a, aux::append));
    let _ = checked(aux::attach(
        jac::hessian(&main, &[1], false).unwrap(),
        &a,
        aux::pair,
    ));
    assert!(aux::split(&predict()).is_none());
    // The bodies of linearize and chunked jacrev read only their inputs and residuals.
    let check_body =
        |body: &Body, inputs: &[crate::ir::Var], residuals: &[crate::ir::Var], next| {
            let mut known: std::collections::HashSet<_> = residuals.iter().copied().collect();
            known.extend(inputs.iter().copied());
            verify::body(&body.eqns, &body.outs, known, next).unwrap();
        };
    for f in [predict(), energy(), main] {
        let parts = jvp::linearize_parts(&f, &[0]);
        let n = parts.forward.next_var;
        check_body(&parts.linear, &parts.tangents, &parts.residuals, n);
        assert_eq!(
            parts.forward.outs.len(),
            parts.n_outs + parts.residuals.len()
        );
        let ch = jac::jacrev_chunks(&f, &[0]).unwrap();
        for (ct, body) in &ch.per_out {
            check_body(body, &[*ct], &ch.residuals, ch.forward.next_var);
        }
    }
}

#[test]
fn symbolic_zeros_prune_unused_inputs() {
    // The derivative in `bias` of a function that ignores `weight` has no
    // matmul transpose in it: zeros never reach the emitted program.
    let f = lowered(parse_quote! {
        fn f(weight: &Tensor, bias: &Tensor) -> Tensor { (bias * 2.0).sum() + weight.sum() * 0.0 }
    });
    let g = checked(jac::grad(&f, &[1], false).unwrap());
    let text = print::func(&g);
    assert!(!text.contains("zeros_like"), "{text}");
    let g0 = checked(
        jac::grad(
            &lowered(parse_quote! { fn f(a: &Tensor, b: &Tensor) -> Tensor { b.sum() } }),
            &[0],
            false,
        )
        .unwrap(),
    );
    assert!(print::func(&g0).contains("zeros_like"));
}

#[test]
fn the_macro_never_panics() {
    use crate::expand::expand;
    use crate::spec::Kind;
    let attrs = [
        "",
        "argnums",
        "argnums =",
        "argnums = ,",
        ",,",
        "argnums = 0,, name = g",
        "jacrev(jacrev(jacrev))",
        "vmap(vjp)",
        "in_dims = (None,)",
        "in_dims = (None, None, None, None)",
        "name = 3",
        "argnums = 99999999999999999999",
        "argnums = -1",
        "argnums = ()",
        "hessian(argnums = (0, 1)), argnums = (0, 1)",
        "out_dims = -7",
        "foo(bar)",
        "grad(grad(grad))",
        "jvp(jvp(argnums = (0, 1)), argnums = (1, 2, 3))",
        "has_aux = true",
        "has_aux = maybe",
        "has_aux",
        "grad(has_aux = true), has_aux = true",
        "chunk_size = 0",
        "chunk_size = 3",
        "chunk_size = -3",
        "chunk_size = 99999999999999999999999",
        "jacrev(chunk_size = 2)",
        "vmap(linearize)",
        "jacobian(jacobian)",
        "value_and_grad(has_aux = true), has_aux = true",
    ];
    let items = [
        "fn f(x: &Tensor, y: &Tensor) -> Tensor { x * y }",
        "fn f(x: &Tensor, y: &Tensor) -> (Tensor, Tensor) { (x.sum(), y.tanh()) }",
        "fn f(s: f32, x: &Tensor) -> Tensor { if s > 0.0 { x.exp() } else { x.ln() } }",
        "fn f() -> Tensor { 1.0 }",
        "fn f(x: &Tensor) { }",
        "fn f(x: &Tensor) -> Tensor { return; }",
        "fn f(x: &Tensor) -> Tensor { x.reshape(x) + x.sum_dim(x) + x.powf(x) }",
        "fn f(x: &Tensor) -> Tensor { let (a, b) = x; a }",
        "fn f<T>(x: &Tensor<T>) -> Tensor<T> { x.clone() }",
        "struct NotAFunction;",
        "fn f(x: &Tensor) -> Tensor { 2.0 / (1.0 - x) * 3 % x }",
        "fn f(x: &Tensor) -> (Tensor, (Tensor, Tensor)) { (x.sum(), (x.exp(), x.sin())) }",
        "fn f(x: &Tensor) -> (Tensor, (Tensor, Tensor)) { (x.sum(), x.exp()) }",
        "fn f(x: &Tensor) -> ((Tensor,), Tensor) { ((x.sum(),), 1.0) }",
        "fn f(x: &Tensor) -> Tensor { cat(x, 0) + stack(&[], x) + cat(&[x, 1.0], 0) + cat(&[x]) }",
        "fn f(x: &Tensor) -> Tensor { x.index_select(0, x) + x.index_select(x, &[-1, x]) + x.narrow(0) }",
        "fn f(x: &Tensor) -> Tensor { where_(x) + maximum(x, 1.0) + x.gt((x, x)) + x.clamp(x, 1.0) }",
        "fn f(x: &Tensor) -> Tensor { x.softmax() + x.norm(0) + x.max_dim(x) + x.logsumexp(0, 1) }",
        "fn f(x: &Tensor) -> Tensor { where_(&x.gt(x), x, x).softmax(-1).narrow(0, -1, 1) }",
        "fn f(x: &Tensor, n: usize) -> Tensor { let mut y = x.clone(); for i in 0..n { y = y * i; } y }",
        "fn f(x: &Tensor, n: usize) -> Tensor { let mut y = x.clone(); for i in x { y = 1.0; } for (a, b) in 0.. { n = 2; } y }",
        "fn f(x: &Tensor, n: usize) -> Tensor { let mut y = x.clone(); for _ in (0..=n).rev() { if n > 1 { y = (y, y); } } y }",
        "fn f(x: &Tensor, c: f32) -> Tensor { if x { x } else if c { (x, x) } else { 1.0 } }",
        "fn f(x: &Tensor, c: f32) -> Tensor { let y = if c < 0.0 && !(c > 1.0) { x.sin() }; y }",
        "fn f(x: &Tensor) -> Tensor { g(x) + h::k::<f32>(x, x) + ::m(x) }",
        "fn f(x: &Tensor) -> Tensor { let mut y = x.clone(); y.0 = x; y += x; y }",
    ];
    for kind in [
        Kind::Grad,
        Kind::Vjp,
        Kind::Jvp,
        Kind::Jacrev,
        Kind::Jacfwd,
        Kind::Hessian,
        Kind::Vmap,
        Kind::ValueAndGrad,
        Kind::Jacobian,
        Kind::Linearize,
    ] {
        for attr in attrs {
            for item in items {
                let (a, i) = (attr.parse().unwrap(), item.parse().unwrap());
                let out = expand(kind, a, i);
                assert!(!out.is_empty(), "{attr} / {item}");
            }
        }
    }
    // `#[differentiable]`, the custom rules, `transform!` and hand-offs.
    for item in items {
        for (custom, attr) in [
            (None, ""),
            (None, "x"),
            (Some("custom_jvp"), "rule"),
            (Some("custom_jvp"), ""),
            (Some("custom_vjp"), "a, b, c"),
            (Some("custom_vjp"), "a::b, c"),
        ] {
            let out =
                crate::differentiable::expand(attr.parse().unwrap(), item.parse().unwrap(), custom);
            assert!(!out.is_empty(), "{attr} / {item}");
        }
    }
    for input in [
        "",
        "jacrev",
        "jacrev(f)",
        "jacrev()",
        "vmap(jacrev(f, argnums = 2), in_dims = (None, 0))",
        "vmap(jacrev(1 + 2))",
        "nope(f)",
        "grad(f, argnums = x)",
    ] {
        assert!(
            !crate::call::expand(input.parse().unwrap()).is_empty(),
            "{input}"
        );
    }
    for input in [
        "",
        "[] resolving \"f\" defs {} map {} job { attr grad () { fn f() {} } }",
        "[u { fn f(x: &Tensor) -> Tensor { x.sin() } }] resolving \"f\" defs {} map {} job { attr jacrev () { fn g(x: &Tensor) -> Tensor { f(x) } } }",
        "[u { fn f(x: &Tensor) -> Tensor { x.sin() } }] resolving \"f\" defs {} map {} job { transform jacrev () (f) }",
        "[u { struct S; }] resolving \"f\" defs {} map {} job { differentiable { fn g() {} } }",
    ] {
        assert!(
            !crate::handoff::resume(input.parse().unwrap()).is_empty(),
            "{input}"
        );
    }
}

/// The emitted statements of `f` after optimisation.
fn emitted(mut f: Func) -> String {
    opt::optimize(&mut f.eqns, &mut f.outs);
    let mut env = std::collections::HashMap::new();
    for (i, p) in f.params.iter().enumerate() {
        if let Some(v) = p.var() {
            let name = quote::format_ident!("p{i}");
            env.insert(v, crate::codegen::Operand::Ref(quote::quote!(#name)));
        }
    }
    crate::codegen::stmts(&f.eqns, &f.outs, &mut env).to_string()
}

#[test]
fn a_hessian_writes_its_layout_in_the_product() {
    // With one argnum, the inner Jacobian's product writes the Hessian's
    // layout itself: no movedim copy is left.
    let h = emitted(jac::hessian(&predict(), &[2], false).unwrap());
    assert!(h.contains("diag_matmul_ta_swapped"), "{h}");
    assert!(!h.contains("movedim"), "{h}");
    // Under vmap too (the user's batch dim leads).
    let dims = [None, None, Some(0)];
    let vh = emitted(vmap::vmap(
        &jac::hessian(&predict(), &[2], false).unwrap(),
        &dims,
        0,
    ));
    assert!(vh.contains("diag_matmul_ta_swapped"), "{vh}");
    assert!(!vh.contains("movedim"), "{vh}");
    // jacfwd(jacrev(..)) keeps jacfwd's layout: its move is a real copy.
    let inner = jac::jacrev(&predict(), &[2], false).unwrap();
    let ff = emitted(jac::jacfwd(&inner, &[2], false).unwrap());
    assert!(!ff.contains("diag_matmul_ta_swapped"), "{ff}");
    assert!(ff.contains("movedim"), "{ff}");
}

#[test]
fn a_layer_jacfwd_is_written_transposed_in_one_pass() {
    // jacfwd of a layer and its activation: the seed product, the
    // elementwise chain and the final move are one call.
    let f = emitted(jac::jacfwd(&predict(), &[2], false).unwrap());
    assert!(f.contains("diag_matmul_map_last"), "{f}");
    assert!(!f.contains("movedim"), "{f}");
    assert!(!f.contains("diag_matmul ("), "{f}");
    // Under vmap too (the kernel takes the separate ops' path there).
    let dims = [None, None, Some(0)];
    let v = emitted(vmap::vmap(
        &jac::jacfwd(&predict(), &[2], false).unwrap(),
        &dims,
        0,
    ));
    assert!(v.contains("diag_matmul_map_last"), "{v}");
}

#[test]
fn a_chain_with_runtime_scalars_passes_them_to_its_cuda_form() {
    // The scalar parameters become the CUDA kernel's `sc<k>` arguments, the
    // same expressions the CPU closure captures.
    let f = lowered(parse_quote! {
        fn g(x: &Tensor<f64>, c: f64) -> Tensor<f64> {
            (x * c).tanh() + 2.0
        }
    });
    let code = emitted(f);
    assert!(code.contains("fused1_src"), "{code}");
    assert!(
        code.contains("\"t_add_scalar(t_tanh(t_mul_scalar(x0, sc0)), T(2.0))\""),
        "{code}"
    );
    assert!(code.contains("& [(c)]"), "{code}");
    // A chain of constants only passes none.
    let code = emitted(predict());
    assert!(code.contains("& []"), "{code}");
}

#[test]
fn a_layer_jacobian_is_one_call() {
    // jacrev of a layer and its activation: the product, the chain to the
    // activation's derivative and the seed product are one call, with the
    // separate ops as its fallback. The shape ops after it (reshaping the
    // Jacobian like the primal output) are identities on the fast path, so
    // only the fallback runs them, and the call returns the Jacobian
    // alone: no primal output to build for its shape.
    let fast_only = |code: &str, shape_ops: &[&str]| {
        let fallback = code.find("Option :: None");
        assert!(code.contains("ops :: dense_jac"), "{code}");
        assert!(code.contains(", [])) => ("), "{code}");
        for op in shape_ops {
            let at = code.find(&format!("ops :: {op} ("));
            assert!(at.is_some() && fallback < at, "{op}: {code}");
        }
    };
    let r = emitted(jac::jacrev(&predict(), &[2], false).unwrap());
    assert!(r.contains("ops :: matmul_t"), "{r}");
    fast_only(&r, &["reshape", "expand_dim0_like", "unflatten_like"]);
    // Under vmap too, with the batch's own `expand_dim0_like`.
    let dims = [None, None, Some(0)];
    let inner = jac::jacrev(&predict(), &[2], false).unwrap();
    let v = emitted(vmap::vmap(&inner, &dims, 0));
    fast_only(&v, &["reshape", "expand_dim0_like", "unflatten_like"]);
    assert_eq!(v.matches("ops :: expand_dim0_like (").count(), 2, "{v}");
    // jacfwd's form of the same layer: one call. Its seed, ones shaped
    // like `x`, needs no check, and only the fallback builds it (with the
    // fallback's other operands, such as `reshape(x, [-1])`).
    let f = emitted(jac::jacfwd(&predict(), &[2], false).unwrap());
    assert!(f.contains("ops :: dense_jac ("), "{f}");
    assert!(!f.contains("dense_jac_fwd"), "{f}");
    assert!(f.contains("ops :: diag_matmul_map_last"), "{f}");
    let (call, seed, flat) = (
        f.find("ops :: dense_jac ("),
        f.find("ops :: zeros_like"),
        f.find("ops :: reshape"),
    );
    assert!(call.is_some() && call < seed && call < flat, "{f}");
    // A layer's Hessian is one call of its own (`dense_hess`), batched too.
    let h = emitted(jac::hessian(&predict(), &[2], false).unwrap());
    assert!(!h.contains("dense_jac"), "{h}");
    assert!(h.contains("ops :: dense_hess"), "{h}");
    let inner = jac::hessian(&predict(), &[2], false).unwrap();
    let vh = emitted(vmap::vmap(&inner, &dims, 0));
    assert!(vh.contains("ops :: dense_hess"), "{vh}");
    // Hessians of other functions keep the separate products.
    let e = emitted(jac::hessian(&energy(), &[0], false).unwrap());
    assert!(!e.contains("dense_hess"), "{e}");
    // A scaled activation: the cotangent seed's zeros meet the chain.
    let g = lowered(parse_quote! {
        fn g(w: &Tensor, b: &Tensor, x: &Tensor) -> Tensor {
            linear(x, w, b).relu() * 1.5
        }
    });
    let r = emitted(jac::jacrev(&g, &[2], false).unwrap());
    assert!(r.contains("ops :: dense_jac"), "{r}");
    assert!(r.contains("elem :: zero_like"), "{r}");
    // Seeds that stay one structured seed, so each layer is one call:
    // - an activation whose derivative is two factors (softplus): the
    //   second meets a seed summed to the first's shape, and scales it;
    // - an output that reads a chain value twice (`a * a + h * 0.5`): the
    //   two branches' seeds, summed to `a * a` and to `h * 0.5` (each of
    //   `h`'s shape), meet in an add;
    // - swish, `h * sigmoid(h)`: a product of two values of `h`'s shape.
    let layers: [syn::ItemFn; 3] = [
        parse_quote! {
            fn g(w: &Tensor, b: &Tensor, x: &Tensor) -> Tensor {
                linear(x, w, b).exp().log1p()
            }
        },
        parse_quote! {
            fn g(w: &Tensor, b: &Tensor, x: &Tensor) -> Tensor {
                let h = linear(x, w, b);
                let a = h.tanh();
                &a * &a + &h * 0.5
            }
        },
        parse_quote! {
            fn g(w: &Tensor, b: &Tensor, x: &Tensor) -> Tensor {
                let h = linear(x, w, b);
                &h * h.sigmoid()
            }
        },
    ];
    for item in layers {
        let r = emitted(jac::jacrev(&lowered(item), &[2], false).unwrap());
        assert!(r.contains("ops :: dense_jac"), "{r}");
        assert!(!r.contains("ops :: diag ("), "{r}");
    }
    // GELU's tanh form: a chain of 28 equations, still one call.
    let g = lowered(parse_quote! {
        fn g(w: &Tensor, b: &Tensor, x: &Tensor) -> Tensor {
            let h = linear(x, w, b);
            &h * 0.5 * ((&h + &h * &h * &h * 0.044715) * 0.79788456).tanh() + &h * 0.5
        }
    });
    let r = emitted(jac::jacrev(&g, &[2], false).unwrap());
    assert!(r.contains("ops :: dense_jac"), "{r}");
    // A layer without an activation: the scales are the seed's (constant
    // rows), still one call.
    let g = lowered(parse_quote! {
        fn g(w: &Tensor, b: &Tensor, x: &Tensor) -> Tensor {
            linear(x, w, b) * 2.0
        }
    });
    let s = emitted(jac::jacrev(&g, &[2], false).unwrap());
    assert!(s.contains("ops :: dense_jac"), "{s}");
    // A matrix read as stored (`x @ w`, not a layer's `x @ t(w)`): its
    // rows are not the Jacobian's, no group.
    let g = lowered(parse_quote! {
        fn g(w: &Tensor, x: &Tensor) -> Tensor {
            x.matmul(w).tanh()
        }
    });
    let s = emitted(jac::jacrev(&g, &[1], false).unwrap());
    assert!(s.contains("diag_matmul_ta"), "{s}");
    assert!(!s.contains("dense_jac"), "{s}");
}

#[test]
fn a_chain_writes_over_a_temporary_only_it_reads() {
    // `h` (a product) is read by the chain alone: the chain reuses it,
    // passed by value, the reused leaf first.
    let f = lowered(parse_quote! {
        fn g(x: &Tensor, m: &Tensor, c: &Tensor) -> Tensor {
            let h = x.matmul(m);
            (c * 2.0 + h).tanh()
        }
    });
    let code = emitted(f);
    assert!(code.contains("fused2_reusing (v"), "{code}");
    assert!(!code.contains("fused2_src"), "{code}");
    // The CUDA C names the reused leaf `x0`, as the closure does.
    assert!(code.contains("| x0 , x1 | "), "{code}");
    assert!(
        code.contains("t_tanh(t_add(t_mul_scalar(x1, T(2.0)), x0))"),
        "{code}"
    );
    // Read again (by the output's sum): borrowed. (The sum, read by the
    // chain alone, may be reused; the runtime declines it, of another
    // shape than the result.)
    let code = emitted(lowered(parse_quote! {
        fn g(x: &Tensor, m: &Tensor) -> Tensor {
            let h = x.matmul(m);
            (h * 2.0).tanh() + h.sum()
        }
    }));
    assert!(code.contains("matmul (p0 , p1 , 0)"), "{code}");
    assert!(code.contains("& v2"), "{code}");
    assert!(!code.contains("reusing (v2"), "{code}");
    // A parameter, or an output: borrowed, and a new result.
    for f in [
        lowered(parse_quote! {
            fn g(x: &Tensor) -> Tensor {
                (x * 2.0).tanh()
            }
        }),
        lowered(parse_quote! {
            fn g(x: &Tensor, m: &Tensor) -> (Tensor, Tensor) {
                let h = x.matmul(m);
                ((h * 2.0).tanh(), h)
            }
        }),
    ] {
        let code = emitted(f);
        assert!(!code.contains("reusing"), "{code}");
    }
}

#[test]
fn a_matrix_times_the_input_keeps_the_seed() {
    // `a.matmul(x)`: the seed meets the product on its right, in both modes.
    let f = lowered(parse_quote! {
        fn g(a: &Tensor, x: &Tensor) -> Tensor {
            a.matmul(x).tanh()
        }
    });
    let r = emitted(jac::jacrev(&f, &[1], false).unwrap());
    assert!(r.contains("ops :: diag_matmul_tb ("), "{r}");
    assert!(!r.contains("ops :: diag ("), "{r}");
    // jacfwd's product, its chain and final move are one pass
    // (`diag_matmul_map_last` of the seed on the right).
    let fw = emitted(jac::jacfwd(&f, &[1], false).unwrap());
    assert!(fw.contains("ops :: diag_matmul_map_last ("), "{fw}");
    assert!(fw.contains("right : true"), "{fw}");
    assert!(!fw.contains("ops :: movedim"), "{fw}");
    assert!(!fw.contains("ops :: diag ("), "{fw}");
}

#[test]
fn temporaries_are_dropped_after_their_last_read() {
    // A Hessian's many temporaries: each is dropped once nothing names it
    // any more (not at the end of the function), never one moved into a
    // call, an output, or a value a live reference borrows.
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    for f in [
        jac::hessian(&energy(), &[0], false).unwrap(),
        jac::jacrev(&predict(), &[2], false).unwrap(),
    ] {
        let outs: Vec<String> = f.outs.iter().map(|v| format!("v{}", v.0)).collect();
        let code = emitted(f);
        let w = words(&code);
        let drops: Vec<(usize, &String)> = w
            .windows(4)
            .enumerate()
            .filter(|(_, q)| q[0] == "core" && q[1] == "mem" && q[2] == "drop")
            .map(|(i, q)| (i + 3, &q[3]))
            .collect();
        assert!(drops.len() >= 3, "{code}");
        for (at, v) in drops {
            assert!(!w[at + 1..].contains(v), "{v} named after its drop: {code}");
            assert!(!outs.contains(v), "output {v} dropped: {code}");
            assert!(
                !code.contains(&format!("_reusing ({v} ")),
                "{v} moved: {code}"
            );
        }
    }
}
