//! Structured Jacobian seeds. `Diag(u, like, t?)` is the identity basis of
//! `like`'s per-example space scaled by `u` (and summed to `t`'s shape): the
//! seed of jacrev / jacfwd, kept symbolic by batching (`transforms::vmap`).
//! The products of a seed with a matrix (`DiagMatmul`) are row gathers
//! instead of dense GEMMs (with the seed on the left; on the right, the
//! same gathers where the seed is a vector, found at run time). All six
//! primitives add (or, `DiagT`, remove) a basis dim at position `nb`, and
//! are closed under JVP and transposition.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{Binary, Const, Cts, Jvp, Layout, Matmul, Prim, Transpose};
use crate::ir::{Scalar, Var};

/// Where the inputs of a seed primitive sit: `[u, like, (t), rest..]`.
fn layout(has_t: bool) -> (usize, Option<usize>, usize) {
    if has_t { (1, Some(2), 3) } else { (1, None, 2) }
}

/// One seed row's shape for a transpose: `t`, or zeros like `like` times
/// `u`'s witness (the shape `u` broadcasts `like` to).
fn seed_row(cx: &mut Transpose, ins: &[Var], l: usize, t: Option<usize>) -> Var {
    match t {
        Some(i) => ins[i],
        None => {
            let z = cx.emit(Prim::Const(Const::ZerosLike), &[ins[l]]);
            let w = cx.wit(0);
            cx.emit(Prim::Binary(Binary::Mul), &[z, w])
        }
    }
}

