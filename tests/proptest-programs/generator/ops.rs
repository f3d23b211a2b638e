//! The operations a program body is drawn from, each with the shape rule
//! and a bound on the absolute values it produces. Bounds keep every
//! program in a safe numeric range: an operation that could overflow the
//! bound (`exp` of a large value, a product of large factors) is not drawn,
//! and `ln`, `sqrt`, `recip` and `powf` only ever see positive expressions
//! such as `(x.square() + 1.0)`.

use super::helpers::Helper;
use super::shapes::{self, broadcast, fits_into, numel};
use super::{Program, Rng, lit};

/// Inputs are drawn from `[-INPUT_BOUND, INPUT_BOUND]`.
pub const INPUT_BOUND: f64 = 2.0;
const MAX_BOUND: f64 = 60.0;
const MAX_NUMEL: usize = 36;
const MAX_RANK: usize = 3;

#[derive(Clone, Debug)]
struct Var {
    name: String,
    shape: Vec<usize>,
    bound: f64,
    /// Bit `i`: depends on parameter `i`.
    deps: u32,
    param: bool,
    /// Read by a later operation.
    used: bool,
}

impl Var {
    /// As an operand of an operator or a function argument: `x0` or `&v3`.
    fn r(&self) -> String {
        if self.param {
            self.name.clone()
        } else {
            format!("&{}", self.name)
        }
    }
}

/// A drawn expression, before it is bound to a name.
struct New {
    text: String,
    shape: Vec<usize>,
    bound: f64,
    deps: u32,
}

struct Ctx<'a> {
    rng: &'a mut Rng,
    helpers: &'a [Helper],
    vars: Vec<Var>,
    lines: Vec<String>,
    next: usize,
    ops: usize,
    calls_helpers: bool,
    has_loop: bool,
}

pub fn program(rng: &mut Rng, index: usize, helpers: &[Helper]) -> Program {
    // A small pool of sizes, so that matmul and broadcasting often apply.
    let pool: Vec<usize> = (0..3).map(|_| rng.range(2, 4)).collect();
    let nparams = rng.range(1, 3);
    let params: Vec<Vec<usize>> = (0..nparams)
        .map(|_| {
            if rng.chance(0.5) {
                vec![*rng.pick(&pool)]
            } else {
                vec![*rng.pick(&pool), *rng.pick(&pool)]
            }
        })
        .collect();
    let argnum = rng.below(nparams);
    let mut cx = Ctx {
        rng,
        helpers,
        vars: params
            .iter()
            .enumerate()
            .map(|(i, s)| Var {
                name: format!("x{i}"),
                shape: s.clone(),
                bound: INPUT_BOUND,
                deps: 1 << i,
                param: true,
                used: false,
            })
            .collect(),
        lines: Vec::new(),
        next: 0,
        ops: 0,
        calls_helpers: false,
        has_loop: false,
    };
    let target = cx.rng.range(3, 9);
    let mut tries = 0;
    while cx.ops < target && tries < 400 {
        tries += 1;
        cx.step();
    }
    let mut out = cx
        .vars
        .last()
        .cloned()
        .unwrap_or_else(|| cx.vars[0].clone());
    // Fold the values nothing read into the output, so no operation is dead.
    let dead: Vec<Var> = cx
        .vars
        .iter()
        .filter(|v| !v.param && !v.used && v.name != out.name)
        .cloned()
        .collect();
    if !dead.is_empty() {
        let mut text = out.r();
        let (mut bound, mut deps) = (out.bound, out.deps);
        for d in &dead {
            text += &format!(" + {}.tanh().mean()", d.name);
            bound += 1.0;
            deps |= d.deps;
        }
        out = cx.bind(New {
            text,
            shape: out.shape.clone(),
            bound,
            deps,
        });
        cx.ops += 1;
    }
    if out.deps & (1 << argnum) == 0 {
        // Make the output depend on the differentiated parameter.
        let p = cx.vars[argnum].clone();
        let e = New {
            text: format!("{} + {}.tanh().sum()", out.r(), p.name),
            shape: out.shape.clone(),
            bound: out.bound + numel(&p.shape) as f64,
            deps: out.deps | p.deps,
        };
        out = cx.bind(e);
        cx.ops += 1;
    }
    if !out.shape.is_empty() && cx.rng.chance(0.35) {
        let e = if cx.rng.chance(0.5) {
            format!("{}.sum()", out.name)
        } else {
            format!("{}.mean()", out.name)
        };
        out = cx.bind(New {
            text: e,
            shape: Vec::new(),
            bound: out.bound * numel(&out.shape) as f64,
            deps: out.deps,
        });
        cx.ops += 1;
    }
    // The last binding becomes the tail expression.
    let last = cx.lines.pop().unwrap_or_default();
    let prefix = format!("let {} = ", out.name);
    match last.strip_prefix(&prefix).and_then(|l| l.strip_suffix(';')) {
        Some(tail) => cx.lines.push(tail.to_string()),
        None => {
            cx.lines.push(last);
            cx.lines.push(out.name.clone());
        }
    }
    let mut in_dims: Vec<Option<usize>> = params
        .iter()
        .map(|s| cx.rng.chance(0.6).then(|| cx.rng.range(0, s.len())))
        .collect();
    if in_dims.iter().all(Option::is_none) {
        let i = cx.rng.below(nparams);
        in_dims[i] = Some(cx.rng.range(0, params[i].len()));
    }
    let out_dim = cx.rng.range(0, out.shape.len());
    Program {
        index,
        name: format!("p{index}"),
        argnum,
        out_shape: out.shape,
        in_dims,
        out_dim,
        body: cx.lines,
        ops: cx.ops,
        calls_helpers: cx.calls_helpers,
        has_loop: cx.has_loop,
        params,
    }
}

