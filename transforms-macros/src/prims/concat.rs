//! Concatenation along a per-example dim, and its adjoint: the part of a
//! tensor that came from one input, cut by the sizes of reference tensors.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{Const, Cts, Jvp, Prim, Transpose};
use crate::ir::{Scalar, Var};

#[derive(Clone, Debug)]
pub enum Concat {
    /// `cat(x_0, .., x_{n-1})` along `dim` (torch.cat; batch dims broadcast).
    Cat { dim: Scalar, n: usize },
    /// `cat_slice(x, like_0, .., like_{n-1})`: part `i` of `x` cut along
    /// `dim` into the sizes the likes have there (the adjoint of `Cat` in
    /// input `i`); the likes only give sizes.
    Slice { dim: Scalar, i: usize, n: usize },
}

impl Concat {
    pub fn arity(&self) -> usize {
        match self {
            Concat::Cat { n, .. } => *n,
            Concat::Slice { n, .. } => n + 1,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Concat::Cat { dim, n } => format!("cat[dim={}, n={n}]", dim.text()),
            Concat::Slice { dim, i, n } => format!("cat_slice[dim={}, {i} of {n}]", dim.text()),
        }
    }

    /// `Cat` is linear in all inputs together, `Slice` in input 0.
    pub fn jvp(&self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        let ins = cx.eqn.ins.clone();
        match self {
            Concat::Cat { .. } => {
                tans.iter().find(|t| t.is_some())?;
                let parts: Vec<Var> = tans
                    .iter()
                    .zip(&ins)
                    .map(|(t, x)| match t {
                        Some(t) => *t,
                        None => cx.emit(Prim::Const(Const::ZerosLike), &[*x]),
                    })
                    .collect();
                Some(cx.emit(Prim::Concat(self.clone()), &parts))
            }
            Concat::Slice { .. } => {
                let mut args = ins;
                args[0] = tans[0]?;
                Some(cx.emit(Prim::Concat(self.clone()), &args))
            }
        }
    }

    pub fn transpose(&self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        let ins = cx.eqn.ins.clone();
        let mut cts = vec![None; ins.len()];
        match self {
            Concat::Cat { dim, n } => {
                let mut args = vec![ct];
                args.extend(ins.iter().map(|v| (cx.witness)(*v)));
                for (i, ct_i) in cts.iter_mut().enumerate() {
                    if cx.linear[i] {
                        let slice = Concat::Slice {
                            dim: dim.clone(),
                            i,
                            n: *n,
                        };
                        let g = cx.emit(Prim::Concat(slice), &args);
                        *ct_i = Some(cx.unbroadcast(g, i));
                    }
                }
            }
            Concat::Slice { dim, i, n } => {
                cx.only_linear(0)?;
                let parts: Vec<Var> = (0..*n)
                    .map(|j| {
                        if j == *i {
                            ct
                        } else {
                            cx.emit(Prim::Const(Const::ZerosLike), &[ins[j + 1]])
                        }
                    })
                    .collect();
                let cat = Concat::Cat {
                    dim: dim.clone(),
                    n: *n,
                };
                let g = cx.emit(Prim::Concat(cat), &parts);
                cts[0] = Some(cx.unbroadcast(g, 0));
            }
        }
        Ok(cts)
    }

    pub fn call(&self, rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
        match self {
            Concat::Cat { dim, .. } => {
                let d = dim.dim_tokens();
                quote!(#rt::ops::cat(&[#(#args),*], #d, #nb))
            }
            Concat::Slice { dim, i, .. } => {
                let d = dim.dim_tokens();
                let (x, likes) = (&args[0], &args[1..]);
                let i = Literal::usize_unsuffixed(*i);
                quote!(#rt::ops::cat_slice(#x, #d, #i, &[#(#likes),*], #nb))
            }
        }
    }
}
