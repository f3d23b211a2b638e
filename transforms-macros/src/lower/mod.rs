//! Lowering: the annotated function's signature and body to the IR.
//!
//! The vocabulary is small and checked here; anything outside it is a span
//! error naming the construct and what is supported. Lowering continues past
//! errors so that every problem is reported at once.

mod calls;
mod custom;
mod extra;
mod loops;

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, FnArg, ItemFn, Lit, Pat, ReturnType, Stmt, Type, UnOp};

use crate::errors::Errors;
use crate::handoff::State;
use crate::ir::scalar::ScalarOp;
use crate::ir::{Builder, Func, Param, ParamKind, Scalar, Tree, Var};
use crate::prims::{Binary, Prim, Unary, WithScalar};

const SUPPORTED: &str = "supported: `let` bindings, blocks, `return`, tensor methods, \
`linear(x, w, b)`, `matmul(a, b)`, `maximum(a, b)`, `minimum(a, b)`, `where_(c, a, b)`, \
`cat(&[..], d)`, `stack(&[..], d)`, calls to `#[differentiable]` functions, `+ - * /` and unary \
`-` on tensors and scalars, `if`/`else` on scalars, `for` loops over ranges and `while` loops on \
scalar state assigning `let mut` tensors";

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

pub(crate) fn is_tensor(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Tensor")
}

pub(crate) fn is_scalar(ty: &Type) -> bool {
    last_segment(ty)
        .is_some_and(|s| s.arguments.is_none() && SCALAR_TYPES.iter().any(|n| s.ident == n))
}

/// The free functions of the vocabulary (a call to any other function is
/// a call to a `#[differentiable]` function).
pub const BUILTIN_CALLS: &[&str] = &[
    "linear", "matmul", "maximum", "minimum", "where_", "cat", "stack",
];

pub fn is_builtin_call(name: &str) -> bool {
    BUILTIN_CALLS.contains(&name)
}

/// The shape of a return type: a tensor or a (nested) tuple of them.
enum RetShape {
    Tensor,
    Tuple(Vec<RetShape>),
}

fn ret_shape(ty: &Type, tensor_ty: &mut Option<TokenStream>) -> Option<RetShape> {
    match ty {
        t if is_tensor(t) => {
            tensor_ty.get_or_insert_with(|| t.to_token_stream());
            Some(RetShape::Tensor)
        }
        Type::Paren(p) => ret_shape(&p.elem, tensor_ty),
        Type::Tuple(tt) if !tt.elems.is_empty() => tt
            .elems
            .iter()
            .map(|e| ret_shape(e, tensor_ty))
            .collect::<Option<Vec<_>>>()
            .map(RetShape::Tuple),
        _ => None,
    }
}

/// Matches the returned value against the declared shape, collecting the
/// output vars in order; the tree's leaves index them.
fn match_return(
    val: Val,
    shape: &RetShape,
    outs: &mut Vec<Var>,
    errs: &mut Errors,
    span: Span,
    nested: bool,
) -> Option<Tree> {
    match (val, shape) {
        (Val::Tensor(v), RetShape::Tensor) => {
            outs.push(v);
            Some(Tree::Leaf(outs.len() - 1))
        }
        (Val::Tuple(vals), RetShape::Tuple(shapes)) if vals.len() == shapes.len() => vals
            .into_iter()
            .zip(shapes)
            .map(|(v, s)| match_return(v, s, outs, errs, span, true))
            .collect::<Option<Vec<_>>>()
            .map(Tree::Tuple),
        (Val::Error, _) => None,
        (Val::Scalar(_), RetShape::Tensor) if nested => {
            errs.at(span, "every returned element must be a tensor");
            None
        }
        _ => {
            errs.at(
                span,
                "the returned value does not match the declared return type",
            );
            None
        }
    }
}

