//! torch.matmul and its two transposes, closed under JVP and transposition:
//! `ta(c, b; a)` is the gradient in `a` of `<c, a @ b>`, `tb(a, c; b)` the
//! gradient in `b`. All three are bilinear in their first two inputs; the
//! third input of `ta`/`tb` only gives the result's shape.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{Cts, Jvp, Prim, Relayout, Transpose};
use crate::ir::Var;

///
/// The `u32` of `Ta`/`Tb` is a mask of batch dims to keep: a batch dim where
/// the shape input has size 1 is summed (the operand was broadcast there)
/// unless its bit is set, which batching does when the shape input is not
/// batched at that level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matmul {
    /// `matmul(a, b)`
    Mm,
    /// `ta(c, b, a_like)`
    Ta(u32),
    /// `tb(a, c, b_like)`
    Tb(u32),
}

impl Matmul {
    pub fn name(self) -> &'static str {
        match self {
            Matmul::Mm => "matmul",
            Matmul::Ta(_) => "matmul_ta",
            Matmul::Tb(_) => "matmul_tb",
        }
    }

    pub fn label(self) -> String {
        match self {
            Matmul::Ta(k) | Matmul::Tb(k) if k != 0 => format!("{}[keep={k:#b}]", self.name()),
            _ => self.name().to_string(),
        }
    }

    /// The batching rule: the new leading batch dim is kept when the shape
    /// input (input 2) is not batched.
    pub fn batch(self, unbatched: &[bool]) -> Matmul {
        let raise = |k: u32| (k << 1) | u32::from(unbatched[2]);
        match self {
            Matmul::Mm => Matmul::Mm,
            Matmul::Ta(k) => Matmul::Ta(raise(k)),
            Matmul::Tb(k) => Matmul::Tb(raise(k)),
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Matmul::Mm => 2,
            Matmul::Ta(_) | Matmul::Tb(_) => 3,
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
            (Matmul::Mm, 0) => cx.emit(Prim::Matmul(Matmul::Ta(0)), &[ct, ins[1], w]),
            (Matmul::Mm, _) => cx.emit(Prim::Matmul(Matmul::Tb(0)), &[ins[0], ct, w]),
            // out = ta(c, b): <g, ta(c, b)> = <c, g @ b>
            (Matmul::Ta(_), 0) => {
                let m = cx.emit(Prim::Matmul(Matmul::Mm), &[ct, ins[1]]);
                cx.emit(Prim::Relayout(Relayout::SumToLike(0)), &[m, w])
            }
            (Matmul::Ta(_), _) => cx.emit(Prim::Matmul(Matmul::Tb(0)), &[ct, ins[0], w]),
            // out = tb(a, c): <g, tb(a, c)> = <c, a @ g>
            (Matmul::Tb(_), 0) => cx.emit(Prim::Matmul(Matmul::Ta(0)), &[ins[1], ct, w]),
            (Matmul::Tb(_), _) => {
                let m = cx.emit(Prim::Matmul(Matmul::Mm), &[ins[0], ct]);
                cx.emit(Prim::Relayout(Relayout::SumToLike(0)), &[m, w])
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
            Matmul::Ta(k) => {
                let (c, b, a) = (&args[0], &args[1], &args[2]);
                quote!(#rt::ops::matmul_ta(#c, #b, #a, #nb, #k))
            }
            Matmul::Tb(k) => {
                let (a, c, b) = (&args[0], &args[1], &args[2]);
                quote!(#rt::ops::matmul_tb(#a, #c, #b, #nb, #k))
            }
        }
    }
}
