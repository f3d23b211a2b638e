//! Functions with user-written derivative rules (`#[custom_jvp]`,
//! `#[custom_vjp]`, JAX semantics), as higher-order primitives.
//!
//! `y = custom[primal, rule](x..)` computes `primal(x..)`. Its JVP (in
//! `transforms::custom`) inlines the user's JVP rule; for a custom VJP it
//! inlines the forward rule for the residuals and emits
//! `t_y = custom_lin[bwd](t_x.., residuals.., y)`, a primitive linear in the
//! tangents whose transpose is the user's backward rule, inlined as
//! written, and whose forward evaluation (for forward mode: jvp, jacfwd,
//! hessian) is derived by transposing the backward rule, which works when
//! that rule is linear in the cotangent and is a compile error naming why
//! otherwise.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::codegen::{self, Operand};
use crate::ir::Func;

/// A custom rule's bodies (tensor parameters only; scalars are substituted).
#[derive(Clone, Debug)]
pub enum Rule {
    /// Parameters `x.., t..`; outputs `(y, t_y)`.
    Jvp(Func),
    /// `fwd`: parameters `x..`, outputs `(y, residuals..)`; `bwd`:
    /// parameters `residuals.., ct`, outputs one cotangent per `x`.
    Vjp { fwd: Func, bwd: Func },
}

#[derive(Clone, Debug)]
pub struct Custom {
    pub id: u32,
    /// The user's function, for messages.
    pub name: String,
    /// Parameters `x..`, one output.
    pub primal: Func,
    pub rule: Rule,
}

/// The tangent map of a custom VJP (see the module docs). Inputs:
/// `t_x.. (n_in), residuals.., y`.
#[derive(Clone, Debug)]
pub struct CustomLin {
    pub id: u32,
    pub name: String,
    pub n_in: usize,
    /// Parameters `residuals.., ct`; outputs one cotangent per `t_x`.
    pub bwd: Func,
    /// Parameters `t_x.., residuals.., y` (y for its shape); output `t_y`;
    /// or why it cannot be derived.
    pub fwd_map: Result<Func, String>,
    /// The call's span (for that error).
    pub span: proc_macro2::Span,
}

/// `f`'s body as a block expression with its parameters bound to `args`.
pub fn inline_block(f: &Func, args: &[TokenStream]) -> TokenStream {
    let mut env = HashMap::new();
    for (p, a) in f.params.iter().filter_map(|p| p.var()).zip(args) {
        env.insert(p, Operand::Ref(a.clone()));
    }
    let body = codegen::stmts(&f.eqns, &f.outs, &mut env);
    let outs = codegen::take(&env, &f.outs);
    quote!({ #body #(#outs)* })
}

impl Custom {
    pub fn arity(&self) -> usize {
        self.primal
            .params
            .iter()
            .filter(|p| p.var().is_some())
            .count()
    }

    pub fn name(&self) -> String {
        let kind = match self.rule {
            Rule::Jvp(_) => "custom_jvp",
            Rule::Vjp { .. } => "custom_vjp",
        };
        format!("{kind}#{}[{}]", self.id, self.name)
    }

    pub fn call(&self, args: &[TokenStream]) -> TokenStream {
        inline_block(&self.primal, args)
    }
}

impl CustomLin {
    pub fn arity(&self) -> usize {
        self.n_in + self.bwd.params.len()
    }

    pub fn name(&self) -> String {
        format!("custom_lin#{}[{}]", self.id, self.name)
    }

    pub fn call(&self, args: &[TokenStream]) -> TokenStream {
        match &self.fwd_map {
            Ok(f) => inline_block(f, args),
            Err(why) => {
                let msg = format!(
                    "transforms: forward mode (jvp, jacfwd, hessian) of `{}` needs its custom_vjp backward rule to be linear in the cotangent, so that the forward rule can be derived from it: {why}",
                    self.name
                );
                quote::quote_spanned!(self.span=> ::core::compile_error!(#msg))
            }
        }
    }
}
