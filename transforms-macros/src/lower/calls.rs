//! Lowering of method calls and of the free functions `linear` and `matmul`
//! (the rest of the vocabulary is in `extra.rs`).

use proc_macro2::Span;
use quote::{ToTokens, quote};
use syn::Expr;
use syn::spanned::Spanned;

use std::collections::HashMap;

use super::{FUNCTIONS, Lower, METHODS, Val, is_tensor};
use crate::ir::{Scalar, Var};
use crate::prims::{Binary, Layout, Matmul, Prim, Reduce, ReduceOp, Unary, WithScalar};

fn unary(name: &str) -> Option<Unary> {
    Unary::ALL
        .into_iter()
        .find(|u| u.name() == name && !u.is_internal())
}

impl Lower<'_> {
    pub(super) fn arity(
        &mut self,
        span: Span,
        name: &str,
        args: &[&Expr],
        n: usize,
        what: &str,
    ) -> bool {
        if args.len() == n {
            return true;
        }
        self.err(
            span,
            format!("`{name}` takes {what}, found {} argument(s)", args.len()),
        );
        false
    }

    pub(super) fn method(&mut self, m: &syn::ExprMethodCall) -> Val {
        let name = m.method.to_string();
        let span = m.method.span();
        let args: Vec<&Expr> = m.args.iter().collect();
        let recv = match self.expr(&m.receiver) {
            Val::Tensor(v) => v,
            Val::Scalar(s) => return self.scalar_method(s, m),
            Val::Error => return Val::Error,
            Val::Tuple(_) => {
                return self.err(m.receiver.span(), "methods on tuples are not supported");
            }
        };
        if let Some(v) = self.extra_method(m, &name, recv, &args) {
            return v;
        }
        if let Some(u) = unary(&name) {
            if !self.arity(span, &name, &args, 0, "no arguments") {
                return Val::Error;
            }
            return self.emit(m.span(), Prim::Unary(u), &[recv]);
        }
        let prim = match name.as_str() {
            "clone" => {
                return if self.arity(span, &name, &args, 0, "no arguments") {
                    Val::Tensor(recv)
                } else {
                    Val::Error
                };
            }
            "powf" => {
                if !self.arity(span, &name, &args, 1, "1 argument (the exponent)") {
                    return Val::Error;
                }
                let Some(c) = self.scalar(args[0]) else {
                    return Val::Error;
                };
                Prim::WithScalar(WithScalar::Powf(c))
            }
            "sum" | "mean" | "sum_dim" | "mean_dim" => {
                let op = if name.starts_with("sum") {
                    ReduceOp::Sum
                } else {
                    ReduceOp::Mean
                };
                let dim = if name.ends_with("_dim") {
                    if !self.arity(span, &name, &args, 1, "1 argument (the dim)") {
                        return Val::Error;
                    }
                    let Some(d) = self.scalar(args[0]) else {
                        return Val::Error;
                    };
                    Some(d)
                } else {
                    if !self.arity(
                        span,
                        &name,
                        &args,
                        0,
                        &format!("no arguments (use `{name}_dim(d)` for one dim)"),
                    ) {
                        return Val::Error;
                    }
                    None
                };
                Prim::Reduce(Reduce {
                    op,
                    dim,
                    transposed: false,
                })
            }
            "t" => {
                if !self.arity(span, &name, &args, 0, "no arguments") {
                    return Val::Error;
                }
                Prim::Layout(Layout::T)
            }
            "transpose" => {
                if !self.arity(span, &name, &args, 2, "2 arguments (the dims)") {
                    return Val::Error;
                }
                let (Some(a), Some(b)) = (self.scalar(args[0]), self.scalar(args[1])) else {
                    return Val::Error;
                };
                Prim::Layout(Layout::Transpose(a, b))
            }
            "unsqueeze" => {
                if !self.arity(span, &name, &args, 1, "1 argument (the dim)") {
                    return Val::Error;
                }
                let Some(d) = self.scalar(args[0]) else {
                    return Val::Error;
                };
                Prim::Layout(Layout::Unsqueeze(d))
            }
            "reshape" => {
                if !self.arity(span, &name, &args, 1, "1 argument (the shape, `&[..]`)") {
                    return Val::Error;
                }
                let Some(shape) = self.shape(args[0]) else {
                    return Val::Error;
                };
                Prim::Layout(Layout::Reshape(shape))
            }
            "matmul" => {
                if !self.arity(span, &name, &args, 1, "1 argument (the right-hand tensor)") {
                    return Val::Error;
                }
                let Some(b) = self.tensor(args[0]) else {
                    return Val::Error;
                };
                return self.emit(m.span(), Prim::Matmul(Matmul::Mm), &[recv, b]);
            }
            _ => {
                return self.err(
                    span,
                    format!("unsupported tensor method `{name}`; supported methods: {METHODS}"),
                );
            }
        };
        self.emit(m.span(), prim, &[recv])
    }

    /// A method on a scalar stays a Rust scalar expression.
    fn scalar_method(&mut self, recv: Scalar, m: &syn::ExprMethodCall) -> Val {
        let mut args = Vec::new();
        for a in &m.args {
            match self.expr(a) {
                Val::Scalar(s) => args.push(s.tokens()),
                Val::Error => return Val::Error,
                _ => return self.err(a.span(), "a method on a scalar takes scalar arguments"),
            }
        }
        let (r, method) = (recv.tokens(), &m.method);
        Val::Scalar(Scalar::expr(quote!(#r.#method(#(#args),*))))
    }

    /// `&[a, b, ..]` of integers.
    fn shape(&mut self, e: &Expr) -> Option<Vec<Scalar>> {
        let e = match e {
            Expr::Reference(r) => &*r.expr,
            other => other,
        };
        let Expr::Array(arr) = e else {
            self.err(
                e.span(),
                "`reshape` takes an array literal such as `&[2, -1]`",
            );
            return None;
        };
        arr.elems.iter().map(|d| self.scalar(d)).collect()
    }

    pub(super) fn call(&mut self, c: &syn::ExprCall) -> Val {
        let Expr::Path(p) = &*c.func else {
            return self.err(
                c.func.span(),
                format!("only calls to named functions are supported: {FUNCTIONS}"),
            );
        };
        let name = p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let args: Vec<&Expr> = c.args.iter().collect();
        let span = c.span();
        match name.as_str() {
            "linear" => {
                if !self.arity(p.span(), &name, &args, 3, "3 arguments (x, weight, bias)") {
                    return Val::Error;
                }
                let ins: Vec<Option<Var>> = args.iter().map(|a| self.tensor(a)).collect();
                let [Some(x), Some(w), Some(b)] = ins[..] else {
                    return Val::Error;
                };
                let wt = self.emit_var(span, Prim::Layout(Layout::T), &[w]);
                let xw = self.emit_var(span, Prim::Matmul(Matmul::Mm), &[x, wt]);
                self.emit(span, Prim::Binary(Binary::Add), &[xw, b])
            }
            "matmul" => {
                if !self.arity(p.span(), &name, &args, 2, "2 arguments") {
                    return Val::Error;
                }
                let (a, b) = (self.tensor(args[0]), self.tensor(args[1]));
                let (Some(a), Some(b)) = (a, b) else {
                    return Val::Error;
                };
                self.emit(span, Prim::Matmul(Matmul::Mm), &[a, b])
            }
            other => {
                if let Some(v) = self.extra_call(c, other, &args) {
                    return v;
                }
                match self.defs.get(other) {
                    Some(def) if p.path.get_ident().is_some() => {
                        let def = def.clone();
                        self.inline(&def, other, &args, span)
                    }
                    _ => self.err(
                        p.span(),
                        format!(
                            "call to `{}` is not supported: a transformed function may call {FUNCTIONS}, \
                             and `#[differentiable]` functions (and tensor methods: {METHODS})",
                            p.path.to_token_stream()
                        ),
                    ),
                }
            }
        }
    }

    /// Inlines a call to a differentiable function: its parameters bound to
    /// the arguments, its body lowered in a scope of its own.
    fn inline(&mut self, def: &syn::ItemFn, unique: &str, args: &[&Expr], span: Span) -> Val {
        let name = &def.sig.ident;
        if self.inlining.iter().any(|u| u == unique) || self.inlining.len() > 64 {
            return self.err(
                span,
                format!("`{name}` calls itself (directly or through other functions): recursion cannot be inlined"),
            );
        }
        let params: Vec<&syn::PatType> = def
            .sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(pt) => Some(pt),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        if params.len() != args.len() {
            return self.err(
                span,
                format!(
                    "`{name}` takes {} argument(s), found {}",
                    params.len(),
                    args.len()
                ),
            );
        }
        let mut scope = HashMap::new();
        let mut ok = true;
        for (pt, arg) in params.iter().zip(args) {
            let syn::Pat::Ident(pi) = &*pt.pat else {
                return self.err(
                    span,
                    format!("`{name}` has a parameter pattern that cannot be inlined"),
                );
            };
            let want_tensor = matches!(&*pt.ty, syn::Type::Reference(r) if is_tensor(&r.elem));
            let v = self.expr(arg);
            match (&v, want_tensor) {
                (Val::Tensor(_), true) | (Val::Scalar(_), false) => {}
                (Val::Error, _) => ok = false,
                (_, true) => {
                    self.err(
                        arg.span(),
                        format!("`{name}` expects a tensor for `{}`", pi.ident),
                    );
                    ok = false;
                }
                (_, false) => {
                    self.err(
                        arg.span(),
                        format!("`{name}` expects a scalar for `{}`", pi.ident),
                    );
                    ok = false;
                }
            }
            scope.insert(pi.ident.to_string(), v);
        }
        if !ok {
            return Val::Error;
        }
        if let Some((kind, rules)) = super::custom::custom_attr(def) {
            let vals: Vec<Val> = params
                .iter()
                .map(|pt| match &*pt.pat {
                    syn::Pat::Ident(pi) => {
                        scope.remove(&pi.ident.to_string()).unwrap_or(Val::Error)
                    }
                    _ => Val::Error,
                })
                .collect();
            return self.custom_call(def, &kind, &rules, vals, span);
        }
        let saved = std::mem::replace(&mut self.scopes, vec![scope]);
        self.inlining.push(unique.to_string());
        let v = self.block(&def.block);
        self.inlining.pop();
        self.scopes = saved;
        v
    }
}
