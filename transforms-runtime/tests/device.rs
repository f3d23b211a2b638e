//! Devices without a GPU: `Device`'s display, `to_device(Cpu)`, and the
//! `CudaUnavailable` error (never a panic) with and without the feature.

use transforms_runtime::{Device, Error, Tensor};

#[test]
fn display_and_default_device() {
    assert_eq!(Device::Cpu.to_string(), "cpu");
    assert_eq!(Device::Cuda(2).to_string(), "cuda:2");
    assert_eq!(Tensor::<f32>::zeros(&[2]).device(), Device::Cpu);
}

#[test]
fn to_cpu_shares_the_tensor() {
    let x = Tensor::<f64>::from_shape_vec(&[2], vec![1.0, 2.0]).unwrap();
    let y = x.to_device(Device::Cpu).unwrap();
    assert_eq!((y.device(), y.to_vec()), (Device::Cpu, vec![1.0, 2.0]));
    assert_eq!(y.as_slice().as_ptr(), x.as_slice().as_ptr());
}

#[test]
fn cuda_unavailable_names_why() {
    let x = Tensor::<f32>::ones(&[3]);
    match x.to_device(Device::Cuda(0)) {
        // A machine with a GPU (and the feature): the tensor moved.
        Ok(y) => {
            assert_eq!((y.device(), y.shape()), (Device::Cuda(0), &[3][..]));
            assert_eq!(format!("{y}"), "Tensor(shape=[3], device=cuda:0)");
            assert_eq!(y.to_device(Device::Cpu).unwrap().to_vec(), vec![1.0; 3]);
        }
        Err(Error::CudaUnavailable { reason }) => {
            if cfg!(feature = "cuda") {
                // The driver library is the first one checked.
                assert!(
                    reason.contains("libcuda") || reason.contains("no device"),
                    "{reason}"
                );
            } else {
                assert_eq!(reason, "transforms was built without the `cuda` feature");
            }
            let e = Error::CudaUnavailable { reason };
            assert!(
                e.to_string()
                    .starts_with("transforms: CUDA is unavailable: ")
            );
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
}
