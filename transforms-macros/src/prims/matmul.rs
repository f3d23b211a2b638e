//! torch.matmul and its two transposes, closed under JVP and transposition:
//! `ta(c, b; a)` is the gradient in `a` of `<c, a @ b>`, `tb(a, c; b)` the
//! gradient in `b`. All three are bilinear in their first two inputs; the
//! third input of `ta`/`tb` only gives the result's shape.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{Cts, Jvp, Prim, Relayout, Transpose};
use crate::ir::Var;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matmul {
    /// `matmul(a, b)`
    Mm,
    /// `ta(c, b, a_like)`
    Ta,
    /// `tb(a, c, b_like)`
    Tb,
}

impl Matmul {
    pub fn name(self) -> &'static str {
        match self {
            Matmul::Mm => "matmul",
            Matmul::Ta => "matmul_ta",
            Matmul::Tb => "matmul_tb",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Matmul::Mm => 2,
            Matmul::Ta | Matmul::Tb => 3,
        }
    }

    /// Bilinear in inputs 0 and 1: `d f(x, y) = f(dx, y) + f(x, dy)`.
    pub fn jvp(self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        let ins = cx.eqn.ins.clone();
        let with = |cx: &mut Jvp, i: usize, t: Var| {
            let mut args = ins.clone();
            args[i] = t;
            cx.emit(Prim::Matmul(self), &args)
        };
        let d0 = tans[0].map(|t| with(cx, 0, t));
        let d1 = tans[1].map(|t| with(cx, 1, t));
        cx.add(d0, d1)
    }

    pub fn transpose(self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        let ins = cx.eqn.ins.clone();
        let mut cts = vec![None; ins.len()];
        let lin = if cx.linear[0] { 0 } else { 1 };
        cx.only_linear(lin)?;
        let w = cx.wit(lin);
        let g = match (self, lin) {
            // out = a @ b
            (Matmul::Mm, 0) => cx.emit(Prim::Matmul(Matmul::Ta), &[ct, ins[1], w]),
            (Matmul::Mm, _) => cx.emit(Prim::Matmul(Matmul::Tb), &[ins[0], ct, w]),
            // out = ta(c, b): <g, ta(c, b)> = <c, g @ b>
            (Matmul::Ta, 0) => {
                let m = cx.emit(Prim::Matmul(Matmul::Mm), &[ct, ins[1]]);
                cx.emit(Prim::Relayout(Relayout::SumToLike), &[m, w])
            }
            (Matmul::Ta, _) => cx.emit(Prim::Matmul(Matmul::Tb), &[ct, ins[0], w]),
            // out = tb(a, c): <g, tb(a, c)> = <c, a @ g>
            (Matmul::Tb, 0) => cx.emit(Prim::Matmul(Matmul::Ta), &[ins[1], ct, w]),
            (Matmul::Tb, _) => {
                let m = cx.emit(Prim::Matmul(Matmul::Mm), &[ins[0], ct]);
                cx.emit(Prim::Relayout(Relayout::SumToLike), &[m, w])
            }
        };
        cts[lin] = Some(g);
        Ok(cts)
    }

    pub fn call(self, rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
        match self {
            Matmul::Mm => {
                let (a, b) = (&args[0], &args[1]);
                quote!(#rt::ops::matmul(#a, #b, #nb))
            }
            Matmul::Ta => {
                let (c, b, a) = (&args[0], &args[1], &args[2]);
                quote!(#rt::ops::matmul_ta(#c, #b, #a, #nb))
            }
            Matmul::Tb => {
                let (a, c, b) = (&args[0], &args[1], &args[2]);
                quote!(#rt::ops::matmul_tb(#a, #c, #b, #nb))
            }
        }
    }
}
