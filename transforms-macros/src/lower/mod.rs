//! Lowering: the annotated function's signature and body to the IR.
//!
//! The vocabulary is small and checked here; anything outside it is a span
//! error naming the construct and what is supported. Lowering continues past
//! errors so that every problem is reported at once.

mod calls;
mod extra;

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, FnArg, ItemFn, Lit, Pat, ReturnType, Stmt, Type, UnOp};

use crate::errors::Errors;
use crate::ir::scalar::ScalarOp;
use crate::ir::{Builder, Func, Param, ParamKind, Scalar, Tree, Var};
use crate::prims::{Binary, Prim, Unary, WithScalar};

const SUPPORTED: &str = "supported: `let` bindings, blocks, `return`, tensor methods, \
`linear(x, w, b)`, `matmul(a, b)`, `maximum(a, b)`, `minimum(a, b)`, `where_(c, a, b)`, \
`cat(&[..], d)`, `stack(&[..], d)`, `+ - * /` and unary `-` on tensors and scalars";

const METHODS: &str = "tanh, exp, exp2, ln, log1p, sin, cos, sqrt, sigmoid, relu, abs, square, \
neg, recip, powf(c), clamp(lo, hi), gt(b), lt(b), ge(b), le(b), sum(), sum_dim(d), mean(), \
mean_dim(d), softmax(d), log_softmax(d), logsumexp(d), norm(), max_dim(d), t(), transpose(a, b), \
reshape(&[..]), unsqueeze(d), narrow(d, start, len), index_select(d, &[..]), matmul(&b), clone()";

const FUNCTIONS: &str = "`linear(x, w, b)`, `matmul(a, b)`, `maximum(a, b)`, `minimum(a, b)`, \
`where_(cond, a, b)`, `cat(&[..], d)` and `stack(&[..], d)`";

const SCALAR_TYPES: [&str; 14] = [
    "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
    "usize",
];

/// A lowered value.
#[derive(Clone)]
pub(crate) enum Val {
    Tensor(Var),
    Scalar(Scalar),
    Tuple(Vec<Val>),
    /// Already reported.
    Error,
}

