//! The random program generator. `build.rs` runs it to write
//! `$OUT_DIR/programs.rs` (the programs, their source text and a table of
//! their transforms) and `$OUT_DIR/tests.rs` (one `#[test]` per program).
//!
//! Everything is drawn from one seed by a small SplitMix64 generator, so the
//! same seed gives the same file on every machine. Program `i` depends only
//! on the seed and `i` (not on how many programs are drawn), and the helpers
//! only on the seed, so a failing program is reproduced by its seed alone.

mod helpers;
mod ops;
mod render;
pub mod shapes;

pub use render::{programs_file, tests_file};

/// The seed used when `TRANSFORMS_PROPTEST_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x7261_6e64_5f70_726f;
/// The number of programs when `TRANSFORMS_PROPTEST_N` is not set.
pub const DEFAULT_N: usize = 24;

/// SplitMix64: small, fast and the same everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// A constant in `[lo, hi]` with two decimals, as the value the source shows.
    pub fn constant(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + self.unit() * (hi - lo)) * 100.0).round() / 100.0
    }
}

/// Program `index` of `seed` gets a generator of its own.
pub fn program_rng(seed: u64, index: usize) -> Rng {
    let mut r = Rng::new(seed ^ (index as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f));
    r.next_u64();
    r
}

/// A floating-point literal the way the source shows it (`0.50`, `-1.25`).
pub fn lit(c: f64) -> String {
    format!("{c:.2}")
}

/// One generated program.
#[derive(Clone, Debug)]
pub struct Program {
    pub index: usize,
    pub name: String,
    pub params: Vec<Vec<usize>>,
    pub argnum: usize,
    pub out_shape: Vec<usize>,
    /// `in_dims` of the `#[vmap]` variant, one per parameter.
    pub in_dims: Vec<Option<usize>>,
    pub out_dim: usize,
    /// The body, one statement per line, indented by four spaces per level.
    pub body: Vec<String>,
    /// How many operations the body has (a loop counts its body's).
    pub ops: usize,
    pub calls_helpers: bool,
    pub has_loop: bool,
}

impl Program {
    pub fn scalar_out(&self) -> bool {
        self.out_shape.is_empty()
    }

    /// The attributes and the function, as it appears in `programs.rs`.
    pub fn source(&self) -> String {
        let k = self.argnum;
        let mut s = format!(
            "/// {}: {} operations, {} parameter(s), argnums = {k}, output shape {}\n",
            self.name,
            self.ops,
            self.params.len(),
            shapes::list(&self.out_shape)
        );
        for t in ["jacrev", "jacfwd", "jvp", "vjp"] {
            s += &format!("#[{t}(argnums = {k})]\n");
        }
        if self.scalar_out() {
            s += &format!("#[hessian(argnums = {k})]\n");
        }
        let dims: Vec<String> = self
            .in_dims
            .iter()
            .map(|d| d.map_or("None".to_string(), |d| d.to_string()))
            .collect();
        let in_dims = if dims.len() == 1 {
            dims[0].clone()
        } else {
            format!("({})", dims.join(", "))
        };
        s += &format!(
            "#[vmap(in_dims = {in_dims}, out_dims = {})]\n",
            self.out_dim
        );
        s += &format!(
            "#[vmap(jacrev(argnums = {k}), in_dims = {in_dims}, name = {}_vmap_jacrev)]\n",
            self.name
        );
        let params: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, shape)| format!("x{i}: &Tensor<f64> /* {} */", shapes::list(shape)))
            .collect();
        s += &format!(
            "pub fn {}({}) -> Tensor<f64> {{\n",
            self.name,
            params.join(", ")
        );
        for line in &self.body {
            s += &format!("    {line}\n");
        }
        s += "}\n";
        s
    }
}

/// The helpers and `n` programs of `seed`.
pub struct Generated {
    pub seed: u64,
    pub helpers: Vec<helpers::Helper>,
    pub programs: Vec<Program>,
}

pub fn generate(seed: u64, n: usize) -> Generated {
    let helpers = helpers::generate(seed);
    let programs = (0..n)
        .map(|i| ops::program(&mut program_rng(seed, i), i, &helpers))
        .collect();
    Generated {
        seed,
        helpers,
        programs,
    }
}

/// `TRANSFORMS_PROPTEST_SEED` (decimal or `0x` hex) and `TRANSFORMS_PROPTEST_N`.
pub fn parse_seed(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}