impl Ctx<'_> {
    fn fresh(&mut self) -> String {
        let n = format!("v{}", self.next);
        self.next += 1;
        n
    }

    fn bind(&mut self, e: New) -> Var {
        self.mark_used(&e.text);
        let name = self.fresh();
        self.lines.push(format!("let {name} = {};", e.text));
        let v = Var {
            name,
            shape: e.shape,
            bound: e.bound,
            deps: e.deps,
            param: false,
            used: false,
        };
        self.vars.push(v.clone());
        v
    }

    /// Marks the values `text` reads.
    fn mark_used(&mut self, text: &str) {
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let words: Vec<&str> = text.split(|c: char| !ident(c)).collect();
        for v in &mut self.vars {
            if words.contains(&v.name.as_str()) {
                v.used = true;
            }
        }
    }

    /// An operand: most often the newest value nothing has read yet, else a
    /// parameter (preferably an unread one) or any value.
    fn operand(&mut self) -> Var {
        let unread: Vec<usize> = (0..self.vars.len())
            .rev()
            .filter(|&i| !self.vars[i].used)
            .collect();
        let params: Vec<usize> = (0..self.vars.len())
            .filter(|&i| self.vars[i].param)
            .collect();
        let i = match self.rng.below(10) {
            0..=6 if !unread.is_empty() => unread[0],
            7 | 8 => {
                let fresh: Vec<usize> = params
                    .iter()
                    .copied()
                    .filter(|i| unread.contains(i))
                    .collect();
                *self
                    .rng
                    .pick(if fresh.is_empty() { &params } else { &fresh })
            }
            _ => self.rng.below(self.vars.len()),
        };
        self.vars[i].clone()
    }

    /// One of `cands`, preferably one nothing has read yet.
    fn prefer_unread(&mut self, cands: &[Var]) -> Var {
        let unread: Vec<Var> = cands.iter().filter(|v| !v.used).cloned().collect();
        if !unread.is_empty() && self.rng.chance(0.7) {
            self.rng.pick(&unread).clone()
        } else {
            self.rng.pick(cands).clone()
        }
    }

    /// Draws one operation; `false` when the one drawn does not apply.
    fn step(&mut self) -> bool {
        let a = self.operand();
        let e = match self.rng.below(20) {
            0..=5 => Some(self.unary(&a)),
            6..=9 => self.binary(&a),
            10 | 11 => self.matmul(&a),
            12 => self.linear(&a),
            13 | 14 => self.reduce(&a),
            15..=17 => self.layout(&a),
            18 => self.call(&a),
            _ => return self.for_loop(&a),
        };
        match e {
            Some(e) if e.bound <= MAX_BOUND && numel(&e.shape) <= MAX_NUMEL => {
                self.bind(e);
                self.ops += 1;
                true
            }
            _ => false,
        }
    }

    /// A positive expression of `a`, with bounds `(lo, hi)` on its values.
    fn positive(&mut self, a: &Var) -> (String, f64, f64) {
        let b = a.bound;
        match self.rng.below(4) {
            0 if b <= 2.5 => (format!("{}.exp()", a.name), (-b).exp(), b.exp()),
            1 if b <= 4.0 => {
                let s = 1.0 / (1.0 + b.exp());
                (format!("{}.sigmoid()", a.name), s, 1.0)
            }
            2 => (format!("({}.tanh() + 1.5)", a.name), 0.5, 2.5),
            _ => {
                let c = *self.rng.pick(&[0.5, 1.0, 2.0]);
                (format!("({}.square() + {})", a.name, lit(c)), c, b * b + c)
            }
        }
    }

    /// Elementwise functions of one tensor, and arithmetic with scalars.
    fn unary(&mut self, a: &Var) -> New {
        let b = a.bound;
        let (text, bound) = match self.rng.below(13) {
            0 => (format!("{}.tanh()", a.name), 1.0),
            1 => (format!("{}.sin()", a.name), 1.0),
            2 => (format!("{}.cos()", a.name), 1.0),
            3 => (format!("{}.sigmoid()", a.name), 1.0),
            4 if b <= 2.5 => (format!("{}.exp()", a.name), b.exp()),
            4 => (format!("{}.tanh().exp()", a.name), 1f64.exp()),
            5 if b <= 6.0 => (format!("{}.square()", a.name), b * b),
            6 => {
                let (p, lo, hi) = self.positive(a);
                (format!("{p}.ln()"), lo.ln().abs().max(hi.ln().abs()))
            }
            7 => {
                let (p, _, hi) = self.positive(a);
                (format!("{p}.sqrt()"), hi.sqrt())
            }
            8 => {
                let (p, lo, _) = self.positive(a);
                (format!("{p}.recip()"), 1.0 / lo)
            }
            9 => {
                let e = *self.rng.pick(&[0.5, 1.5, 2.0, 3.0, -0.5, -1.5]);
                let (p, lo, hi) = self.positive(a);
                let bound = if e > 0.0 { hi.powf(e) } else { lo.powf(e) };
                (format!("{p}.powf({})", lit(e)), bound)
            }
            10 if self.rng.chance(0.5) => (format!("-{}", a.r()), b),
            10 => (format!("{}.neg()", a.name), b),
            _ => {
                let c = self.rng.constant(0.3, 2.0) * if self.rng.chance(0.3) { -1.0 } else { 1.0 };
                let r = a.r();
                match self.rng.below(6) {
                    0 => (format!("{r} * {}", lit(c)), b * c.abs()),
                    1 => (format!("{r} + {}", lit(c)), b + c.abs()),
                    2 => (format!("{} - {r}", lit(c)), b + c.abs()),
                    3 => (format!("{r} / {}", lit(c)), b / c.abs()),
                    4 => (format!("{} * {r}", lit(c)), b * c.abs()),
                    _ => (format!("{} / ({}.square() + 1.0)", lit(c), a.name), c.abs()),
                }
            }
        };
        New {
            text,
            shape: a.shape.clone(),
            bound,
            deps: a.deps,
        }
    }

    /// `+ - * /` between two tensors whose shapes broadcast.
    fn binary(&mut self, a: &Var) -> Option<New> {
        let cands: Vec<Var> = self
            .vars
            .iter()
            .filter(|v| broadcast(&a.shape, &v.shape).is_some())
            .cloned()
            .collect();
        let b = self.prefer_unread(&cands);
        let shape = broadcast(&a.shape, &b.shape)?;
        let (x, y) = if self.rng.chance(0.5) {
            (a, &b)
        } else {
            (&b, a)
        };
        // `a - a` and `a / f(a)` would hide the operand; draw `+` or `*` then.
        let same = a.name == b.name;
        let op = match self.rng.below(4) {
            1 | 3 if same => 2 * self.rng.below(2),
            op => op,
        };
        let (text, bound) = match op {
            0 => (format!("{} + {}", x.r(), y.r()), x.bound + y.bound),
            1 => (format!("{} - {}", x.r(), y.r()), x.bound + y.bound),
            2 => (format!("{} * {}", x.r(), y.r()), x.bound * y.bound),
            _ => {
                let (p, lo, _) = self.positive(y);
                (format!("{} / {p}", x.r()), x.bound / lo)
            }
        };
        Some(New {
            text,
            shape,
            bound,
            deps: a.deps | b.deps,
        })
    }

    /// torch.matmul with any value it applies to, possibly transposed.
    fn matmul(&mut self, a: &Var) -> Option<New> {
        let mut cands = Vec::new();
        for v in &self.vars {
            if let Some((s, k)) = shapes::matmul(&a.shape, &v.shape) {
                cands.push((v.clone(), false, s, k));
            }
            if v.shape.len() == 2 {
                let t = [v.shape[1], v.shape[0]];
                if let Some((s, k)) = shapes::matmul(&a.shape, &t) {
                    cands.push((v.clone(), true, s, k));
                }
            }
        }
        if cands.is_empty() {
            return None;
        }
        let (b, t, shape, k) = self.rng.pick(&cands).clone();
        let rb = if t { format!("&{}.t()", b.name) } else { b.r() };
        let text = if self.rng.chance(0.5) {
            format!("matmul({}, {rb})", a.r())
        } else {
            format!("{}.matmul({rb})", a.name)
        };
        Some(New {
            text,
            shape,
            bound: a.bound * b.bound * k as f64,
            deps: a.deps | b.deps,
        })
    }

    /// `linear(x, w, b)` with `x: [.., k]`, `w: [o, k]` and a bias that
    /// broadcasts into the result.
    fn linear(&mut self, x: &Var) -> Option<New> {
        let k = *x.shape.last()?;
        let ws: Vec<Var> = self
            .vars
            .iter()
            .filter(|w| w.shape.len() == 2 && w.shape[1] == k)
            .cloned()
            .collect();
        if ws.is_empty() {
            return None;
        }
        let w = self.rng.pick(&ws).clone();
        let mut shape = x.shape[..x.shape.len() - 1].to_vec();
        shape.push(w.shape[0]);
        let bs: Vec<Var> = self
            .vars
            .iter()
            .filter(|b| fits_into(&b.shape, &shape))
            .cloned()
            .collect();
        if bs.is_empty() {
            return None;
        }
        let b = self.prefer_unread(&bs);
        Some(New {
            text: format!("linear({}, {}, {})", x.r(), w.r(), b.r()),
            shape,
            bound: x.bound * w.bound * k as f64 + b.bound,
            deps: x.deps | w.deps | b.deps,
        })
    }

    /// `sum`, `mean`, `sum_dim`, `mean_dim` (sometimes with a negative dim).
    fn reduce(&mut self, a: &Var) -> Option<New> {
        let r = a.shape.len();
        if r == 0 {
            return None;
        }
        let op = if self.rng.chance(0.5) { "sum" } else { "mean" };
        let n = numel(&a.shape) as f64;
        if r == 1 || self.rng.chance(0.3) {
            let bound = if op == "sum" { a.bound * n } else { a.bound };
            return Some(New {
                text: format!("{}.{op}()", a.name),
                shape: Vec::new(),
                bound,
                deps: a.deps,
            });
        }
        let d = self.rng.below(r);
        let shown = if self.rng.chance(0.25) {
            d as isize - r as isize
        } else {
            d as isize
        };
        let mut shape = a.shape.clone();
        let size = shape.remove(d) as f64;
        let bound = if op == "sum" { a.bound * size } else { a.bound };
        Some(New {
            text: format!("{}.{op}_dim({shown})", a.name),
            shape,
            bound,
            deps: a.deps,
        })
    }

    /// `t`, `transpose`, `unsqueeze`, `reshape`.
    fn layout(&mut self, a: &Var) -> Option<New> {
        let r = a.shape.len();
        let (text, shape) = match self.rng.below(4) {
            0 if r == 2 || (r == 1 && self.rng.chance(0.2)) => {
                let mut s = a.shape.clone();
                s.reverse();
                (format!("{}.t()", a.name), s)
            }
            1 if r >= 2 => {
                let i = self.rng.below(r);
                let j = (i + 1 + self.rng.below(r - 1)) % r;
                let mut s = a.shape.clone();
                s.swap(i, j);
                (format!("{}.transpose({i}, {j})", a.name), s)
            }
            2 if r < MAX_RANK => {
                let d = self.rng.range(0, r);
                let shown = if self.rng.chance(0.25) {
                    d as isize - r as isize - 1
                } else {
                    d as isize
                };
                let mut s = a.shape.clone();
                s.insert(d, 1);
                (format!("{}.unsqueeze({shown})", a.name), s)
            }
            3 => {
                let s = self.factor(numel(&a.shape));
                let mut shown: Vec<String> = s.iter().map(|d| d.to_string()).collect();
                if s.len() > 1 && self.rng.chance(0.3) {
                    let i = self.rng.below(s.len());
                    shown[i] = "-1".into();
                }
                (format!("{}.reshape(&[{}])", a.name, shown.join(", ")), s)
            }
            _ => return None,
        };
        Some(New {
            text,
            shape,
            bound: a.bound,
            deps: a.deps,
        })
    }

    /// A random shape of `n` elements with one to three dims.
    fn factor(&mut self, n: usize) -> Vec<usize> {
        let mut dims = Vec::new();
        let mut rest = n;
        let parts = self.rng.range(1, MAX_RANK);
        for _ in 1..parts {
            let divisors: Vec<usize> = (1..=rest).filter(|&d| rest.is_multiple_of(d)).collect();
            let d = *self.rng.pick(&divisors);
            dims.push(d);
            rest /= d;
        }
        dims.push(rest);
        dims
    }

    /// A call to one of the `#[differentiable]` helpers.
    fn call(&mut self, a: &Var) -> Option<New> {
        let h = self.rng.pick(self.helpers).clone();
        let mut args = vec![a.r()];
        let mut shape = a.shape.clone();
        let mut deps = a.deps;
        if h.tensors == 2 {
            let cands: Vec<Var> = self
                .vars
                .iter()
                .filter(|v| broadcast(&a.shape, &v.shape).is_some())
                .cloned()
                .collect();
            let b = self.prefer_unread(&cands);
            shape = broadcast(&a.shape, &b.shape)?;
            deps |= b.deps;
            args.push(b.r());
        }
        if h.scalar {
            args.push(lit(self.rng.constant(0.5, 1.5)));
        }
        self.calls_helpers = true;
        Some(New {
            text: format!("helpers::{}({})", h.name, args.join(", ")),
            shape,
            bound: h.bound,
            deps,
        })
    }

    /// `for i in 0..n` carrying a tensor of `a`'s shape: one or two
    /// operations on it, then `c = &c * 0.5 + u.tanh() * (..)`.
    fn for_loop(&mut self, a: &Var) -> bool {
        if self.has_loop || a.shape.is_empty() {
            return false;
        }
        self.has_loop = true;
        let n = self.rng.range(1, 4);
        let range = match self.rng.below(3) {
            0 => format!("(0..{n}).rev()"),
            1 => format!("1..={n}"),
            _ => format!("0..{n}"),
        };
        let name = self.fresh();
        self.lines
            .push(format!("let mut {name} = {}.clone();", a.name));
        self.lines.push(format!("for i in {range} {{"));
        self.mark_used(&a.name);
        let carried = Var {
            name: name.clone(),
            shape: a.shape.clone(),
            bound: a.bound.max(2.4) + 0.1,
            deps: a.deps,
            param: false,
            used: false,
        };
        let outer = self.vars.len();
        let saved = std::mem::take(&mut self.lines);
        self.vars.push(carried.clone());
        let mut deps = a.deps;
        let u = self.unary(&carried);
        deps |= u.deps;
        let mut last = self.bind(u);
        self.ops += 1;
        if self.rng.chance(0.7) {
            let fits: Vec<Var> = self.vars[..outer]
                .iter()
                .filter(|v| fits_into(&v.shape, &carried.shape))
                .cloned()
                .collect();
            if !fits.is_empty() {
                let b = self.prefer_unread(&fits);
                let text = match self.rng.below(3) {
                    0 => format!("{} * {}", last.r(), b.r()),
                    1 => format!("{} + {}", b.r(), last.r()),
                    _ => format!("{} - {}", last.r(), b.r()),
                };
                deps |= b.deps;
                last = self.bind(New {
                    text,
                    shape: carried.shape.clone(),
                    bound: 0.0,
                    deps,
                });
                self.ops += 1;
            }
        }
        let factor = if self.rng.chance(0.6) {
            format!("(0.8 + i as f64 * {})", lit(self.rng.constant(0.05, 0.1)))
        } else {
            lit(self.rng.constant(0.5, 1.0))
        };
        self.lines.push(format!(
            "{name} = &{name} * 0.5 + {}.tanh() * {factor};",
            last.name
        ));
        let body = std::mem::replace(&mut self.lines, saved);
        self.lines
            .extend(body.into_iter().map(|l| format!("    {l}")));
        self.lines.push("}".into());
        self.vars.truncate(outer);
        self.vars.push(Var {
            deps,
            used: false,
            ..carried
        });
        true
    }
}
