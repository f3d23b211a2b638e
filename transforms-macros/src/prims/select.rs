//! `where_(c, a, b)`: the broadcasting select, `a` where `c != 0`, else `b`.
//! Linear in `a` and `b` together; the condition carries no derivative.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{Binary, Const, Cts, Jvp, Prim, Transpose, Unary, WithScalar};
use crate::ir::{Scalar, Var};

/// The JVP: `where_(c, ta, tb)`, a symbolic zero made concrete as zeros of
/// the output's shape (so the unselected branch never leaks, as in JAX).
pub fn jvp(cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
    if tans[1].is_none() && tans[2].is_none() {
        return None;
    }
    let (c, out) = (cx.eqn.ins[0], cx.eqn.out);
    let mut zero = None;
    let mut or_zero = |cx: &mut Jvp, t: Option<Var>| match t {
        Some(t) => t,
        None => *zero.get_or_insert_with(|| cx.emit(Prim::Const(Const::ZerosLike), &[out])),
    };
    let ta = or_zero(cx, tans[1]);
    let tb = or_zero(cx, tans[2]);
    Some(cx.emit(Prim::Where, &[c, ta, tb]))
}

/// The transpose: the cotangent masked by the condition (and its complement),
/// summed back to each branch's shape.
pub fn transpose(cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
    if cx.linear[0] {
        return Err("`where_` is not linear in its condition".into());
    }
    let c = cx.eqn.ins[0];
    let mut cts = vec![None; 3];
    let mask = cx.emit(Prim::Unary(Unary::NonZero), &[c]);
    if cx.linear[1] {
        let g = cx.emit(Prim::Binary(Binary::Mul), &[ct, mask]);
        cts[1] = Some(cx.unbroadcast(g, 1));
    }
    if cx.linear[2] {
        let n = cx.emit(Prim::Unary(Unary::Neg), &[mask]);
        let other = cx.emit(
            Prim::WithScalar(WithScalar::AddScalar(Scalar::float(1.0))),
            &[n],
        );
        let g = cx.emit(Prim::Binary(Binary::Mul), &[ct, other]);
        cts[2] = Some(cx.unbroadcast(g, 2));
    }
    Ok(cts)
}

pub fn call(rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
    let (c, a, b) = (&args[0], &args[1], &args[2]);
    quote!(#rt::ops::where_(#c, #a, #b, #nb))
}

pub fn elem(rt: &TokenStream, args: &[TokenStream]) -> TokenStream {
    let (c, a, b) = (&args[0], &args[1], &args[2]);
    quote!(#rt::elem::where_(#c, #a, #b))
}
