//! Arithmetic operators: `+ - * /` between tensors (numpy broadcasting) and
//! with scalars on either side, and unary `-`.
//!
//! An owned left operand of the same shape as the right one is updated in
//! place instead of allocating.

use std::ops::{Add, Div, Mul, Neg, Sub};

use transforms_kernels::cpu;

use crate::float::Float;
use crate::ops;
use crate::tensor::Tensor;

/// Whether an operator must take the CUDA path (never without the feature).
#[inline(always)]
fn on_cuda<T: Float>(_ts: &[&Tensor<T>]) -> bool {
    #[cfg(feature = "cuda")]
    return _ts.iter().any(|t| t.device() != crate::Device::Cpu);
    #[cfg(not(feature = "cuda"))]
    false
}

macro_rules! tensor_binop {
    ($trait:ident, $method:ident, $name:literal, $scalar:literal, $f:expr) => {
        impl<T: Float> $trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                ops::binary($name, self, rhs, 0, $f)
            }
        }

        impl<T: Float> $trait<&Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(mut self, rhs: &Tensor<T>) -> Tensor<T> {
                if self.shape() == rhs.shape() && !on_cuda(&[&self, rhs]) {
                    cpu::zip_inplace(self.as_mut_slice(), rhs.as_slice(), $f);
                    self
                } else {
                    ops::binary($name, &self, rhs, 0, $f)
                }
            }
        }

        impl<T: Float> $trait<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                self.$method(&rhs)
            }
        }

        impl<T: Float> $trait<Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                self.$method(&rhs)
            }
        }

        impl<T: Float> $trait<T> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, s: T) -> Tensor<T> {
                #[cfg(feature = "cuda")]
                if let crate::Device::Cuda(ord) = self.device() {
                    return crate::cuda::ops::scalar($scalar, ord, self, &[s]);
                }
                ops::map_elementwise(self, |x| $f(x, s))
            }
        }

        impl<T: Float> $trait<T> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(mut self, s: T) -> Tensor<T> {
                if on_cuda(&[&self]) {
                    return (&self).$method(s);
                }
                cpu::map_inplace(self.as_mut_slice(), |x| $f(x, s));
                self
            }
        }
    };
}

tensor_binop!(Add, add, "add", "add_scalar", |x, y| x + y);
tensor_binop!(Sub, sub, "sub", "sub_scalar", |x, y| x - y);
tensor_binop!(Mul, mul, "mul", "mul_scalar", |x, y| x * y);
tensor_binop!(Div, div, "div", "div_scalar", |x, y| x / y);

macro_rules! scalar_lhs {
    ($($t:ty),*) => {$(
        scalar_lhs!(@op $t, Add, add, "add_scalar", |s, x| s + x);
        scalar_lhs!(@op $t, Sub, sub, "rsub_scalar", |s, x| s - x);
        scalar_lhs!(@op $t, Mul, mul, "mul_scalar", |s, x| s * x);
        scalar_lhs!(@op $t, Div, div, "rdiv_scalar", |s, x| s / x);
    )*};
    (@op $t:ty, $trait:ident, $method:ident, $scalar:literal, $f:expr) => {
        impl $trait<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn $method(self, rhs: &Tensor<$t>) -> Tensor<$t> {
                #[cfg(feature = "cuda")]
                if let crate::Device::Cuda(ord) = rhs.device() {
                    return crate::cuda::ops::scalar($scalar, ord, rhs, &[self]);
                }
                ops::map_elementwise(rhs, |x: $t| $f(self, x))
            }
        }

        impl $trait<Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn $method(self, mut rhs: Tensor<$t>) -> Tensor<$t> {
                if on_cuda(&[&rhs]) {
                    return self.$method(&rhs);
                }
                cpu::map_inplace(rhs.as_mut_slice(), |x: $t| $f(self, x));
                rhs
            }
        }
    };
}

scalar_lhs!(f32, f64);

impl<T: Float> Neg for &Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        ops::neg(self)
    }
}

impl<T: Float> Neg for Tensor<T> {
    type Output = Tensor<T>;
    fn neg(mut self) -> Tensor<T> {
        if on_cuda(&[&self]) {
            return ops::neg(&self);
        }
        cpu::map_inplace(self.as_mut_slice(), |x| -x);
        self
    }
}
