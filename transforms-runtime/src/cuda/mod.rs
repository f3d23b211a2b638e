//! The CUDA backend (feature `cuda`): device buffers, one context, stream
//! and cuBLAS handle per device (created at first use and cached for the
//! process), host/device copies, and the kernels of `transforms-kernels`'
//! `cuda` module compiled with NVRTC for the device's architecture at first
//! use (cached per process and device).
//!
//! Its test suites (`tests/devices.rs`, `transforms-runtime/tests/device.rs`)
//! first passed on an H200 on 2026-11-30; CI, without a GPU, builds it and
//! NVRTC-compiles every CUDA source.
//!
//! cudarc loads the CUDA libraries at run time and panics when one is
//! missing, so [`libraries`] checks that each is loadable first and turns
//! absence into [`Error::CudaUnavailable`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::cublas::CudaBlas;
use cudarc::cublas::safe::{Gemm, GemmConfig, StridedBatchedConfig};
use cudarc::driver::sys::CUmemPool_attribute;
use cudarc::driver::{
    CudaContext, CudaModule, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr,
    ValidAsZeroBits,
};

use crate::device::Device;
use crate::error::Error;
use crate::float::Float;
use crate::tensor::Tensor;

mod kernels;
pub(crate) mod ops;
pub(crate) mod slices;

/// Element types of CUDA tensors (`f32` and `f64`): the kernel name suffix,
/// the C type, and the cuBLAS GEMM of the type.
pub trait CudaFloat: DeviceRepr + ValidAsZeroBits + Unpin + Sized {
    /// Kernel name suffix (`f32` / `f64`).
    const SUFFIX: &'static str;
    /// The C type (`float` / `double`).
    const C_TYPE: &'static str;
    /// `cublas<S|D>gemmStridedBatched`.
    ///
    /// # Safety
    /// The configuration must fit the buffers.
    #[doc(hidden)]
    unsafe fn gemm_strided_batched<A: DevicePtr<Self>, B: DevicePtr<Self>, C: DevicePtrMut<Self>>(
        blas: &CudaBlas,
        cfg: StridedBatchedConfig<Self>,
        a: &A,
        b: &B,
        c: &mut C,
    ) -> Result<(), cudarc::cublas::result::CublasError>;
    /// `cublas<S|D>gemm`.
    ///
    /// # Safety
    /// The configuration must fit the buffers.
    #[doc(hidden)]
    unsafe fn gemm<A: DevicePtr<Self>, B: DevicePtr<Self>, C: DevicePtrMut<Self>>(
        blas: &CudaBlas,
        cfg: GemmConfig<Self>,
        a: &A,
        b: &B,
        c: &mut C,
    ) -> Result<(), cudarc::cublas::result::CublasError>;
}

macro_rules! cuda_float {
    ($t:ty, $suffix:literal, $c:literal) => {
        impl CudaFloat for $t {
            const SUFFIX: &'static str = $suffix;
            const C_TYPE: &'static str = $c;
            unsafe fn gemm_strided_batched<
                A: DevicePtr<Self>,
                B: DevicePtr<Self>,
                C: DevicePtrMut<Self>,
            >(
                blas: &CudaBlas,
                cfg: StridedBatchedConfig<Self>,
                a: &A,
                b: &B,
                c: &mut C,
            ) -> Result<(), cudarc::cublas::result::CublasError> {
                // SAFETY: forwarded from the caller.
                unsafe { Gemm::<$t>::gemm_strided_batched(blas, cfg, a, b, c) }
            }
            unsafe fn gemm<A: DevicePtr<Self>, B: DevicePtr<Self>, C: DevicePtrMut<Self>>(
                blas: &CudaBlas,
                cfg: GemmConfig<Self>,
                a: &A,
                b: &B,
                c: &mut C,
            ) -> Result<(), cudarc::cublas::result::CublasError> {
                // SAFETY: forwarded from the caller.
                unsafe { Gemm::<$t>::gemm(blas, cfg, a, b, c) }
            }
        }
    };
}
cuda_float!(f32, "f32", "float");
cuda_float!(f64, "f64", "double");