/// The signature facts codegen needs beside the IR.
pub struct Lowered {
    pub func: Func,
    /// The tensor type as written in the signature (e.g. `Tensor<f64>`).
    pub tensor_ty: TokenStream,
    /// Where errors about the function's outputs point.
    pub ret_span: Span,
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn is_tensor(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Tensor")
}

fn is_scalar(ty: &Type) -> bool {
    last_segment(ty)
        .is_some_and(|s| s.arguments.is_none() && SCALAR_TYPES.iter().any(|n| s.ident == n))
}

/// Lowers `item`; `None` when errors were reported.
pub fn lower(item: &ItemFn, errs: &mut Errors) -> Option<Lowered> {
    let sig = &item.sig;
    if !sig.generics.params.is_empty() {
        errs.spanned(
            &sig.generics,
            "generic functions are not supported: write the element type, e.g. `&Tensor<f64>`",
        );
    }
    if let Some(a) = &sig.asyncness {
        errs.spanned(a, "`async fn` cannot be transformed");
    }
    let mut b = Builder::new(0);
    let mut params = Vec::new();
    let mut scope = HashMap::new();
    let mut tensor_ty = None;
    for arg in &sig.inputs {
        let FnArg::Typed(pt) = arg else {
            errs.spanned(
                arg,
                "methods (`self`) cannot be transformed: use a free function",
            );
            continue;
        };
        let Pat::Ident(pi) = &*pt.pat else {
            errs.spanned(&pt.pat, "parameters must be plain names");
            // Later uses of these names are not reported again.
            scope.extend(pat_idents(&pt.pat).into_iter().map(|n| (n, Val::Error)));
            continue;
        };
        let name = pi.ident.clone();
        let ty = &*pt.ty;
        let kind = match ty {
            Type::Reference(r) if r.mutability.is_none() && is_tensor(&r.elem) => {
                tensor_ty.get_or_insert_with(|| r.elem.to_token_stream());
                let v = b.fresh();
                scope.insert(name.to_string(), Val::Tensor(v));
                ParamKind::Tensor(v)
            }
            t if is_scalar(t) => {
                scope.insert(
                    name.to_string(),
                    Val::Scalar(Scalar::expr(name.to_token_stream())),
                );
                ParamKind::Scalar
            }
            t => {
                errs.spanned(
                    t,
                    "unsupported parameter type: expected `&Tensor` (differentiable) or a plain scalar or integer such as `f32` or `usize`",
                );
                scope.insert(name.to_string(), Val::Error);
                continue;
            }
        };
        params.push(Param {
            name,
            ty: ty.to_token_stream(),
            kind,
        });
    }
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => Some(&**ty),
        ReturnType::Default => {
            errs.spanned(
                &sig.ident,
                "a transformed function must return a `Tensor` or a tuple of `Tensor`s",
            );
            None
        }
    };
    let ret_tree = ret.and_then(|ty| match ty {
        t if is_tensor(t) => {
            tensor_ty.get_or_insert_with(|| t.to_token_stream());
            Some(1)
        }
        Type::Tuple(tt) if !tt.elems.is_empty() && tt.elems.iter().all(is_tensor) => {
            Some(tt.elems.len())
        }
        t => {
            errs.spanned(
                t,
                "unsupported return type: expected `Tensor` or a tuple of `Tensor`s",
            );
            None
        }
    });
    let mut lw = Lower {
        b,
        scopes: vec![scope],
        errs,
    };
    let tail = lw.block_with(&item.block, ret.is_some());
    let Lower { b, errs, .. } = lw;
    let ret_n = ret_tree?;
    let tail_span = item
        .block
        .stmts
        .last()
        .map_or(item.block.span(), |s| s.span());
    let (outs, tree) = match tail {
        Val::Tensor(v) if ret_n == 1 && !matches!(ret, Some(Type::Tuple(_))) => {
            (vec![v], Tree::Leaf(0))
        }
        Val::Tuple(vals) if matches!(ret, Some(Type::Tuple(_))) && vals.len() == ret_n => {
            let mut outs = Vec::new();
            for v in vals {
                match v {
                    Val::Tensor(v) => outs.push(v),
                    Val::Error => {}
                    _ => errs.at(tail_span, "every returned element must be a tensor"),
                }
            }
            let tree = Tree::Tuple((0..outs.len()).map(Tree::Leaf).collect());
            (outs, tree)
        }
        Val::Error => return None,
        _ => {
            errs.at(
                tail_span,
                "the returned value does not match the declared return type",
            );
            return None;
        }
    };
    if !errs.is_empty() {
        return None;
    }
    let tensor_ty = tensor_ty.unwrap_or_else(|| quote!(Tensor));
    let ret_span = ret.map_or(sig.ident.span(), |t| t.span());
    Some(Lowered {
        func: Func {
            params,
            eqns: b.eqns,
            outs,
            tree,
            next_var: b.next_var,
        },
        tensor_ty,
        ret_span,
    })
}

pub(crate) struct Lower<'a> {
    b: Builder,
    scopes: Vec<HashMap<String, Val>>,
    errs: &'a mut Errors,
}

