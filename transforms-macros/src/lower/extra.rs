//! Lowering of the selection, softmax-family, reduction and slicing
//! vocabulary: comparisons, `clamp`, `maximum`/`minimum`/`where_`,
//! `softmax`/`log_softmax`/`logsumexp`/`norm`/`max_dim`, `narrow`,
//! `index_select`, `cat` and `stack`. Composites lower to primitives here.

use proc_macro2::Span;
use syn::Expr;
use syn::spanned::Spanned;

use super::{Lower, Val};
use crate::ir::{Scalar, Var};
use crate::prims::{Binary, Concat, Layout, Prim, Reduce, ReduceOp, Unary, WithScalar};

fn reduce(op: ReduceOp, dim: Option<Scalar>) -> Prim {
    Prim::Reduce(Reduce {
        op,
        dim,
        transposed: false,
    })
}

impl Lower<'_> {
    /// A method of the extended vocabulary; `None` when `name` is not one.
    pub(super) fn extra_method(
        &mut self,
        m: &syn::ExprMethodCall,
        name: &str,
        recv: Var,
        args: &[&Expr],
    ) -> Option<Val> {
        let (span, at) = (m.method.span(), m.span());
        let cmp = match name {
            "gt" => Some((Binary::Gt, WithScalar::Gt as fn(Scalar) -> WithScalar)),
            "lt" => Some((Binary::Lt, WithScalar::Lt as fn(Scalar) -> WithScalar)),
            "ge" => Some((Binary::Ge, WithScalar::Ge as fn(Scalar) -> WithScalar)),
            "le" => Some((Binary::Le, WithScalar::Le as fn(Scalar) -> WithScalar)),
            _ => None,
        };
        if let Some((tensor_op, scalar_op)) = cmp {
            if !self.arity(span, name, args, 1, "1 argument (a tensor or a scalar)") {
                return Some(Val::Error);
            }
            return Some(match self.expr(args[0]) {
                Val::Tensor(b) => self.emit(at, Prim::Binary(tensor_op), &[recv, b]),
                Val::Scalar(s) => self.emit(at, Prim::WithScalar(scalar_op(s)), &[recv]),
                Val::Error => Val::Error,
                Val::Tuple(_) => self.err(args[0].span(), "expected a tensor or a scalar here"),
            });
        }
        let val = match name {
            "clamp" => {
                if !self.arity(span, name, args, 2, "2 arguments (the bounds `lo, hi`)") {
                    return Some(Val::Error);
                }
                let (Some(lo), Some(hi)) = (self.scalar(args[0]), self.scalar(args[1])) else {
                    return Some(Val::Error);
                };
                self.emit(at, Prim::WithScalar(WithScalar::Clamp(lo, hi)), &[recv])
            }
            "softmax" | "log_softmax" | "logsumexp" | "max_dim" => {
                let Some(d) = self.dim_arg(span, name, args) else {
                    return Some(Val::Error);
                };
                match name {
                    "softmax" => self.softmax(at, recv, d),
                    "logsumexp" => Val::Tensor(self.logsumexp(at, recv, d)),
                    "log_softmax" => {
                        let l = self.logsumexp(at, recv, d.clone());
                        let lu = self.emit_var(at, Prim::Layout(Layout::Unsqueeze(d)), &[l]);
                        self.emit(at, Prim::Binary(Binary::Sub), &[recv, lu])
                    }
                    _ => self.emit(at, reduce(ReduceOp::Max, Some(d)), &[recv]),
                }
            }
            "norm" => {
                if !self.arity(
                    span,
                    name,
                    args,
                    0,
                    "no arguments (the L2 norm of all elements)",
                ) {
                    return Some(Val::Error);
                }
                let sq = self.emit_var(at, Prim::Unary(Unary::Square), &[recv]);
                let s = self.emit_var(at, reduce(ReduceOp::Sum, None), &[sq]);
                self.emit(at, Prim::Unary(Unary::Sqrt), &[s])
            }
            "narrow" => {
                if !self.arity(span, name, args, 3, "3 arguments (`dim, start, len`)") {
                    return Some(Val::Error);
                }
                let s: Vec<Option<Scalar>> = args.iter().map(|a| self.scalar(a)).collect();
                let [Some(d), Some(start), Some(len)] = &s[..] else {
                    return Some(Val::Error);
                };
                let l = Layout::Narrow(d.clone(), start.clone(), len.clone());
                self.emit(at, Prim::Layout(l), &[recv])
            }
            "index_select" => {
                if !self.arity(span, name, args, 2, "2 arguments (`dim, &[indices..]`)") {
                    return Some(Val::Error);
                }
                let d = self.scalar(args[0]);
                let idx = self.indices(args[1]);
                let (Some(d), Some(idx)) = (d, idx) else {
                    return Some(Val::Error);
                };
                self.emit(at, Prim::Layout(Layout::IndexSelect(d, idx)), &[recv])
            }
            _ => return None,
        };
        Some(val)
    }

    fn dim_arg(&mut self, span: Span, name: &str, args: &[&Expr]) -> Option<Scalar> {
        if !self.arity(span, name, args, 1, "1 argument (the dim)") {
            return None;
        }
        self.scalar(args[0])
    }

    /// `x - shift` along `d`, exponentiated, with the shift (max along `d`
    /// without derivative, so that exp never overflows).
    fn shifted_exp(&mut self, at: Span, x: Var, d: &Scalar) -> (Var, Var) {
        let m = self.emit_var(at, reduce(ReduceOp::MaxShift, Some(d.clone())), &[x]);
        let mu = self.emit_var(at, Prim::Layout(Layout::Unsqueeze(d.clone())), &[m]);
        let z = self.emit_var(at, Prim::Binary(Binary::Sub), &[x, mu]);
        (self.emit_var(at, Prim::Unary(Unary::Exp), &[z]), m)
    }

    fn softmax(&mut self, at: Span, x: Var, d: Scalar) -> Val {
        let (e, _) = self.shifted_exp(at, x, &d);
        let s = self.emit_var(at, reduce(ReduceOp::Sum, Some(d.clone())), &[e]);
        let su = self.emit_var(at, Prim::Layout(Layout::Unsqueeze(d)), &[s]);
        self.emit(at, Prim::Binary(Binary::Div), &[e, su])
    }

    fn logsumexp(&mut self, at: Span, x: Var, d: Scalar) -> Var {
        let (e, m) = self.shifted_exp(at, x, &d);
        let s = self.emit_var(at, reduce(ReduceOp::Sum, Some(d)), &[e]);
        let l = self.emit_var(at, Prim::Unary(Unary::Ln), &[s]);
        self.emit_var(at, Prim::Binary(Binary::Add), &[l, m])
    }

    /// `&[i0, i1, ..]`: non-negative integer expressions.
    fn indices(&mut self, e: &Expr) -> Option<Vec<Scalar>> {
        let arr = self.array_literal(
            e,
            "`index_select` takes an array literal of indices such as `&[0, 2, 2]`",
        )?;
        let idx: Option<Vec<Scalar>> = arr.elems.iter().map(|i| self.scalar(i)).collect();
        let idx = idx?;
        for (s, e) in idx.iter().zip(&arr.elems) {
            if matches!(s, Scalar::Int(v) if *v < 0) {
                self.err(e.span(), "indices must be non-negative");
                return None;
            }
        }
        Some(idx)
    }

    fn array_literal<'e>(&mut self, e: &'e Expr, msg: &str) -> Option<&'e syn::ExprArray> {
        let inner = match e {
            Expr::Reference(r) => &*r.expr,
            other => other,
        };
        match inner {
            Expr::Array(arr) => Some(arr),
            other => {
                self.err_node(other, msg);
                None
            }
        }
    }

    /// A free function of the extended vocabulary; `None` when `name` is not one.
    pub(super) fn extra_call(
        &mut self,
        c: &syn::ExprCall,
        name: &str,
        args: &[&Expr],
    ) -> Option<Val> {
        let (span, at) = (c.func.span(), c.span());
        let val = match name {
            "maximum" | "minimum" => {
                if !self.arity(span, name, args, 2, "2 arguments (tensors)") {
                    return Some(Val::Error);
                }
                let (a, b) = (self.tensor(args[0]), self.tensor(args[1]));
                let (Some(a), Some(b)) = (a, b) else {
                    return Some(Val::Error);
                };
                let op = if name == "maximum" {
                    Binary::Maximum
                } else {
                    Binary::Minimum
                };
                self.emit(at, Prim::Binary(op), &[a, b])
            }
            "where_" => {
                if !self.arity(span, name, args, 3, "3 arguments (`cond, a, b`)") {
                    return Some(Val::Error);
                }
                let ins: Vec<Option<Var>> = args.iter().map(|a| self.tensor(a)).collect();
                let [Some(c), Some(a), Some(b)] = ins[..] else {
                    return Some(Val::Error);
                };
                self.emit(at, Prim::Where, &[c, a, b])
            }
            "cat" | "stack" => {
                let what = "2 arguments (`&[a, b, ..], dim`)";
                if !self.arity(span, name, args, 2, what) {
                    return Some(Val::Error);
                }
                let msg = format!("`{name}` takes an array literal of tensors such as `&[a, b]`");
                let arr = self.array_literal(args[0], &msg);
                let d = self.scalar(args[1]);
                let (Some(arr), Some(d)) = (arr, d) else {
                    return Some(Val::Error);
                };
                if arr.elems.is_empty() {
                    return Some(
                        self.err(arr.span(), format!("`{name}` needs at least one tensor")),
                    );
                }
                let xs: Vec<Option<Var>> = arr.elems.iter().map(|e| self.tensor(e)).collect();
                let Some(mut xs) = xs.into_iter().collect::<Option<Vec<Var>>>() else {
                    return Some(Val::Error);
                };
                if name == "stack" {
                    for x in &mut xs {
                        let l = Layout::Unsqueeze(d.clone());
                        *x = self.emit_var(at, Prim::Layout(l), &[*x]);
                    }
                }
                let n = xs.len();
                self.emit(at, Prim::Concat(Concat::Cat { dim: d, n }), &xs)
            }
            _ => return None,
        };
        Some(val)
    }
}