/// The data of a CUDA tensor: a shared device buffer (at least one element
/// long, so that empty tensors have a valid allocation), the shape, and the
/// device. Reshapes share the buffer.
#[derive(Clone)]
pub(crate) struct CudaData<T> {
    buf: Arc<CudaSlice<T>>,
    shape: Vec<usize>,
    ordinal: usize,
}

impl<T: Float> CudaData<T> {
    pub(crate) fn ordinal(&self) -> usize {
        self.ordinal
    }

    pub(crate) fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub(crate) fn buf(&self) -> &CudaSlice<T> {
        &self.buf
    }

    /// The same buffer under another shape of the same element count.
    pub(crate) fn reshaped(&self, shape: &[usize]) -> Self {
        CudaData {
            buf: self.buf.clone(),
            shape: shape.to_vec(),
            ordinal: self.ordinal,
        }
    }

    /// A tensor holding this data (its CPU array an empty placeholder that
    /// nothing reads: every accessor and op checks the device first).
    pub(crate) fn into_tensor(self) -> Tensor<T> {
        Tensor::on_cuda(self)
    }
}

/// What one device holds for the process: context, stream, cuBLAS handle,
/// its architecture (`compute_XY`) and the NVRTC-compiled modules by key.
pub(crate) struct Backend {
    ordinal: usize,
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    arch: String,
    modules: Mutex<HashMap<String, Arc<CudaModule>>>,
}

/// Checks, once per process, that the CUDA driver, NVRTC and cuBLAS
/// libraries can be loaded (cudarc would panic at the first call otherwise).
pub(crate) fn libraries() -> Result<(), Error> {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let check = CHECK.get_or_init(|| {
        // SAFETY: each only tries to dlopen the library and closes it again.
        let (driver, nvrtc, cublas) = unsafe {
            (
                cudarc::driver::sys::is_culib_present(),
                cudarc::nvrtc::sys::is_culib_present(),
                cudarc::cublas::sys::is_culib_present(),
            )
        };
        let missing = |what: &str| {
            Err(format!(
                "the {what} cannot be loaded (searched the dynamic loader's paths, \
                 LD_LIBRARY_PATH included)"
            ))
        };
        if !driver {
            missing("CUDA driver library (libcuda.so, from the NVIDIA driver)")
        } else if !nvrtc {
            missing("NVRTC library (libnvrtc.so.13, CUDA 13)")
        } else if !cublas {
            missing("cuBLAS library (libcublas.so.13, CUDA 13)")
        } else {
            Ok(())
        }
    });
    check
        .clone()
        .map_err(|reason| Error::CudaUnavailable { reason })
}

/// Compiles CUDA C `source` to PTX with NVRTC, for the virtual architecture
/// `arch` (for example `"compute_90"`; `None`: NVRTC's default). Needs only
/// the NVRTC library, no GPU and no driver: this is how the kernel sources
/// (and the fused chains the compiler emits) are checked on a CPU machine.
///
/// # Errors
/// [`Error::CudaUnavailable`] when libnvrtc cannot be loaded;
/// [`Error::Cuda`] with NVRTC's log when the source does not compile.
pub fn nvrtc_compile(source: &str, arch: Option<&str>) -> Result<String, Error> {
    // SAFETY: only tries to dlopen the library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(Error::CudaUnavailable {
            reason: "the NVRTC library (libnvrtc.so.13, CUDA 13) cannot be loaded \
                     (searched the dynamic loader's paths, LD_LIBRARY_PATH included)"
                .into(),
        });
    }
    kernels::compile(source, arch)
        .map(|ptx| ptx.to_src())
        .map_err(|log| Error::Cuda {
            op: "nvrtc",
            message: log,
        })
}

