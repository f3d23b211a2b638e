//! Tensors built from a reference tensor's shape alone (no derivative).

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Const {
    /// Zeros of like's shape (a symbolic zero made concrete).
    ZerosLike,
    /// Ones of like's shape; like must be 0-dim per example (grad's seed).
    GradSeed,
}

impl Const {
    pub fn name(self) -> &'static str {
        match self {
            Const::ZerosLike => "zeros_like",
            Const::GradSeed => "grad_seed",
        }
    }

    pub fn call(self, rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
        let f = format_ident!("{}", self.name());
        let like = &args[0];
        quote!(#rt::ops::#f(#like, #nb))
    }
}
