//! NVRTC compilation (once per process, device and module) and kernel
//! launches.

use std::sync::Arc;

use cudarc::driver::{
    CudaFunction, CudaModule, CudaSlice, DeviceRepr, LaunchArgs, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::{CompileOptions, Ptx, compile_ptx_with_opts};
use transforms_kernels::cuda::{BROADCAST, Index32, Module};

use super::{Backend, cuda_fail};
use crate::float::Float;

/// Compiles `source` with NVRTC for `arch` (for example `compute_90`; `None`
/// for NVRTC's default).
pub(crate) fn compile(source: &str, arch: Option<&str>) -> Result<Ptx, String> {
    let mut options = vec!["--std=c++17".to_string()];
    if let Some(arch) = arch {
        options.push(format!("--gpu-architecture={arch}"));
    }
    compile_ptx_with_opts(
        source,
        CompileOptions {
            options,
            ..Default::default()
        },
    )
    .map_err(|e| match e {
        cudarc::nvrtc::CompileError::CompileError { log, .. } => log.to_string_lossy().into_owned(),
        e => format!("{e:?}"),
    })
}

/// Threads per block of the grid-stride kernels (and of `sum_rows`, whose
/// tree needs a power of two).
const BLOCK: u32 = 256;

/// `sum_rows` (a block per output element) serves sums of at least
/// [`BLOCK`] elements into fewer outputs than this; below, one thread per
/// output element keeps the device busy.
const ROWS_BELOW: usize = 4096;

/// An [`Index32`] as a kernel argument, passed by value.
#[repr(transparent)]
struct IndexArg(Index32);

// SAFETY: `Index32` is `repr(C)` plain old data (`u32` fields only), laid
// out as `struct Index32` of `prelude.cuh`.
unsafe impl DeviceRepr for IndexArg {}

/// A strided kernel's leading arguments: `(n, ix)` for its `_i32` form, or
/// `(n, ndim, info)` for its 64-bit form.
enum Lead {
    Index(u32, IndexArg),
    Info(u64, i32, CudaSlice<u64>),
}

impl Lead {
    /// The kernel name suffix of this form.
    fn suffix(&self) -> &'static str {
        match self {
            Lead::Index(..) => "_i32",
            Lead::Info(..) => "",
        }
    }

    fn push<'a>(&'a self, b: &mut LaunchArgs<'a>) {
        match self {
            Lead::Index(n, ix) => {
                b.arg(n).arg(ix);
            }
            Lead::Info(n, ndim, info) => {
                b.arg(n).arg(ndim).arg(info);
            }
        }
    }
}