/// A `Ta` product's arguments `u, like, t, b, a_like` as tokens, `t` as an
/// `Option` expression.
fn ta_args(args: &[TokenStream], has_t: bool) -> [TokenStream; 5] {
    let (l, t, rest) = layout(has_t);
    let t = match t {
        Some(i) => {
            let t = &args[i];
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    };
    [
        args[0].clone(),
        args[l].clone(),
        t,
        args[rest].clone(),
        args[rest + 1].clone(),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diag {
    /// `diag(u, like, t?)`; `keep` as in `SumToLike` for the target.
    Embed { has_t: bool, keep: u32 },
    /// `diag_t(ct, like, t?, u_like)`: the adjoint of `Embed` in `u`;
    /// `keep` as in `SumToLike` for `u_like`.
    Extract { has_t: bool, keep: u32 },
    /// `matmul(diag(u, like, t?), b)` over the basis dim.
    Mm { has_t: bool },
    /// `matmul_ta(diag(u, like, t?), b, a_like)` over the basis dim.
    Ta { has_t: bool, keep: u32 },
    /// `matmul(b, diag(u, like, t?))` over the basis dim: the seed on the
    /// right (`jacfwd` of `a.matmul(x)` in `x`).
    MmRight { has_t: bool },
    /// `matmul_tb(a, diag(u, like, t?), b_like)` over the basis dim: the
    /// reverse-mode product of `a.matmul(x)` (`jacrev` in `x`); `keep` as in
    /// `SumToLike` for `b_like`.
    Tb { has_t: bool, keep: u32 },
}

impl Diag {
    fn has_t(self) -> bool {
        match self {
            Diag::Embed { has_t, .. }
            | Diag::Extract { has_t, .. }
            | Diag::Mm { has_t }
            | Diag::Ta { has_t, .. }
            | Diag::MmRight { has_t }
            | Diag::Tb { has_t, .. } => has_t,
        }
    }

    pub fn arity(self) -> usize {
        let (_, _, rest) = layout(self.has_t());
        rest + match self {
            Diag::Embed { .. } => 0,
            Diag::Extract { .. } | Diag::Mm { .. } | Diag::MmRight { .. } => 1,
            Diag::Ta { .. } | Diag::Tb { .. } => 2,
        }
    }

    pub fn name(self) -> String {
        let base = match self {
            Diag::Embed { .. } => "diag",
            Diag::Extract { .. } => "diag_t",
            Diag::Mm { .. } => "diag_matmul",
            Diag::Ta { .. } => "diag_matmul_ta",
            Diag::MmRight { .. } => "diag_matmul_right",
            Diag::Tb { .. } => "diag_matmul_tb",
        };
        match self {
            Diag::Embed { keep, .. }
            | Diag::Extract { keep, .. }
            | Diag::Ta { keep, .. }
            | Diag::Tb { keep, .. }
                if keep != 0 =>
            {
                format!("{base}[keep={keep:#b}]")
            }
            _ => base.to_string(),
        }
    }

    /// The batching rule: `keep` gains the new level when the shape input
    /// it refers to is not batched.
    pub fn batch(self, unbatched: &[bool]) -> Diag {
        let (_, t, rest) = layout(self.has_t());
        match self {
            Diag::Embed { has_t, keep } => {
                let bit = t.is_some_and(|i| unbatched[i]);
                Diag::Embed {
                    has_t,
                    keep: (keep << 1) | u32::from(bit),
                }
            }
            Diag::Ta { has_t, keep } => Diag::Ta {
                has_t,
                keep: (keep << 1) | u32::from(unbatched[rest + 1]),
            },
            Diag::Tb { has_t, keep } => Diag::Tb {
                has_t,
                keep: (keep << 1) | u32::from(unbatched[rest + 1]),
            },
            Diag::Extract { has_t, keep } => Diag::Extract {
                has_t,
                keep: (keep << 1) | u32::from(unbatched[rest]),
            },
            other => other,
        }
    }

    /// Embed and Extract are linear in input 0; the products bilinear in
    /// `u` (input 0) and their matrix.
    pub fn jvp(self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        let ins = cx.eqn.ins.clone();
        let (_, _, rest) = layout(self.has_t());
        let with = |cx: &mut Jvp, i: usize, t: Var| {
            let mut args = ins.clone();
            args[i] = t;
            cx.emit(Prim::Diag(self), &args)
        };
        let du = tans[0].map(|t| with(cx, 0, t));
        let db = match self {
            Diag::Mm { .. } | Diag::Ta { .. } | Diag::MmRight { .. } | Diag::Tb { .. } => {
                tans[rest].map(|t| with(cx, rest, t))
            }
            Diag::Embed { .. } | Diag::Extract { .. } => None,
        };
        cx.add(du, db)
    }

    pub fn transpose(self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        let ins = cx.eqn.ins.clone();
        let nb = cx.eqn.nb;
        let (l, t, rest) = layout(self.has_t());
        let has_t = self.has_t();
        let seed_args = |u: Var| {
            let mut a = vec![u, ins[l]];
            a.extend(t.map(|i| ins[i]));
            a
        };
        let all = (1u32 << (nb + 1)) - 1;
        let lift = |cx: &mut Transpose, v: Var| {
            cx.emit(Prim::Layout(Layout::Unsqueeze(Scalar::Int(0))), &[v])
        };
        let mut cts = vec![None; ins.len()];
        match self {
            Diag::Embed { .. } => {
                cx.only_linear(0)?;
                let mut a = seed_args(ct);
                a.push(cx.wit(0));
                cts[0] = Some(cx.emit(Prim::Diag(Diag::Extract { has_t, keep: 0 }), &a));
            }
            Diag::Extract { .. } => {
                cx.only_linear(0)?;
                let g = cx.emit(
                    Prim::Diag(Diag::Embed {
                        has_t,
                        keep: all >> 1,
                    }),
                    &seed_args(ct),
                );
                cts[0] = Some(cx.unbroadcast(g, 0));
            }
            Diag::Mm { .. } | Diag::Ta { .. } | Diag::MmRight { .. } | Diag::Tb { .. }
                if cx.linear[0] =>
            {
                cx.only_linear(0)?;
                let m = lift(cx, ins[rest]);
                // <g, c @ m> = <ta(g, m, c_like), c>; <g, ta(c, m)> = <c, g @ m>;
                // <g, m @ c> = <tb(m, g, c_like), c>; <g, tb(m, c)> = <c, m @ g>;
                // c_like shaped like one seed row.
                let Some((prim, args, row)) = self.adjoint_in_u(all) else {
                    return Err("internal error: a seed product's adjoint".into());
                };
                let row = if row {
                    let r = seed_row(cx, &ins, l, t);
                    lift(cx, r)
                } else {
                    ct
                };
                let ct_c = cx.b.emit(Prim::Matmul(prim), &args(ct, m, row), nb + 1);
                let mut a = seed_args(ct_c);
                a.push(cx.wit(0));
                cts[0] = Some(cx.emit(Prim::Diag(Diag::Extract { has_t, keep: 0 }), &a));
            }
            Diag::Mm { .. } | Diag::Ta { .. } | Diag::MmRight { .. } | Diag::Tb { .. } => {
                cx.only_linear(rest)?;
                let c = cx.emit(
                    Prim::Diag(Diag::Embed {
                        has_t,
                        keep: all >> 1,
                    }),
                    &seed_args(ins[0]),
                );
                let m_like = cx.wit(rest);
                let m_like = lift(cx, m_like);
                // <g, c @ m> = <tb(c, g), m>; <g, ta(c, m)> = <tb(g, c), m>;
                // <g, m @ c> = <ta(g, c), m>; <g, tb(m, c)> = <ta(c, g), m>.
                let Some((prim, seed_first)) = self.adjoint_in_matrix() else {
                    return Err("internal error: a seed product's adjoint".into());
                };
                let pair = if seed_first { [c, ct] } else { [ct, c] };
                let g =
                    cx.b.emit(Prim::Matmul(prim), &[pair[0], pair[1], m_like], nb + 1);
                cts[rest] = Some(cx.emit(Prim::Layout(Layout::Squeeze(Scalar::Int(0))), &[g]));
            }
        }
        Ok(cts)
    }

    /// For a product, the product that takes its cotangent `g` back to
    /// the dense seed (its adjoint in `u`, before `Extract`), with `keep`
    /// for a shape input, and its operands from `g`, the lifted matrix `m`
    /// and (for the products that sum to one) a lifted seed row; `None` for
    /// `Embed` and `Extract`.
    #[allow(clippy::type_complexity)]
    fn adjoint_in_u(self, keep: u32) -> Option<(Matmul, fn(Var, Var, Var) -> Vec<Var>, bool)> {
        match self {
            Diag::Mm { .. } => Some((Matmul::Ta(keep), |g, m, row| vec![g, m, row], true)),
            Diag::MmRight { .. } => Some((Matmul::Tb(keep), |g, m, row| vec![m, g, row], true)),
            Diag::Ta { .. } => Some((Matmul::Mm, |g, m, _| vec![g, m], false)),
            Diag::Tb { .. } => Some((Matmul::Mm, |g, m, _| vec![m, g], false)),
            Diag::Embed { .. } | Diag::Extract { .. } => None,
        }
    }

    /// For a product, its adjoint in the matrix (before the squeeze of the
    /// basis level): the product of the dense seed `c` and the cotangent
    /// `g`, in that order when the flag is set; `None` for `Embed` and
    /// `Extract`.
    fn adjoint_in_matrix(self) -> Option<(Matmul, bool)> {
        match self {
            Diag::Mm { .. } => Some((Matmul::Tb(0), true)),
            Diag::Ta { .. } => Some((Matmul::Tb(0), false)),
            Diag::MmRight { .. } => Some((Matmul::Ta(0), false)),
            Diag::Tb { .. } => Some((Matmul::Ta(0), true)),
            Diag::Embed { .. } | Diag::Extract { .. } => None,
        }
    }

    /// For a `Ta` product, its inputs `[u, like, b, a_like]` and `t` (if it
    /// has one), and its `keep`; `None` for the others.
    pub fn ta_inputs(self, ins: &[Var]) -> Option<([Var; 4], Option<Var>, u32)> {
        let Diag::Ta { has_t, keep } = self else {
            return None;
        };
        let (l, t, rest) = layout(has_t);
        let at = |i: usize| ins.get(i).copied();
        Some((
            [at(0)?, at(l)?, at(rest)?, at(rest + 1)?],
            t.and_then(at),
            keep,
        ))
    }

    /// The input read as a matrix (`b` of `Mm` and `Ta`; the products
    /// with the seed on the right read theirs as stored).
    pub fn matrix_input(self) -> Option<usize> {
        let (_, _, rest) = layout(self.has_t());
        match self {
            Diag::Mm { .. } | Diag::Ta { .. } => Some(rest),
            Diag::Embed { .. } | Diag::Extract { .. } | Diag::MmRight { .. } | Diag::Tb { .. } => {
                None
            }
        }
    }

    /// For `Ta`, the call that also expands the basis dim like `ref_o` and
    /// the last batch dim like `ref_k` and swaps the two, in one pass (see
    /// `fuse::Group::Swapped`); `None` for the others.
    pub fn call_swapped(
        self,
        rt: &TokenStream,
        args: &[TokenStream],
        nb: Literal,
        b_t: bool,
        refs: [&TokenStream; 2],
    ) -> Option<TokenStream> {
        let Diag::Ta { keep, has_t } = self else {
            return None;
        };
        let [u, like, t, b, a] = ta_args(args, has_t);
        let [ref_o, ref_k] = refs;
        Some(quote!(#rt::ops::diag_matmul_ta_swapped(
            #u, #like, #t, #b, #a, #nb, #keep, #b_t, #ref_o, #ref_k
        )))
    }

    /// For `Mm` and `MmRight`, the `ops::DiagMm` operands of the product (`bl`: the
    /// tensor its result is then broadcast like, if any); `None` for the
    /// others.
    pub fn mm_operands(
        self,
        args: &[TokenStream],
        nb: Literal,
        b_t: bool,
        bl: Option<&TokenStream>,
    ) -> Option<TokenStream> {
        let (has_t, right) = match self {
            Diag::Mm { has_t } => (has_t, false),
            Diag::MmRight { has_t } => (has_t, true),
            Diag::Embed { .. } | Diag::Extract { .. } | Diag::Ta { .. } | Diag::Tb { .. } => {
                return None;
            }
        };
        let (l, t, rest) = layout(has_t);
        let (u, like, b) = (&args[0], &args[l], &args[rest]);
        let some = |x: Option<&TokenStream>| match x {
            Some(x) => quote!(::core::option::Option::Some(#x)),
            None => quote!(::core::option::Option::None),
        };
        let t = some(t.map(|i| &args[i]));
        let bl = some(bl);
        Some(quote!(DiagMm {
            u: #u, like: #like, t: #t, b: #b, nb: #nb, b_t: #b_t, bl: #bl, right: #right
        }))
    }

    /// For `Ta`, the `ops::DiagTa` operands of the product; `None` for the
    /// others.
    pub fn ta_operands(self, args: &[TokenStream], nb: Literal, b_t: bool) -> Option<TokenStream> {
        let Diag::Ta { keep, has_t } = self else {
            return None;
        };
        let [u, like, t, b, a] = ta_args(args, has_t);
        Some(quote!(DiagTa {
            u: #u, like: #like, t: #t, b: #b, a_like: #a, nb: #nb, keep: #keep, b_t: #b_t
        }))
    }

    /// The kernel call; with `b_t` the matrix input is passed untransposed
    /// and read as its transpose.
    pub fn call(
        self,
        rt: &TokenStream,
        args: &[TokenStream],
        nb: Literal,
        b_t: bool,
    ) -> TokenStream {
        let (l, t, rest) = layout(self.has_t());
        let (u, like) = (&args[0], &args[l]);
        let t = match t {
            Some(i) => {
                let t = &args[i];
                quote!(::core::option::Option::Some(#t))
            }
            None => quote!(::core::option::Option::None),
        };
        match self {
            Diag::Embed { keep, .. } => quote!(#rt::ops::diag(#u, #like, #t, #nb, #keep)),
            Diag::Extract { keep, .. } => {
                let u_like = &args[rest];
                quote!(#rt::ops::diag_t(#u, #like, #t, #u_like, #nb, #keep))
            }
            Diag::Mm { .. } => {
                let b = &args[rest];
                quote!(#rt::ops::diag_matmul(#u, #like, #t, #b, #nb, #b_t))
            }
            Diag::Ta { keep, .. } => {
                let (b, a) = (&args[rest], &args[rest + 1]);
                quote!(#rt::ops::diag_matmul_ta(#u, #like, #t, #b, #a, #nb, #keep, #b_t))
            }
            Diag::MmRight { .. } => {
                let b = &args[rest];
                quote!(#rt::ops::diag_matmul_right(#u, #like, #t, #b, #nb))
            }
            Diag::Tb { keep, .. } => {
                let (a, b) = (&args[rest], &args[rest + 1]);
                quote!(#rt::ops::diag_matmul_tb(#u, #like, #t, #a, #b, #nb, #keep))
            }
        }
    }
}