/// Lowers `item`; `None` when errors were reported.
/// Lowers `item`, inlining calls to the differentiable functions in `defs`;
/// `None` when errors were reported.
pub fn lower(item: &ItemFn, defs: &State, errs: &mut Errors) -> Option<Lowered> {
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
    let ret_shape = ret.and_then(|ty| {
        let shape = ret_shape(ty, &mut tensor_ty);
        if shape.is_none() {
            errs.spanned(
                ty,
                "unsupported return type: expected `Tensor` or a tuple of `Tensor`s",
            );
        }
        shape
    });
    let mut lw = Lower {
        b,
        scopes: vec![scope],
        errs,
        defs,
        inlining: Vec::new(),
        mutable_scalars: Vec::new(),
    };
    let tail = lw.block_with(&item.block, ret.is_some());
    let Lower { b, errs, .. } = lw;
    let shape = ret_shape?;
    let tail_span = item
        .block
        .stmts
        .last()
        .map_or(item.block.span(), |s| s.span());
    if let Val::Error = tail {
        return None;
    }
    let mut outs = Vec::new();
    let tree = match_return(tail, &shape, &mut outs, errs, tail_span, false)?;
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
    defs: &'a State,
    /// The differentiable functions being inlined (outermost first).
    inlining: Vec<String>,
    /// Scalars that may be assigned: the state of the enclosing `while` loops.
    mutable_scalars: Vec<String>,
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
                    if let Pat::Tuple(tp) = pat {
                        self.let_tuple(tp, local);
                        continue;
                    }
                    let name = match pat {
                        Pat::Ident(pi) => Some(pi.ident.to_string()),
                        other => {
                            self.err_node(
                                other,
                                "`let` must bind a plain name or a tuple of names",
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
                Stmt::Expr(e @ Expr::Binary(b), _) if loops::is_compound(&b.op) => {
                    self.expr(e);
                }
                Stmt::Expr(
                    e @ (Expr::Assign(_) | Expr::ForLoop(_) | Expr::While(_) | Expr::If(_)),
                    semi,
                ) => {
                    let v = self.expr(e);
                    if last && semi.is_none() {
                        tail = Some(v);
                    }
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

    /// `let (a, b, _) = <tuple>;`
    fn let_tuple(&mut self, tp: &syn::PatTuple, local: &syn::Local) {
        let mut names = Vec::new();
        for p in &tp.elems {
            match p {
                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    names.push(Some(pi.ident.to_string()))
                }
                Pat::Wild(_) => names.push(None),
                other => {
                    self.err_node(other, "a tuple pattern must hold plain names or `_`");
                    names.push(None);
                }
            }
        }
        let v = match &local.init {
            Some(init) if init.diverge.is_none() => self.expr(&init.expr),
            _ => self.err_node(local, "`let` with a tuple pattern needs a plain value"),
        };
        let vals = match v {
            Val::Tuple(vals) if vals.len() == names.len() => vals,
            Val::Error => vec![Val::Error; names.len()],
            Val::Tuple(vals) => {
                self.err_node(
                    tp,
                    format!(
                        "the pattern has {} element(s) but the value has {}",
                        names.len(),
                        vals.len()
                    ),
                );
                vec![Val::Error; names.len()]
            }
            _ => {
                self.err_node(tp, "a tuple pattern needs a tuple value");
                vec![Val::Error; names.len()]
            }
        };
        if let Some(scope) = self.scopes.last_mut() {
            for (n, v) in names.into_iter().zip(vals) {
                if let Some(n) = n {
                    scope.insert(n, v);
                }
            }
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
            Expr::Unary(u) if matches!(u.op, UnOp::Not(_)) => match self.expr(&u.expr) {
                Val::Scalar(s) => {
                    let s = s.tokens();
                    Val::Scalar(Scalar::expr(quote!((!(#s)))))
                }
                Val::Error => Val::Error,
                _ => self.err_node(&u, "`!` applies to scalar conditions only"),
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
            Expr::Assign(a) => self.assign(a),
            Expr::ForLoop(f) => self.for_loop(f),
            Expr::If(i) => self.if_expr(i),
            Expr::While(w) => self.while_loop(w),
            Expr::Return(r) => self.err_node(&r, "`return` is only supported as the last statement"),
            other => {
                let what = expr_kind(other);
                self.err_node(&other, format!("{what} is not supported in a transformed function; {SUPPORTED}"))
            }
        }
    }

    fn binary(&mut self, bin: &syn::ExprBinary) -> Val {
        if loops::is_compound(&bin.op) {
            return self.compound(bin);
        }
        if matches!(
            bin.op,
            BinOp::Lt(_)
                | BinOp::Le(_)
                | BinOp::Gt(_)
                | BinOp::Ge(_)
                | BinOp::Eq(_)
                | BinOp::Ne(_)
                | BinOp::And(_)
                | BinOp::Or(_)
        ) {
            return self.comparison(bin);
        }
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

impl Lower<'_> {
    /// Comparisons and `&&`/`||` of scalars: scalar (boolean) expressions,
    /// for `if` conditions. On tensors they are errors.
    fn comparison(&mut self, bin: &syn::ExprBinary) -> Val {
        let (l, r) = (self.expr(&bin.left), self.expr(&bin.right));
        match (l, r) {
            (Val::Scalar(a), Val::Scalar(b)) => {
                let (a, op, b) = (a.tokens(), &bin.op, b.tokens());
                Val::Scalar(Scalar::expr(quote!(((#a) #op (#b)))))
            }
            (Val::Error, _) | (_, Val::Error) => Val::Error,
            _ => self.err_node(
                &bin.op,
                format!(
                    "`{}` compares scalars only; for tensors use the masks `gt lt ge le` with `where_`",
                    bin.op.to_token_stream()
                ),
            ),
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
