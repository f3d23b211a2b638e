//! Elementwise broadcasting functions of two tensors.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{Cts, Jvp, Prim, Relayout, Transpose, Unary, WithScalar};
use crate::ir::{Scalar, Var};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    /// torch.maximum / torch.minimum (ties split the derivative 0.5 / 0.5, as JAX).
    Maximum,
    Minimum,
    /// 1 where a > b, else 0 (and `<`, `>=`, `<=`); no derivative.
    Gt,
    Lt,
    Ge,
    Le,
}

impl Binary {
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
            Binary::Gt => "gt",
            Binary::Lt => "lt",
            Binary::Ge => "ge",
            Binary::Le => "le",
        }
    }

    pub fn jvp(self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        let (a, b, out) = (cx.eqn.ins[0], cx.eqn.ins[1], cx.eqn.out);
        let (ta, tb) = (tans[0], tans[1]);
        // A lone tangent of an addend has its input's shape: broadcast it to the output's.
        let widen =
            |cx: &mut Jvp, t: Var| cx.emit(Prim::Relayout(Relayout::BroadcastLike), &[t, out]);
        match self {
            Binary::Add => match (ta, tb) {
                (Some(ta), Some(tb)) => Some(cx.emit(Prim::Binary(Binary::Add), &[ta, tb])),
                (Some(t), None) | (None, Some(t)) => Some(widen(cx, t)),
                (None, None) => None,
            },
            Binary::Sub => match (ta, tb) {
                (Some(ta), Some(tb)) => Some(cx.emit(Prim::Binary(Binary::Sub), &[ta, tb])),
                (Some(ta), None) => Some(widen(cx, ta)),
                (None, Some(tb)) => {
                    let w = widen(cx, tb);
                    Some(cx.emit(Prim::Unary(Unary::Neg), &[w]))
                }
                (None, None) => None,
            },
            Binary::Mul => {
                let da = ta.map(|ta| cx.scale(ta, b));
                let db = tb.map(|tb| cx.scale(tb, a));
                cx.add(da, db)
            }
            Binary::Div => {
                let da = ta.map(|ta| cx.emit(Prim::Binary(Binary::Div), &[ta, b]));
                let db = tb.map(|tb| {
                    // d(a/b)/db = -(a/b)/b
                    let q = cx.emit(Prim::Binary(Binary::Div), &[out, b]);
                    let nq = cx.emit(Prim::Unary(Unary::Neg), &[q]);
                    cx.scale(tb, nq)
                });
                cx.add(da, db)
            }
            Binary::Maximum | Binary::Minimum => {
                // d max(a, b) = ta w(a, b) + tb w(b, a) with w(a, b) = (gt + ge) / 2:
                // 1 where a wins, 0.5 at ties, 0 where it loses (`out`'s shape).
                let weight = |cx: &mut Jvp, x: Var, y: Var| {
                    let g = cx.emit(Prim::Binary(Binary::Gt), &[x, y]);
                    let e = cx.emit(Prim::Binary(Binary::Ge), &[x, y]);
                    let s = cx.emit(Prim::Binary(Binary::Add), &[g, e]);
                    cx.emit(
                        Prim::WithScalar(WithScalar::MulScalar(Scalar::float(0.5))),
                        &[s],
                    )
                };
                let (wa, wb) = if self == Binary::Maximum {
                    (a, b)
                } else {
                    (b, a)
                };
                let da = ta.map(|ta| {
                    let w = weight(cx, wa, wb);
                    cx.scale(ta, w)
                });
                let db = tb.map(|tb| {
                    let w = weight(cx, wb, wa);
                    cx.scale(tb, w)
                });
                cx.add(da, db)
            }
            Binary::Gt | Binary::Lt | Binary::Ge | Binary::Le => None,
        }
    }

    pub fn transpose(self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        let (a, b) = (cx.eqn.ins[0], cx.eqn.ins[1]);
        let mut cts = vec![None, None];
        match self {
            Binary::Add | Binary::Sub => {
                if cx.linear[0] {
                    cts[0] = Some(cx.unbroadcast(ct, 0));
                }
                if cx.linear[1] {
                    let c = if self == Binary::Sub {
                        cx.emit(Prim::Unary(Unary::Neg), &[ct])
                    } else {
                        ct
                    };
                    cts[1] = Some(cx.unbroadcast(c, 1));
                }
            }
            Binary::Mul => {
                if cx.linear[0] {
                    cx.only_linear(0)?;
                    let p = cx.emit(Prim::Binary(Binary::Mul), &[ct, b]);
                    cts[0] = Some(cx.unbroadcast(p, 0));
                } else {
                    cx.only_linear(1)?;
                    let p = cx.emit(Prim::Binary(Binary::Mul), &[ct, a]);
                    cts[1] = Some(cx.unbroadcast(p, 1));
                }
            }
            Binary::Div => {
                cx.only_linear(0)?;
                let q = cx.emit(Prim::Binary(Binary::Div), &[ct, b]);
                cts[0] = Some(cx.unbroadcast(q, 0));
            }
            Binary::Maximum
            | Binary::Minimum
            | Binary::Gt
            | Binary::Lt
            | Binary::Ge
            | Binary::Le => return Err(format!("`{}` is not linear", self.name())),
        }
        Ok(cts)
    }

    pub fn call(self, rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
        let f = format_ident!("{}", self.name());
        let (a, b) = (&args[0], &args[1]);
        quote!(#rt::ops::#f(#a, #b, #nb))
    }

    pub fn elem(self, rt: &TokenStream, a: &TokenStream, b: &TokenStream) -> TokenStream {
        let f = format_ident!("{}", self.name());
        quote!(#rt::elem::#f(#a, #b))
    }
}
