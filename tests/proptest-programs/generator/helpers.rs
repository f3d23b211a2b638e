//! Random `#[differentiable]` helpers the programs may call. A helper is
//! shape-polymorphic (elementwise, broadcasting its two tensors, plus
//! whole-tensor normalisations), so a call's shape is the broadcast of its
//! arguments, and its output is bounded whatever its inputs.

use super::{Rng, lit};

#[derive(Clone, Debug)]
pub struct Helper {
    pub name: String,
    /// One or two tensor parameters.
    pub tensors: usize,
    /// A trailing `s: f64` parameter.
    pub scalar: bool,
    /// A bound on the output's absolute values.
    pub bound: f64,
    pub source: String,
}

const BOUNDED: [&str; 4] = ["tanh", "sin", "cos", "sigmoid"];

pub const COUNT: usize = 3;

pub fn generate(seed: u64) -> Vec<Helper> {
    let mut rng = Rng::new(seed ^ 0x6865_6c70_6572_7321);
    rng.next_u64();
    let mut out: Vec<Helper> = Vec::new();
    for i in 0..COUNT {
        let h = helper(&mut rng, i, &out);
        out.push(h);
    }
    out
}

fn helper(rng: &mut Rng, i: usize, earlier: &[Helper]) -> Helper {
    let name = format!("h{i}");
    let tensors = rng.range(1, 2);
    let scalar = rng.chance(0.5);
    let mut params = vec!["x: &Tensor<f64>".to_string()];
    if tensors == 2 {
        params.push("y: &Tensor<f64>".into());
    }
    if scalar {
        params.push("s: f64".into());
    }
    let scale = if scalar {
        "s".to_string()
    } else {
        lit(rng.constant(0.5, 1.5))
    };
    let u1 = rng.pick(&BOUNDED).to_string();
    let u2 = rng.pick(&BOUNDED).to_string();
    // `a`: an unbounded mix of the inputs.
    let a = if tensors == 2 {
        match rng.below(4) {
            0 => "x * y".to_string(),
            1 => "x + y".to_string(),
            2 => format!("x - y * {}", lit(rng.constant(0.3, 1.5))),
            _ => format!("x * y.{u2}()"),
        }
    } else {
        match rng.below(3) {
            0 => format!("x * {}", lit(rng.constant(0.3, 1.5))),
            1 => format!("x.square() * {}", lit(rng.constant(0.1, 0.5))),
            _ => format!("{} - x", lit(rng.constant(-1.0, 1.0))),
        }
    };
    let mut body = vec![format!("let a = {a};")];
    // `b`: bounded by 1.5 + 1 (|scale| <= 1.5).
    body.push(format!("let b = a.{u1}() * {scale} + x.{u2}();"));
    let (tail, bound) = match rng.below(3) {
        0 => ("&b / (b.square().sum() + 1.0).sqrt()".to_string(), 1.0),
        1 if !earlier.is_empty() => {
            let callee = rng.pick(earlier);
            let mut args = vec!["&b".to_string()];
            if callee.tensors == 2 {
                args.push("x".into());
            }
            if callee.scalar {
                args.push(lit(rng.constant(0.5, 1.5)));
            }
            (
                format!("{}({}) * a.{u2}()", callee.name, args.join(", ")),
                callee.bound,
            )
        }
        _ => (
            format!("b.{u1}() * {} + a.{u2}()", lit(rng.constant(-1.5, 1.5))),
            2.5,
        ),
    };
    body.push(tail);
    let mut source = format!(
        "#[differentiable]\npub fn {name}({}) -> Tensor<f64> {{\n",
        params.join(", ")
    );
    for line in body {
        source += &format!("    {line}\n");
    }
    source += "}\n";
    Helper {
        name,
        tensors,
        scalar,
        bound,
        source,
    }
}