/// The launch shape of a grid-stride kernel over `n` items (`n > 0`).
pub(super) fn config(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(BLOCK as usize).min(1 << 16) as u32;
    LaunchConfig {
        grid_dim: (blocks.max(1), 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

impl Backend {
    /// The module under `key`, compiled from `source()` at first use.
    fn module(&self, op: &str, key: &str, source: impl FnOnce() -> String) -> Arc<CudaModule> {
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = modules.get(key) {
            return m.clone();
        }
        let ptx = compile(&source(), Some(&self.arch)).unwrap_or_else(|log| {
            panic!(
                "transforms: {op}: NVRTC failed to compile the CUDA module `{key}` for {}:\n{log}",
                self.arch
            )
        });
        let m = self
            .stream
            .context()
            .load_module(ptx)
            .unwrap_or_else(|e| cuda_fail(op, e));
        modules.insert(key.to_string(), m.clone());
        m
    }

    /// Kernel `name` of an embedded module.
    pub(crate) fn function(&self, op: &str, module: Module, name: &str) -> CudaFunction {
        self.module(op, module.name, || module.source())
            .load_function(name)
            .unwrap_or_else(|e| cuda_fail(op, e))
    }

    /// The kernel of a fused chain `expr` of `arity` inputs over `T`, in its
    /// form `suffix` (`""` or `"_i32"`).
    pub(crate) fn fused_function<T: Float>(
        &self,
        op: &str,
        arity: usize,
        expr: &str,
        suffix: &str,
    ) -> CudaFunction {
        let key = format!("fused{arity}:{}:{expr}", T::C_TYPE);
        let src = || transforms_kernels::cuda::fused_source(arity, expr, T::C_TYPE);
        self.module(op, &key, src)
            .load_function(&format!(
                "{}{suffix}",
                transforms_kernels::cuda::FUSED_KERNEL
            ))
            .unwrap_or_else(|e| cuda_fail(op, e))
    }

    /// `f(n, x, scalars.., y)` over contiguous `x` of `n` elements.
    pub(crate) fn launch_map<T: Float>(
        &self,
        op: &str,
        f: &CudaFunction,
        x: &CudaSlice<T>,
        scalars: &[T],
        n: usize,
    ) -> CudaSlice<T> {
        let mut y = self.uninit::<T>(op, n);
        if n == 0 {
            return y;
        }
        let n64 = n as u64;
        let mut b = self.stream.launch_builder(f);
        b.arg(&n64).arg(x);
        for s in scalars {
            b.arg(s);
        }
        b.arg(&mut y);
        // SAFETY: the kernels of elementwise.cu take (n, x, scalars.., y)
        // with x and y of at least n elements.
        unsafe { b.launch(config(n)) }.unwrap_or_else(|e| cuda_fail(op, e));
        y
    }

    /// A broadcasting kernel over an output of shape `out`, each input read
    /// through its stride row (see [`launch_strided_with`](Self::launch_strided_with)).
    pub(crate) fn launch_strided<T: Float>(
        &self,
        op: &str,
        kernel: impl FnOnce(&str) -> CudaFunction,
        out: &[usize],
        inputs: &[(&CudaSlice<T>, &[usize])],
    ) -> CudaSlice<T> {
        self.launch_strided_with(op, kernel, out, inputs, &[])
    }

    /// A broadcasting kernel over an output of shape `out`, each input read
    /// through its stride row, with `scalars` passed after the inputs (a
    /// fused chain's runtime scalars): `kernel("_i32")(n, ix, inputs..,
    /// scalars.., y)` when the index fits 32 bits ([`Index32`]), else
    /// `kernel("")(n, ndim, info, inputs.., scalars.., y)` (the suffix picks
    /// the kernel's form).
    pub(crate) fn launch_strided_with<T: Float>(
        &self,
        op: &str,
        kernel: impl FnOnce(&str) -> CudaFunction,
        out: &[usize],
        inputs: &[(&CudaSlice<T>, &[usize])],
        scalars: &[T],
    ) -> CudaSlice<T> {
        let n: usize = out.iter().product();
        let mut y = self.uninit::<T>(op, n);
        if n == 0 {
            return y;
        }
        let rows: Vec<&[usize]> = inputs.iter().map(|(_, s)| *s).collect();
        let lead = self.lead(op, out, &rows);
        let f = kernel(lead.suffix());
        let mut b = self.stream.launch_builder(&f);
        lead.push(&mut b);
        for (x, _) in inputs {
            b.arg(*x);
        }
        for s in scalars {
            b.arg(s);
        }
        b.arg(&mut y);
        // SAFETY: the kernels of broadcast.cu and the fused kernels take
        // (n, ix, inputs.., scalars.., y) in their `_i32` form and (n, ndim,
        // info, inputs.., scalars.., y) in the other (a fused kernel
        // declares as many scalars as its expression uses, checked by the
        // caller); every stride row stays inside its input (the shapes
        // broadcast to `out`), and `Index32::new` checked that the offsets
        // fit 32 bits; y has n elements, each written once.
        unsafe { b.launch(config(n)) }.unwrap_or_else(|e| cuda_fail(op, e));
        y
    }

    /// `copy(n, ndim, info, offset, x, y)`: the strided gather (its `_i32`
    /// form `(n, ix, offset, x, y)` when the index fits).
    pub(crate) fn launch_copy<T: Float>(
        &self,
        op: &str,
        x: &CudaSlice<T>,
        out: &[usize],
        strides: &[usize],
        offset: usize,
    ) -> CudaSlice<T> {
        let n: usize = out.iter().product();
        let mut y = self.uninit::<T>(op, n);
        if n == 0 {
            return y;
        }
        let lead = self.lead(op, out, &[strides]);
        let name = format!("copy_{}{}", T::SUFFIX, lead.suffix());
        let f = self.function(op, BROADCAST, &name);
        let off = offset as u64;
        let mut b = self.stream.launch_builder(&f);
        lead.push(&mut b);
        b.arg(&off).arg(x).arg(&mut y);
        // SAFETY: copy_<ty> takes (n, ndim, info, offset, x, y) and
        // copy_<ty>_i32 (n, ix, offset, x, y); the caller's strides and
        // offset stay inside x; y has n elements, each written once.
        unsafe { b.launch(config(n)) }.unwrap_or_else(|e| cuda_fail(op, e));
        y
    }

    /// Sums `x` (shape `shape`) over the dims where `mask` is set: with
    /// 32-bit indices, one thread per output element, or one block per
    /// output element for few long sums (`sum_rows`); else the 64-bit
    /// `sum(n_out, nk, nr, info, x, y)`.
    pub(crate) fn launch_sum<T: Float>(
        &self,
        op: &str,
        x: &CudaSlice<T>,
        shape: &[usize],
        mask: &[bool],
    ) -> CudaSlice<T> {
        let strides = transforms_kernels::cpu::contiguous_strides(shape);
        let pick = |keep: bool| -> (Vec<usize>, Vec<usize>) {
            (0..shape.len())
                .filter(|&d| mask[d] != keep)
                .map(|d| (shape[d], strides[d]))
                .unzip()
        };
        let (kd, ks) = pick(true);
        let (rd, rs) = pick(false);
        let n_out: usize = kd.iter().product();
        let count: usize = rd.iter().product();
        let mut y = self.uninit::<T>(op, n_out);
        if n_out == 0 {
            return y;
        }
        let module = transforms_kernels::cuda::REDUCE;
        if let (Some(kept), Some(red)) = (Index32::new(&kd, &[&ks]), Index32::new(&rd, &[&rs])) {
            let rows = n_out < ROWS_BELOW && count >= BLOCK as usize;
            let name = if rows { "sum_rows" } else { "sum" };
            let f = self.function(op, module, &format!("{name}_{}_i32", T::SUFFIX));
            let (n32, c32) = (n_out as u32, count as u32);
            let (kept, red) = (IndexArg(kept), IndexArg(red));
            let mut b = self.stream.launch_builder(&f);
            b.arg(&n32)
                .arg(&c32)
                .arg(&kept)
                .arg(&red)
                .arg(x)
                .arg(&mut y);
            let cfg = if rows {
                LaunchConfig {
                    grid_dim: (n_out as u32, 1, 1),
                    block_dim: (BLOCK, 1, 1),
                    shared_mem_bytes: 0,
                }
            } else {
                config(n_out)
            };
            // SAFETY: sum_<ty>_i32 and sum_rows_<ty>_i32 take (n_out, count,
            // kept, red, x, y); the kept and summed dims partition x's
            // contiguous shape, so every offset stays inside x (and fits 32
            // bits, checked by `Index32::new`); sum_rows needs blocks of
            // BLOCK threads, a power of two; y has n_out elements.
            unsafe { b.launch(cfg) }.unwrap_or_else(|e| cuda_fail(op, e));
            return y;
        }
        let f = self.function(op, module, &format!("sum_{}", T::SUFFIX));
        let wide = |v: &[usize]| v.iter().map(|&d| d as u64).collect::<Vec<u64>>();
        let info_host: Vec<u64> = [wide(&kd), wide(&ks), wide(&rd), wide(&rs)].concat();
        let info = self.upload_info(op, &info_host);
        let (n64, nk, nr) = (n_out as u64, kd.len() as i32, rd.len() as i32);
        let mut b = self.stream.launch_builder(&f);
        b.arg(&n64).arg(&nk).arg(&nr).arg(&info).arg(x).arg(&mut y);
        // SAFETY: sum_<ty> takes (n_out, nk, nr, info, x, y); the kept and
        // summed dims partition x's contiguous shape.
        unsafe { b.launch(config(n_out)) }.unwrap_or_else(|e| cuda_fail(op, e));
        y
    }

    /// The leading arguments of a strided kernel over the non-empty output
    /// `out` read through the stride `rows`: the 32-bit index when it fits,
    /// else the dims and rows uploaded.
    fn lead(&self, op: &str, out: &[usize], rows: &[&[usize]]) -> Lead {
        let n: usize = out.iter().product();
        match Index32::new(out, rows) {
            Some(ix) => Lead::Index(n as u32, IndexArg(ix)),
            None => Lead::Info(
                n as u64,
                out.len() as i32,
                self.info(op, out, rows.iter().copied()),
            ),
        }
    }

    /// The `info` array: the dims, then each stride row.
    fn info<'a>(
        &self,
        op: &str,
        out: &[usize],
        rows: impl IntoIterator<Item = &'a [usize]>,
    ) -> CudaSlice<u64> {
        let mut host: Vec<u64> = out.iter().map(|&d| d as u64).collect();
        for row in rows {
            debug_assert_eq!(row.len(), out.len());
            host.extend(row.iter().map(|&s| s as u64));
        }
        self.upload_info(op, &host)
    }

    /// [`upload_info`](Self::upload_info) of host indices.
    pub(super) fn upload_indices(&self, op: &str, host: &[usize]) -> CudaSlice<u64> {
        let wide: Vec<u64> = host.iter().map(|&i| i as u64).collect();
        self.upload_info(op, &wide)
    }

    /// `host` in a new device buffer (one zero for an empty one).
    pub(super) fn upload_info(&self, op: &str, host: &[u64]) -> CudaSlice<u64> {
        if host.is_empty() {
            return self
                .stream
                .alloc_zeros::<u64>(1)
                .unwrap_or_else(|e| cuda_fail(op, e));
        }
        self.stream
            .clone_htod(host)
            .unwrap_or_else(|e| cuda_fail(op, e))
    }
}