impl Lower<'_> {
    fn err(&mut self, span: Span, msg: impl std::fmt::Display) -> Val {
        self.errs.at(span, msg);
        Val::Error
    }

    fn err_node(&mut self, node: &dyn ToTokens, msg: impl std::fmt::Display) -> Val {
        self.errs.spanned(node, msg);
        Val::Error
    }

    fn lookup(&self, name: &str) -> Option<Val> {
        self.scopes.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn emit_var(&mut self, span: Span, prim: Prim, ins: &[Var]) -> Var {
        self.b.span = span;
        self.b.emit(prim, ins, 0)
    }

    fn emit(&mut self, span: Span, prim: Prim, ins: &[Var]) -> Val {
        Val::Tensor(self.emit_var(span, prim, ins))
    }

    fn block(&mut self, block: &syn::Block) -> Val {
        self.block_with(block, true)
    }

    /// A block; `needs_value` is false for a body whose missing return type
    /// was already reported.
    fn block_with(&mut self, block: &syn::Block, needs_value: bool) -> Val {
        self.scopes.push(HashMap::new());
        let n = block.stmts.len();
        let mut tail = None;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == n;
            match stmt {
                Stmt::Local(local) => {
                    let pat = match &local.pat {
                        Pat::Type(pt) => &*pt.pat,
                        other => other,
                    };
                    let name = match pat {
                        Pat::Ident(pi) => Some(pi.ident.to_string()),
                        other => {
                            self.err_node(
                                other,
                                "`let` must bind a plain name (patterns are not supported)",
                            );
                            let names = pat_idents(other);
                            if let Some(scope) = self.scopes.last_mut() {
                                scope.extend(names.into_iter().map(|n| (n, Val::Error)));
                            }
                            None
                        }
                    };
                    let Some(init) = &local.init else {
                        self.err_node(&local, "`let` without a value is not supported");
                        continue;
                    };
                    if let Some((e, _)) = &init.diverge {
                        self.err_node(&e, "`let ... else` is not supported");
                    }
                    let v = self.expr(&init.expr);
                    if let (Some(name), Some(scope)) = (name, self.scopes.last_mut()) {
                        scope.insert(name, v);
                    }
                }
                Stmt::Expr(Expr::Return(r), _) => {
                    if !last {
                        self.err_node(&r, "`return` is only supported as the last statement");
                    }
                    tail = Some(match &r.expr {
                        Some(e) => self.expr(e),
                        None => self.err_node(&r, "`return` needs a value"),
                    });
                }
                Stmt::Expr(e, None) if last => tail = Some(self.expr(e)),
                Stmt::Expr(e, _) if expr_kind(e) != "this expression" => {
                    let what = expr_kind(e);
                    self.err_node(
                        e,
                        format!("{what} is not supported in a transformed function; {SUPPORTED}"),
                    );
                }
                Stmt::Expr(e, _) => {
                    self.err_node(e, "expression statements are not supported (they have no effect); bind with `let`");
                }
                Stmt::Item(it) => {
                    self.err_node(&it, "items inside a transformed function are not supported");
                }
                Stmt::Macro(m) => {
                    self.err_node(
                        &m,
                        "macro calls are not supported in a transformed function",
                    );
                }
            }
        }
        self.scopes.pop();
        match tail {
            Some(v) => v,
            None if needs_value => {
                self.err_node(&block, "the block has no value: end it with an expression")
            }
            None => Val::Error,
        }
    }

    fn tensor(&mut self, e: &Expr) -> Option<Var> {
        match self.expr(e) {
            Val::Tensor(v) => Some(v),
            Val::Error => None,
            _ => {
                self.err_node(&e, "expected a tensor here");
                None
            }
        }
    }

    fn scalar(&mut self, e: &Expr) -> Option<Scalar> {
        match self.expr(e) {
            Val::Scalar(s) => Some(s),
            Val::Error => None,
            _ => {
                self.err_node(&e, "expected a scalar here");
                None
            }
        }
    }

    fn expr(&mut self, e: &Expr) -> Val {
        match e {
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) if r.mutability.is_none() => self.expr(&r.expr),
            Expr::Block(b) if b.label.is_none() => self.block(&b.block),
            Expr::Lit(l) => match &l.lit {
                Lit::Float(f) => match f.base10_parse::<f64>() {
                    Ok(v) => Val::Scalar(Scalar::Float(v)),
                    Err(err) => self.err_node(&f, err),
                },
                Lit::Int(i) => match i.base10_parse::<i64>() {
                    Ok(v) => Val::Scalar(Scalar::Int(v)),
                    Err(err) => self.err_node(&i, err),
                },
                other => self.err_node(&other, "only numeric literals are supported"),
            },
            Expr::Path(p) => match p.path.get_ident() {
                Some(id) => match self.lookup(&id.to_string()) {
                    Some(v) => v,
                    None => self.err_node(&id, format!("unknown name `{id}`: a transformed function sees only its parameters and its own `let` bindings")),
                },
                None => self.err_node(&p, "paths are not supported here; use a parameter or a `let` binding"),
            },
            Expr::Tuple(t) => Val::Tuple(t.elems.iter().map(|e| self.expr(e)).collect()),
            Expr::Cast(c) => match self.scalar(&c.expr) {
                Some(s) => {
                    let (inner, ty) = (s.tokens(), &c.ty);
                    Val::Scalar(Scalar::expr(quote!(#inner as #ty)))
                }
                None => Val::Error,
            },
            Expr::Unary(u) => match u.op {
                UnOp::Neg(_) => match self.expr(&u.expr) {
                    Val::Tensor(v) => self.emit(u.span(), Prim::Unary(Unary::Neg), &[v]),
                    Val::Scalar(s) => Val::Scalar(s.neg()),
                    Val::Tuple(_) => self.err_node(&u, "cannot negate a tuple"),
                    Val::Error => Val::Error,
                },
                _ => self.err_node(&u, format!("the operator `{}` is not supported; use unary `-`", u.op.to_token_stream())),
            },
            Expr::Binary(bin) => self.binary(bin),
            Expr::MethodCall(m) => self.method(m),
            Expr::Call(c) => self.call(c),
            Expr::Return(r) => self.err_node(&r, "`return` is only supported as the last statement"),
            other => {
                let what = expr_kind(other);
                self.err_node(&other, format!("{what} is not supported in a transformed function; {SUPPORTED}"))
            }
        }
    }

    fn binary(&mut self, bin: &syn::ExprBinary) -> Val {
        let op = match bin.op {
            BinOp::Add(_) => ScalarOp::Add,
            BinOp::Sub(_) => ScalarOp::Sub,
            BinOp::Mul(_) => ScalarOp::Mul,
            BinOp::Div(_) => ScalarOp::Div,
            other => {
                return self.err(
                    other.span(),
                    format!(
                        "the operator `{}` is not supported; use `+ - * /`",
                        other.to_token_stream()
                    ),
                );
            }
        };
        let (l, r) = (self.expr(&bin.left), self.expr(&bin.right));
        let span = bin.span();
        let with = |s: Scalar| match op {
            ScalarOp::Add => WithScalar::AddScalar(s),
            ScalarOp::Sub => WithScalar::AddScalar(s.neg()),
            ScalarOp::Mul => WithScalar::MulScalar(s),
            ScalarOp::Div => WithScalar::MulScalar(s.recip()),
        };
        match (l, r) {
            (Val::Error, _) | (_, Val::Error) => Val::Error,
            (Val::Scalar(a), Val::Scalar(b)) => Val::Scalar(a.bin(op, b)),
            (Val::Tensor(a), Val::Tensor(b)) => {
                let p = match op {
                    ScalarOp::Add => Binary::Add,
                    ScalarOp::Sub => Binary::Sub,
                    ScalarOp::Mul => Binary::Mul,
                    ScalarOp::Div => Binary::Div,
                };
                self.emit(span, Prim::Binary(p), &[a, b])
            }
            (Val::Tensor(a), Val::Scalar(s)) => self.emit(span, Prim::WithScalar(with(s)), &[a]),
            (Val::Scalar(s), Val::Tensor(a)) => {
                let (prim, x) = match op {
                    ScalarOp::Add | ScalarOp::Mul => (with(s), a),
                    ScalarOp::Sub => (
                        WithScalar::AddScalar(s),
                        self.emit_var(span, Prim::Unary(Unary::Neg), &[a]),
                    ),
                    ScalarOp::Div => (
                        WithScalar::MulScalar(s),
                        self.emit_var(span, Prim::Unary(Unary::Recip), &[a]),
                    ),
                };
                self.emit(span, Prim::WithScalar(prim), &[x])
            }
            _ => self.err(span, "arithmetic on tuples is not supported"),
        }
    }
}

/// The names a pattern binds (for patterns that are rejected).
fn pat_idents(p: &Pat) -> Vec<String> {
    match p {
        Pat::Ident(pi) => vec![pi.ident.to_string()],
        Pat::Tuple(t) => t.elems.iter().flat_map(pat_idents).collect(),
        Pat::Type(t) => pat_idents(&t.pat),
        Pat::Paren(p) => pat_idents(&p.pat),
        Pat::Reference(r) => pat_idents(&r.pat),
        _ => Vec::new(),
    }
}

fn expr_kind(e: &Expr) -> &'static str {
    match e {
        Expr::If(_) => "`if`",
        Expr::ForLoop(_) => "a `for` loop",
        Expr::While(_) => "a `while` loop",
        Expr::Loop(_) => "`loop`",
        Expr::Match(_) => "`match`",
        Expr::Closure(_) => "a closure",
        Expr::Index(_) => "indexing",
        Expr::Field(_) => "field access",
        Expr::Assign(_) => "assignment",
        Expr::Macro(_) => "a macro call",
        Expr::Array(_) => "an array",
        Expr::Unsafe(_) => "`unsafe`",
        Expr::Struct(_) => "a struct literal",
        Expr::Try(_) => "`?`",
        _ => "this expression",
    }
}
