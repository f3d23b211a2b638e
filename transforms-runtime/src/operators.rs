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

macro_rules! tensor_binop {
    ($trait:ident, $method:ident, $name:literal, $f:expr) => {
        impl<T: Float> $trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                ops::binary($name, self, rhs, 0, $f)
            }
        }

        impl<T: Float> $trait<&Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(mut self, rhs: &Tensor<T>) -> Tensor<T> {
                if self.shape() == rhs.shape() {
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
                ops::map_elementwise(self, |x| $f(x, s))
            }
        }

        impl<T: Float> $trait<T> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(mut self, s: T) -> Tensor<T> {
                cpu::map_inplace(self.as_mut_slice(), |x| $f(x, s));
                self
            }
        }
    };
}

tensor_binop!(Add, add, "add", |x, y| x + y);
tensor_binop!(Sub, sub, "sub", |x, y| x - y);
tensor_binop!(Mul, mul, "mul", |x, y| x * y);
tensor_binop!(Div, div, "div", |x, y| x / y);

macro_rules! scalar_lhs {
    ($($t:ty),*) => {$(
        scalar_lhs!(@op $t, Add, add, |s, x| s + x);
        scalar_lhs!(@op $t, Sub, sub, |s, x| s - x);
        scalar_lhs!(@op $t, Mul, mul, |s, x| s * x);
        scalar_lhs!(@op $t, Div, div, |s, x| s / x);
    )*};
    (@op $t:ty, $trait:ident, $method:ident, $f:expr) => {
        impl $trait<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn $method(self, rhs: &Tensor<$t>) -> Tensor<$t> {
                ops::map_elementwise(rhs, |x: $t| $f(self, x))
            }
        }

        impl $trait<Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn $method(self, mut rhs: Tensor<$t>) -> Tensor<$t> {
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
        cpu::map_inplace(self.as_mut_slice(), |x| -x);
        self
    }
}
