//! Fusion of elementwise chains: an elementwise equation whose result is used
//! exactly once, by an elementwise equation with the same batch dims, is
//! folded into its user, so a chain such as `t * (1 - y^2)` becomes one pass
//! over its inputs with no temporaries (`ops::map` / `zip2` / `zip3`).

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::dense_fold::DenseJac;
use crate::ir::{Eqn, Var};
use crate::prims::Prim;
use crate::tview::Views;

/// At most this many distinct tensor inputs per fused kernel.
const MAX_LEAVES: usize = 3;

pub enum Group<'a> {
    Single(&'a Eqn),
    Fused(Fused<'a>),
    /// An equation reading `t(w)` (at `Prim::transposable_input`) straight
    /// from `w`, without materialising the transpose (see `tview`).
    Transposed {
        eqn: &'a Eqn,
        w: Var,
    },
    /// A batching lift of a transposed view, emitted as a lift of `data`.
    LiftUntransposed {
        eqn: &'a Eqn,
        data: Var,
    },
    /// `movedim(expand_dim0_like(expand_dim0_like(p, ref_o), ref_k), 0, 1)`
    /// of a seed product `p` (a Hessian's inner Jacobian, see
    /// `transforms::jac::hessian`): the product writes the swapped layout
    /// itself instead of a copy moving the whole result. `w` is `p`'s
    /// matrix input when read through a transposed view.
    Swapped {
        out: &'a Eqn,
        prod: &'a Eqn,
        w: Option<Var>,
        refs: [Var; 2],
    },
    /// `movedim(expand_dim0_like(chain(.., p, ..), reference), 0, -1)`
    /// with `p` a seed product (in leaf `slot` of the elementwise chain,
    /// broadcast like `bl` first if that is given): jacfwd's Jacobian of a
    /// layer, written transposed in one pass (`ops::diag_matmul_map_last`).
    /// `w` is `dm`'s matrix input when read through a transposed view.
    MovedLast {
        out: &'a Eqn,
        fused: Fused<'a>,
        dm: &'a Eqn,
        w: Option<Var>,
        bl: Option<Var>,
        slot: usize,
        reference: Var,
    },
    /// `chain(.., p, ..)` with `p` a reverse-mode seed product (`Diag::Ta`,
    /// in leaf `slot` of the elementwise chain): the chain applied as the
    /// product writes its rows (`ops::diag_matmul_ta_map`). `w` is `ta`'s
    /// matrix input when read through a transposed view.
    TaChain {
        fused: Fused<'a>,
        ta: &'a Eqn,
        w: Option<Var>,
        slot: usize,
    },
    /// A dense layer's reverse-mode Jacobian: its product, the chain to
    /// the scales and the seed product, in one call (`ops::dense_jac`).
    DenseJac(DenseJac<'a>),
    /// A dense layer's Hessian: the forward seed product, the chain over it
    /// and the reverse seed product in the Hessian's layout, in one call
    /// (`ops::dense_hess`).
    DenseHess(crate::hess_fold::DenseHess<'a>),
    /// `add(acc, p)` with `p` (and the products and seeds only it reads)
    /// made in blocks of rows of its outer batch dim, each added into
    /// `acc` as it is made (`ops::add_rows`).
    Rows(crate::rows::Rows<'a>),
}

/// A tree of elementwise equations computed in one pass.
pub struct Fused<'a> {
    pub leaves: Vec<Var>,
    pub out: Var,
    pub span: Span,
    pub(crate) nb: u8,
    pub(crate) root: &'a Eqn,
    pub(crate) inner: HashMap<Var, &'a Eqn>,
}

impl<'a> Fused<'a> {
    /// The chain rooted at `root` (at `nb` batch dims) with the producers
    /// [`collect`] folds into it.
    pub(crate) fn collected(
        root: &'a Eqn,
        nb: u8,
        by_out: &HashMap<Var, &'a Eqn>,
        uses: &HashMap<Var, usize>,
    ) -> Fused<'a> {
        let mut inner: HashMap<Var, &Eqn> = HashMap::new();
        let mut leaves: Vec<Var> = Vec::new();
        collect(root, nb, 0, by_out, uses, &mut inner, &mut leaves);
        Fused {
            leaves,
            out: root.out,
            span: root.span,
            nb,
            root,
            inner,
        }
    }

    /// The equation at the root of the chain.
    #[cfg(test)]
    pub fn root_eqn(&self) -> &Eqn {
        self.root
    }

    /// The chain as a closure over the leaves in order, `|x0, x1, ..| ..`,
    /// and beside it the same chain as CUDA C for the GPU path
    /// (`ops::fused*_src`) with its scalars that are not constants, passed
    /// as kernel arguments `sc0, sc1, ..` (evaluated as in the closure);
    /// `None` for a chain with no CUDA form.
    fn kernel(&self, rt: &TokenStream) -> (TokenStream, Option<(String, Vec<TokenStream>)>) {
        let params: Vec<_> = (0..self.leaves.len())
            .map(|i| format_ident!("x{}", i))
            .collect();
        let body = self.expr(rt, self.root, &params);
        let mut scalars = Vec::new();
        let cuda = self.cuda_with(self.root, &mut scalars);
        (quote!(|#(#params),*| #body), cuda.map(|src| (src, scalars)))
    }

    /// The kernel call over the leaves (given as references).
    pub fn call(&self, rt: &TokenStream, args: &[TokenStream]) -> TokenStream {
        let nb = proc_macro2::Literal::usize_unsuffixed(self.nb as usize);
        let (f, cuda) = self.kernel(rt);
        if let Some((cuda, scalars)) = cuda {
            let sc = quote!(&[#(#scalars),*]);
            return match args {
                [a] => quote!(#rt::ops::fused1_src(#a, #f, #cuda, #sc)),
                [a, b] => quote!(#rt::ops::fused2_src(#a, #b, #nb, #f, #cuda, #sc)),
                _ => quote!(#rt::ops::fused3_src(#(#args,)* #nb, #f, #cuda, #sc)),
            };
        }
        match args {
            [a] => quote!(#rt::ops::fused1(#a, #f)),
            [a, b] => quote!(#rt::ops::fused2(#a, #b, #nb, #f)),
            _ => quote!(#rt::ops::fused3(#(#args,)* #nb, #f)),
        }
    }

    /// How many times the chain's equations read `v`.
    pub fn reads(&self, v: Var) -> usize {
        std::iter::once(self.root)
            .chain(self.inner.values().copied())
            .flat_map(|e| e.ins.iter())
            .filter(|i| **i == v)
            .count()
    }

    /// The kernel call that writes its result over leaf `slot`, a tensor
    /// nothing reads afterwards (`ops::fused*_reusing`), with `args` the
    /// leaves in order, `args[slot]` the owned tensor (the others borrowed).
    pub fn call_reusing(&self, rt: &TokenStream, slot: usize, args: &[TokenStream]) -> TokenStream {
        // The reused leaf first: the closure's parameters and the CUDA C's
        // `x0, x1, ..` follow the leaves' order.
        let mut leaves = self.leaves.clone();
        let mut args = args.to_vec();
        if slot < leaves.len() && slot < args.len() {
            let v = leaves.remove(slot);
            leaves.insert(0, v);
            let a = args.remove(slot);
            args.insert(0, a);
        }
        let moved = Fused {
            leaves,
            inner: self.inner.clone(),
            ..*self
        };
        let nb = proc_macro2::Literal::usize_unsuffixed(moved.nb as usize);
        let (f, cuda) = moved.kernel(rt);
        let (cuda, sc) = match cuda {
            Some((src, scalars)) => (
                quote!(::core::option::Option::Some(#src)),
                quote!(&[#(#scalars),*]),
            ),
            None => (quote!(::core::option::Option::None), quote!(&[])),
        };
        match &args[..] {
            [a] => quote!(#rt::ops::fused1_reusing(#a, #f, #cuda, #sc)),
            [a, b] => quote!(#rt::ops::fused2_reusing(#a, #b, #nb, #f, #cuda, #sc)),
            _ => quote!(#rt::ops::fused3_reusing(#(#args,)* #nb, #f, #cuda, #sc)),
        }
    }

    /// The chain as a closure taking leaf `slot`'s value first and the
    /// others' as one array, `|x1, [x0, x2]: [_; 2]| ..`.
    pub fn split_closure(&self, rt: &TokenStream, slot: usize) -> TokenStream {
        let params: Vec<_> = (0..self.leaves.len())
            .map(|i| format_ident!("x{}", i))
            .collect();
        let body = self.expr(rt, self.root, &params);
        let first = &params[slot];
        let rest: Vec<_> = params
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != slot)
            .map(|(_, p)| p)
            .collect();
        let n = proc_macro2::Literal::usize_unsuffixed(rest.len());
        quote!(|#first, [#(#rest),*]: [_; #n]| #body)
    }

    /// The chain's CUDA C (see [`Fused::cuda`]) from its root, when every
    /// scalar in it is a constant.
    pub fn cuda_src(&self) -> Option<String> {
        self.cuda(self.root)
    }

    /// The chain rooted at `e` as a CUDA C expression over `x0, x1, ..` of
    /// type `T`, calling the CUDA prelude's `t_<name>` twins of the `elem`
    /// functions; `None` if a scalar is not a finite constant.
    pub fn cuda(&self, e: &Eqn) -> Option<String> {
        let mut runtime = Vec::new();
        self.cuda_with(e, &mut runtime)
            .filter(|_| runtime.is_empty())
    }

    /// [`Fused::cuda`], with each scalar that is not a constant written as
    /// the kernel argument `sc<k>` and its Rust expression pushed to
    /// `scalars` (`k` its position there); `None` for a constant that is
    /// not finite.
    pub fn cuda_with(&self, e: &Eqn, scalars: &mut Vec<TokenStream>) -> Option<String> {
        let mut args = Vec::new();
        for v in &e.ins {
            args.push(match self.inner.get(v) {
                Some(inner) => self.cuda_with(inner, scalars)?,
                None => format!("x{}", self.leaves.iter().position(|l| l == v)?),
            });
        }
        let call = |name: &str, args: &[String]| format!("t_{name}({})", args.join(", "));
        Some(match &e.prim {
            Prim::Unary(u) => call(u.name(), &args),
            Prim::WithScalar(w) => {
                let (name, consts) = w.parts();
                for s in consts {
                    args.push(match cuda_scalar(s) {
                        Some(lit) => lit,
                        None if s.is_constant() => return None,
                        None => {
                            scalars.push(s.tokens());
                            format!("sc{}", scalars.len() - 1)
                        }
                    });
                }
                call(name, &args)
            }
            Prim::Binary(b) => call(b.name(), &args),
            Prim::Where => call("where", &args),
            _ => return None,
        })
    }

    fn operand(&self, rt: &TokenStream, v: Var, params: &[syn::Ident]) -> TokenStream {
        match self.inner.get(&v) {
            Some(e) => self.expr(rt, e, params),
            None => {
                let i = self.leaves.iter().position(|l| *l == v).unwrap_or(0);
                let p = &params[i];
                quote!(#p)
            }
        }
    }

    fn expr(&self, rt: &TokenStream, e: &Eqn, params: &[syn::Ident]) -> TokenStream {
        let args: Vec<TokenStream> = e.ins.iter().map(|v| self.operand(rt, *v, params)).collect();
        elem_call(rt, &e.prim, &args)
    }
}

/// Elementwise primitive `prim` applied to scalar expressions `args`.
pub fn elem_call(rt: &TokenStream, prim: &Prim, args: &[TokenStream]) -> TokenStream {
    match prim {
        Prim::Unary(u) => u.elem(rt, &args[0]),
        Prim::WithScalar(s) => s.elem(rt, &args[0]),
        Prim::Binary(b) => b.elem(rt, &args[0], &args[1]),
        Prim::Where => crate::prims::where_elem(rt, args),
        // Only in a dense layer's chain (`dense_fold`), never fused.
        Prim::Const(crate::prims::Const::ZerosLike) => {
            let like = &args[0];
            quote!(#rt::elem::zero_like(#like))
        }
        Prim::Concat(_)
        | Prim::Matmul(_)
        | Prim::Reduce(_)
        | Prim::Layout(_)
        | Prim::Relayout(_)
        | Prim::Const(crate::prims::Const::GradSeed)
        | Prim::Diag(_)
        | Prim::Scan(_)
        | Prim::Proj(_)
        | Prim::Custom(_)
        | Prim::CustomLin(_) => {
            quote!(::core::compile_error!(
                "transforms: internal error: fused a non-elementwise primitive"
            ))
        }
    }
}

/// A constant scalar as a CUDA C literal of type `T`.
fn cuda_scalar(s: &crate::ir::Scalar) -> Option<String> {
    use crate::ir::Scalar;
    let v = match s {
        Scalar::Float(v) => *v,
        Scalar::Int(v) => *v as f64,
        _ => return None,
    };
    v.is_finite().then(|| format!("T({v:?})"))
}

/// Partitions `eqns` into single equations and fused trees, in an order
/// that computes every group after its operands and before its readers;
/// `views` are the transposed views of the whole list `eqns` belongs to.
/// With `layers`, dense layers' Jacobians and Hessians are grouped
/// (`Group::DenseJac`, `Group::DenseHess`).
pub fn groups<'a>(eqns: &'a [Eqn], outs: &[Var], views: &Views, layers: bool) -> Vec<Group<'a>> {
    let mut uses: HashMap<Var, usize> = HashMap::new();
    for e in eqns {
        for v in &e.ins {
            *uses.entry(*v).or_default() += 1;
        }
    }
    for v in outs {
        *uses.entry(*v).or_default() += 2;
    }
    let by_out: HashMap<Var, &Eqn> = eqns.iter().map(|e| (e.out, e)).collect();
    let pos: HashMap<Var, usize> = eqns.iter().enumerate().map(|(i, e)| (e.out, i)).collect();
    let dense = if layers {
        let taken = claimed_products(eqns, &by_out, &uses, views);
        crate::dense_fold::find(eqns, outs, views, &uses, &taken)
    } else {
        Vec::new()
    };
    let order = crate::dense_fold::schedule(eqns, &dense);
    let mut dense: Vec<Option<DenseJac<'a>>> = dense.into_iter().map(Some).collect();
    let in_dense: HashMap<Var, usize> = dense
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.iter().flat_map(|d| &d.members).map(move |e| (e.out, i)))
        .collect();
    // Elementwise chains do not fold a sum across a product (see
    // `memory_order`): such a producer counts as read twice.
    let pinned = crate::memory_order::pinned(&order, &uses);
    let mut chain_uses = uses.clone();
    for v in &pinned {
        *chain_uses.entry(*v).or_default() += 1;
    }
    // Candidates to fold into their single user.
    let mut folded: HashMap<Var, bool> = HashMap::new();
    let mut groups = Vec::new();
    // Walk from the end so each root claims its foldable producers first.
    let mut roots: Vec<Group<'a>> = Vec::new();
    for &e in order.iter().rev() {
        if folded.get(&e.out).copied().unwrap_or(false) {
            continue;
        }
        if let Some(&i) = in_dense.get(&e.out) {
            // The group at its seed product's position; its other members
            // are computed by the same call.
            if let Some(d) = dense[i].take_if(|d| d.root.out == e.out) {
                roots.push(Group::DenseJac(d));
            }
            continue;
        }
        let hess = layers
            .then(|| crate::hess_fold::find(e, eqns, &by_out, &uses, views))
            .flatten();
        if let Some(h) = hess {
            for m in &h.members {
                folded.insert(m.out, true);
            }
            roots.push(Group::DenseHess(h));
            continue;
        }
        if let Some((group, inner)) = crate::layout_folds::moved_last(e, &by_out, &uses, views) {
            for v in inner {
                folded.insert(v, true);
            }
            roots.push(group);
            continue;
        }
        if let Some((group, inner)) = crate::layout_folds::swapped(e, &by_out, &uses, views) {
            for v in inner {
                folded.insert(v, true);
            }
            roots.push(group);
            continue;
        }
        if views.defines(e) {
            if let Some(data) = views.lifted_source(e) {
                roots.push(Group::LiftUntransposed { eqn: e, data });
            }
            continue;
        }
        if let Some(w) = views.read_by(e) {
            roots.push(Group::Transposed { eqn: e, w });
            continue;
        }
        if !e.prim.is_elementwise() {
            roots.push(Group::Single(e));
            continue;
        }
        let fused = Fused::collected(e, e.nb, &by_out, &chain_uses);
        if let Some((ta, slot)) = crate::layout_folds::ta_leaf(&fused, &by_out, &uses, views) {
            folded.insert(ta.out, true);
            for v in fused.inner.keys() {
                folded.insert(*v, true);
            }
            let w = views.read_by(ta);
            roots.push(Group::TaChain { fused, ta, w, slot });
            continue;
        }
        if fused.inner.is_empty() {
            let taken = |v: Var| in_dense.contains_key(&v) || folded.contains_key(&v);
            if let Some(g) = crate::rows::find(e, &by_out, &uses, views, &pos, &taken) {
                for m in &g.members {
                    folded.insert(m.out, true);
                }
                roots.push(Group::Rows(g));
                continue;
            }
        }
        // A sum kept apart, and its reader, are chains of one equation
        // so that they can write over a dead term in place.
        let apart = pinned.contains(&e.out) || e.ins.iter().any(|v| pinned.contains(v));
        if fused.inner.is_empty() && !apart {
            roots.push(Group::Single(e));
            continue;
        }
        for v in fused.inner.keys() {
            folded.insert(*v, true);
        }
        roots.push(Group::Fused(fused));
    }
    roots.reverse();
    groups.extend(roots);
    groups
}

/// The seed products that other folds take (`Group::Swapped` and
/// `Group::TaChain`), which a dense layer's group leaves to them.
fn claimed_products(
    eqns: &[Eqn],
    by_out: &HashMap<Var, &Eqn>,
    uses: &HashMap<Var, usize>,
    views: &Views,
) -> std::collections::HashSet<Var> {
    let mut taken = std::collections::HashSet::new();
    for e in eqns {
        if let Some((Group::Swapped { prod, .. }, _)) =
            crate::layout_folds::swapped(e, by_out, uses, views)
        {
            taken.insert(prod.out);
        }
        // A product read once, by an elementwise chain one batch dim up.
        for v in &e.ins {
            let chained = e.prim.is_elementwise()
                && uses.get(v) == Some(&1)
                && by_out
                    .get(v)
                    .is_some_and(|p| matches!(p.prim, Prim::Diag(_)) && p.nb + 1 == e.nb);
            if chained {
                taken.insert(*v);
            }
        }
    }
    taken
}

/// Adds to `inner` the producers of `e`'s inputs that can be folded, keeping
/// the number of leaves within [`MAX_LEAVES`] with `reserve` slots kept for
/// inputs of enclosing equations not yet visited.
pub(crate) fn collect<'a>(
    e: &'a Eqn,
    nb: u8,
    reserve: usize,
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    inner: &mut HashMap<Var, &'a Eqn>,
    leaves: &mut Vec<Var>,
) {
    for (k, v) in e.ins.iter().enumerate() {
        let pending = reserve + (e.ins.len() - k - 1);
        let producer = by_out
            .get(v)
            .filter(|p| p.prim.is_elementwise() && p.nb == nb && uses.get(v) == Some(&1));
        if let Some(p) = producer {
            // Fold only if the leaves stay within bounds.
            let mut trial_inner = inner.clone();
            let mut trial_leaves = leaves.clone();
            trial_inner.insert(*v, p);
            collect(
                p,
                nb,
                pending,
                by_out,
                uses,
                &mut trial_inner,
                &mut trial_leaves,
            );
            if trial_leaves.len() + pending <= MAX_LEAVES {
                *inner = trial_inner;
                *leaves = trial_leaves;
                continue;
            }
        }
        if !leaves.contains(v) {
            leaves.push(*v);
        }
    }
}
