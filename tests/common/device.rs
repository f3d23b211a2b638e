//! `test_device!`: one test body, one test per device (as candle's macro of
//! the same name).
//!
//! `test_device!(body, name_cpu, name_cuda)` defines `#[test] fn name_cpu`
//! running `body(Device::Cpu)` and `#[test] fn name_cuda` running
//! `body(Device::Cuda(0))`. Where CUDA is unavailable (no `cuda` feature,
//! no driver, no device: `to_device` gives `Error::CudaUnavailable`) the CUDA
//! variant prints `skipped: <reason>` and passes, unless
//! `TRANSFORMS_REQUIRE_CUDA=1` is set (for GPU machines), which makes it
//! fail instead.

use transforms::{Device, Error, Tensor};

/// Whether tests on `dev` can run; prints `skipped: <reason>` when not.
pub fn available(dev: Device) -> bool {
    match Tensor::<f32>::zeros(&[1]).to_device(dev) {
        Ok(_) => true,
        Err(Error::CudaUnavailable { reason }) => {
            if std::env::var("TRANSFORMS_REQUIRE_CUDA").is_ok_and(|v| v == "1") {
                panic!("TRANSFORMS_REQUIRE_CUDA=1 but {dev} is unavailable: {reason}");
            }
            println!("skipped: {dev}: {reason}");
            false
        }
        Err(e) => panic!("{dev}: {e}"),
    }
}

/// `t` on `dev` (panics if it cannot be moved there).
pub fn on<T: transforms::Float>(t: &Tensor<T>, dev: Device) -> Tensor<T> {
    let moved = t.to_device(dev).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(moved.device(), dev);
    moved
}

/// `t` back on the CPU, checking it was computed on `dev`.
pub fn back<T: transforms::Float>(t: &Tensor<T>, dev: Device) -> Tensor<T> {
    assert_eq!(t.device(), dev, "the result is not on {dev}");
    t.to_device(Device::Cpu).unwrap_or_else(|e| panic!("{e}"))
}

#[macro_export]
macro_rules! test_device {
    ($body:ident, $cpu:ident, $cuda:ident) => {
        #[test]
        fn $cpu() {
            $body(transforms::Device::Cpu)
        }

        #[test]
        fn $cuda() {
            let dev = transforms::Device::Cuda(0);
            if $crate::common::device::available(dev) {
                $body(dev)
            }
        }
    };
}