/// The backend of CUDA device `ordinal`, created at first use.
pub(crate) fn backend(ordinal: usize) -> Result<Arc<Backend>, Error> {
    static BACKENDS: OnceLock<Mutex<HashMap<usize, Arc<Backend>>>> = OnceLock::new();
    libraries()?;
    let mut map = BACKENDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(b) = map.get(&ordinal) {
        return Ok(b.clone());
    }
    let unavailable = |what: &str, e: &dyn std::fmt::Debug| Error::CudaUnavailable {
        reason: format!("cuda:{ordinal}: {what} failed: {e:?}"),
    };
    let count = CudaContext::device_count().map_err(|e| unavailable("counting devices", &e))?;
    if ordinal >= count.max(0) as usize {
        return Err(Error::CudaUnavailable {
            reason: format!("there is no device cuda:{ordinal} ({count} CUDA devices found)"),
        });
    }
    let ctx = CudaContext::new(ordinal).map_err(|e| unavailable("creating a context", &e))?;
    // All work of a device goes through its one stream, which orders every
    // use of a buffer: no events per buffer (cudarc creates two at each
    // allocation otherwise, and records them at each launch).
    // SAFETY: no buffer of this context exists yet.
    unsafe { ctx.disable_event_tracking() };
    if ctx.has_async_alloc() {
        // Buffers come from the device's stream-ordered pool; keep what
        // they free there (as torch's and JAX's allocators keep theirs)
        // instead of unmapping it at every synchronisation.
        let mut keep = u64::MAX;
        pool_attribute(
            &ctx,
            CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            &mut keep,
            true,
        )
        .map_err(|e| unavailable("configuring the memory pool", &e))?;
    }
    let (major, minor) = ctx
        .compute_capability()
        .map_err(|e| unavailable("reading the compute capability", &e))?;
    let stream = ctx.default_stream();
    let blas = CudaBlas::new(stream.clone()).map_err(|e| unavailable("creating cuBLAS", &e))?;
    let b = Arc::new(Backend {
        ordinal,
        stream,
        blas,
        arch: format!("compute_{major}{minor}"),
        modules: Mutex::new(HashMap::new()),
    });
    map.insert(ordinal, b.clone());
    Ok(b)
}

/// Reads (or, with `set`, writes) a `u64` attribute of the default memory
/// pool of `ctx`'s device.
fn pool_attribute(
    ctx: &CudaContext,
    attr: CUmemPool_attribute,
    value: &mut u64,
    set: bool,
) -> Result<(), cudarc::driver::DriverError> {
    use cudarc::driver::result::{device, mem_pool};
    // SAFETY: the device comes from a live context, and the three
    // attributes used here (release threshold, used and high-water bytes)
    // are `cuuint64_t`, which `value` points to.
    unsafe {
        let pool = device::get_default_mem_pool(ctx.cu_device())?;
        let ptr = (value as *mut u64).cast();
        if set {
            mem_pool::set_attribute(pool, attr, ptr)
        } else {
            mem_pool::get_attribute(pool, attr, ptr)
        }
    }
}

/// The backend of a device the tensors already live on (so it exists).
pub(crate) fn backend_of(op: &str, ordinal: usize) -> Arc<Backend> {
    backend(ordinal).unwrap_or_else(|e| panic!("transforms: {op}: {e}"))
}

/// Panics with a CUDA error in the format of the other op errors.
#[cold]
#[track_caller]
pub(crate) fn cuda_fail(op: &str, e: impl std::fmt::Debug) -> ! {
    panic!("transforms: {op}: CUDA error: {e:?}")
}

impl Backend {
    /// Waits for the work queued on this device's stream.
    pub(crate) fn synchronize(&self) -> Result<(), Error> {
        self.stream.synchronize().map_err(|e| Error::Cuda {
            op: "synchronize",
            message: format!("cuda:{}: {e:?}", self.ordinal),
        })
    }

    /// Bytes of live buffers from this device's pool (total minus free, all
    /// processes, on a device without stream-ordered allocation).
    pub(crate) fn memory_in_use(&self) -> Result<usize, Error> {
        let used = CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_CURRENT;
        if let Some(bytes) = self.pool(used, None)? {
            return Ok(bytes as usize);
        }
        let (free, total) = self
            .stream
            .context()
            .mem_get_info()
            .map_err(|e| Error::Cuda {
                op: "memory_in_use",
                message: format!("cuda:{}: {e:?}", self.ordinal),
            })?;
        Ok(total - free)
    }

    /// The most bytes of live buffers from this device's pool since the last
    /// [`reset_peak_memory`](Self::reset_peak_memory) (`None` without
    /// stream-ordered allocation).
    pub(crate) fn peak_memory(&self) -> Result<Option<usize>, Error> {
        let high = CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_HIGH;
        Ok(self.pool(high, None)?.map(|b| b as usize))
    }

