//! CUDA C sources of the kernels of the runtime's CUDA backend (feature
//! `cuda`), embedded in the crate. The backend compiles each module with
//! NVRTC, once per process and device, for the device's architecture.
//!
//! Every kernel exists for `f32` and `f64` (name suffix `_f32` / `_f64`).
//! The sources are checked by compiling them with NVRTC on the CPU
//! (`transforms-runtime`'s `cuda_nvrtc` test); running them needs a GPU.

mod index;
pub use index::{Index32, MAX_DIMS, MAX_OPERANDS, coalesce, magic, magic_div};

/// Declarations every module starts with: `u64`, `GRID_STRIDE`, `offset_of`
/// (64-bit strided offsets), `Index32` and `offsets32` (the 32-bit index
/// passed by value, [`Index32`]) and the per-element functions `t_<op>`
/// (the twins of the runtime's `elem` module), which fused chains call by
/// name.
pub const PRELUDE: &str = include_str!("../cuda/prelude.cuh");

/// A kernel module: its name and its body (compiled after [`PRELUDE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Module {
    /// The module's name (the file name without `.cu`).
    pub name: &'static str,
    /// The CUDA C body.
    pub body: &'static str,
}

impl Module {
    /// The full source: [`PRELUDE`] followed by the body.
    pub fn source(&self) -> String {
        [PRELUDE, "\n", self.body].concat()
    }
}

/// Contiguous elementwise kernels: `unary_<op>`, `scalar_<op>`, `scalar2_<op>`.
pub const ELEMENTWISE: Module = Module {
    name: "elementwise",
    body: include_str!("../cuda/elementwise.cu"),
};

/// Broadcasting kernels: `binary_<op>`, `where`, and the strided `copy`.
pub const BROADCAST: Module = Module {
    name: "broadcast",
    body: include_str!("../cuda/broadcast.cu"),
};

/// Reductions: `sum` over any subset of dims.
pub const REDUCE: Module = Module {
    name: "reduce",
    body: include_str!("../cuda/reduce.cu"),
};

/// Ops along one dim: `place` (padding, concatenation), `gather`
/// (index_select) and `index_add` (its adjoint).
pub const SLICES: Module = Module {
    name: "slices",
    body: include_str!("../cuda/slices.cu"),
};

/// Every embedded module.
pub const MODULES: [Module; 4] = [ELEMENTWISE, BROADCAST, REDUCE, SLICES];

/// The name of the kernel of a fused elementwise chain.
pub const FUSED_KERNEL: &str = "fused";

/// The CUDA C source of a fused elementwise chain of `arity` inputs (1 to 3)
/// over the element type `ty` (`"float"` or `"double"`): `expr` is a C
/// expression of type `T` in the inputs `x0`, `x1`, `x2`, calling the
/// prelude's `t_<op>` functions (for example `"t_tanh(x0) * x1"`).
///
/// The kernel is `fused(n, ndim, info, in0, .., y)`, with `info` as in the
/// broadcasting kernels: output dims, then one stride row per input; its
/// `fused_i32(n, ix, in0, .., y)` form takes an [`Index32`] by value.
///
/// # Panics
/// If `arity` is not 1, 2 or 3, or `ty` is not `float` or `double`.
pub fn fused_source(arity: usize, expr: &str, ty: &str) -> String {
    assert!((1..=3).contains(&arity), "fused chains have 1 to 3 inputs");
    assert!(
        ty == "float" || ty == "double",
        "the element type is float or double"
    );
    let params: String = (0..arity).map(|k| format!(", const T* in{k}")).collect();
    let scalars: String = (0..fused_scalars(expr))
        .map(|k| format!(", T sc{k}"))
        .collect();
    let loads: String = (0..arity)
        .map(|k| {
            format!(
                "        T x{k} = in{k}[offset_of(i, ndim, info, info + {} * ndim)];\n",
                k + 1
            )
        })
        .collect();
    let loads32: String = (0..arity)
        .map(|k| format!("        T x{k} = in{k}[off[{k}]];\n"))
        .collect();
    format!(
        "{PRELUDE}\ntypedef {ty} T;\n\
         extern \"C\" __global__ void {FUSED_KERNEL}(u64 n, int ndim, const u64* info{params}{scalars}, T* y) {{\n\
         \x20   GRID_STRIDE(i, n) {{\n{loads}        y[i] = ({expr});\n    }}\n}}\n\
         extern \"C\" __global__ void {FUSED_KERNEL}_i32(u32 n, Index32 ix{params}{scalars}, T* y) {{\n\
         \x20   GRID_STRIDE(i, n) {{\n        u32 off[{arity}];\n        offsets32<{arity}>((u32)i, ix, off);\n\
         {loads32}        y[i] = ({expr});\n    }}\n}}\n"
    )
}

/// How many runtime scalars `sc0, sc1, ..` a fused chain's expression
/// takes (kernel arguments after the inputs, in that order): one more than
/// the largest `k` of an `sc<k>` in it.
pub fn fused_scalars(expr: &str) -> usize {
    let bytes = expr.as_bytes();
    let mut count = 0;
    for (i, _) in expr.match_indices("sc") {
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let digits: String = expr[i + 2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if starts_word && let Ok(k) = digits.parse::<usize>() {
            count = count.max(k + 1);
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_source_shape() {
        let s = fused_source(2, "t_tanh(x0) * x1", "float");
        assert!(s.starts_with(PRELUDE));
        assert!(s.contains("typedef float T;"));
        assert!(s.contains(
            "void fused(u64 n, int ndim, const u64* info, const T* in0, const T* in1, T* y)"
        ));
        assert!(s.contains("T x1 = in1[offset_of(i, ndim, info, info + 2 * ndim)];"));
        assert!(s.contains("y[i] = (t_tanh(x0) * x1);"));
        assert!(s.contains("void fused_i32(u32 n, Index32 ix, const T* in0, const T* in1, T* y)"));
        assert!(s.contains("offsets32<2>((u32)i, ix, off);"));
        assert!(s.contains("T x1 = in1[off[1]];"));
    }

    #[test]
    fn runtime_scalars_are_kernel_arguments_after_the_inputs() {
        assert_eq!(fused_scalars("t_mul_scalar(x0, sc0)"), 1);
        assert_eq!(fused_scalars("t_powf(t_add_scalar(x0, sc1), sc0)"), 2);
        assert_eq!(fused_scalars("t_tanh(x0)"), 0);
        assert_eq!(fused_scalars("t_clamp(x0, T(-1.0), T(1.0))"), 0);
        let s = fused_source(1, "t_mul_scalar(x0, sc0)", "double");
        assert!(
            s.contains("void fused(u64 n, int ndim, const u64* info, const T* in0, T sc0, T* y)")
        );
    }

    #[test]
    fn every_module_defines_both_element_types() {
        for m in MODULES {
            assert!(
                m.body.contains("f32") && m.body.contains("f64"),
                "{}",
                m.name
            );
            assert!(m.source().contains("__global__"), "{}", m.name);
        }
    }
}