    /// Starts a new [`peak_memory`](Self::peak_memory) from the bytes in use now.
    pub(crate) fn reset_peak_memory(&self) -> Result<(), Error> {
        let high = CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_HIGH;
        self.pool(high, Some(0)).map(|_| ())
    }

    /// Reads `attr` of this device's memory pool, or with `set` writes it;
    /// `None` on a device without stream-ordered allocation.
    fn pool(&self, attr: CUmemPool_attribute, set: Option<u64>) -> Result<Option<u64>, Error> {
        let ctx = self.stream.context();
        if !ctx.has_async_alloc() {
            return Ok(None);
        }
        let mut value = set.unwrap_or(0);
        pool_attribute(ctx, attr, &mut value, set.is_some())
            .map(|()| Some(value))
            .map_err(|e| self.memory_error(e))
    }

    fn memory_error(&self, e: cudarc::driver::DriverError) -> Error {
        Error::Cuda {
            op: "memory",
            message: format!("cuda:{}: {e:?}", self.ordinal),
        }
    }

    /// A new tensor of `shape` on this device from a device buffer.
    pub(crate) fn tensor<T: Float>(&self, shape: Vec<usize>, buf: CudaSlice<T>) -> Tensor<T> {
        CudaData {
            buf: Arc::new(buf),
            shape,
            ordinal: self.ordinal,
        }
        .into_tensor()
    }

    /// An uninitialised-free (zeroed) buffer of `n` elements (at least one).
    pub(crate) fn zeros<T: Float>(&self, op: &str, n: usize) -> CudaSlice<T> {
        self.stream
            .alloc_zeros::<T>(n.max(1))
            .unwrap_or_else(|e| cuda_fail(op, e))
    }

    /// A buffer of `n` elements (at least one) for a kernel that writes
    /// every element before anything reads it.
    pub(crate) fn uninit<T: Float>(&self, op: &str, n: usize) -> CudaSlice<T> {
        // SAFETY: plain-old-data elements; every caller's kernel writes all
        // `n` of them (the extra one of an empty buffer is never read).
        unsafe { self.stream.alloc::<T>(n.max(1)) }.unwrap_or_else(|e| cuda_fail(op, e))
    }

    /// Copies host elements to a new device buffer.
    pub(crate) fn upload<T: Float>(&self, op: &str, data: &[T]) -> Result<CudaSlice<T>, Error> {
        let err = |e: cudarc::driver::DriverError| Error::Cuda {
            op: "to_device",
            message: format!("{op}: {e:?}"),
        };
        if data.is_empty() {
            return self.stream.alloc_zeros::<T>(1).map_err(err);
        }
        self.stream.clone_htod(data).map_err(err)
    }
}

/// `Tensor::to_device` between the CPU and CUDA devices (device to device
/// goes through the host).
pub(crate) fn to_device<T: Float>(t: &Tensor<T>, device: Device) -> Result<Tensor<T>, Error> {
    let host = match &t.cuda {
        None => t.clone(),
        Some(c) => {
            let b = backend(c.ordinal)?;
            let n = c.shape.iter().product::<usize>();
            let mut v = b
                .stream
                .clone_dtoh(c.buf.as_ref())
                .map_err(|e| Error::Cuda {
                    op: "to_device",
                    message: format!("copying to the host: {e:?}"),
                })?;
            v.truncate(n);
            Tensor::from_parts(c.shape.clone(), v)
        }
    };
    match device {
        Device::Cpu => Ok(host),
        Device::Cuda(ordinal) => {
            let b = backend(ordinal)?;
            let buf = b.upload("copying to the device", host.as_slice())?;
            Ok(b.tensor(host.shape().to_vec(), buf))
        }
    }
}

/// `like`'s device for a tensor built on the host (the constants of the
/// ops: zeros, seeds, bases): a copy there, or `t` itself on the CPU.
pub(crate) fn place_like<T: Float>(op: &str, t: Tensor<T>, like: &Tensor<T>) -> Tensor<T> {
    match like.device() {
        Device::Cpu => t,
        d => t
            .to_device(d)
            .unwrap_or_else(|e| panic!("transforms: {op}: {e}")),
    }
}
