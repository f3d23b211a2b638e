//! User-facing [`Tensor`] methods (the ops with `nb = 0`) and the free
//! functions [`linear`] and [`matmul`].

use crate::float::Float;
use crate::ops;
use crate::tensor::Tensor;

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Tensor<T> {
            ops::$name(self)
        }
    )*};
}

impl<T: Float> Tensor<T> {
    unary_methods! {
        /// Hyperbolic tangent, elementwise.
        tanh;
        /// `e^x`, elementwise.
        exp;
        /// Natural logarithm, elementwise.
        ln;
        /// Sine, elementwise.
        sin;
        /// Cosine, elementwise.
        cos;
        /// Square root, elementwise.
        sqrt;
        /// Logistic sigmoid, elementwise.
        sigmoid;
        /// `max(x, 0)`, elementwise.
        relu;
        /// `x * x`, elementwise.
        square;
        /// `-x`, elementwise.
        neg;
        /// `1 / x`, elementwise.
        recip;
    }

    /// `x^c`, elementwise.
    pub fn powf(&self, c: T) -> Tensor<T> {
        ops::powf(self, c)
    }

    /// Sum of all elements (0-dim result).
    pub fn sum(&self) -> Tensor<T> {
        ops::sum(self, None, 0)
    }

    /// Sum over dim `d`, which is removed.
    pub fn sum_dim(&self, d: isize) -> Tensor<T> {
        ops::sum(self, Some(d), 0)
    }

    /// Mean of all elements (0-dim result).
    pub fn mean(&self) -> Tensor<T> {
        ops::mean(self, None, 0)
    }

    /// Mean over dim `d`, which is removed.
    pub fn mean_dim(&self, d: isize) -> Tensor<T> {
        ops::mean(self, Some(d), 0)
    }

    /// torch `.t()`: transpose of a 2-D tensor, a copy for 0-D/1-D.
    ///
    /// # Panics
    /// For more than 2 dims.
    pub fn t(&self) -> Tensor<T> {
        ops::t(self, 0)
    }

    /// Swaps dims `a` and `b`.
    pub fn transpose(&self, a: isize, b: isize) -> Tensor<T> {
        ops::transpose(self, a, b, 0)
    }

    /// Reshapes to `shape` (one entry may be `-1`).
    pub fn reshape(&self, shape: &[isize]) -> Tensor<T> {
        ops::reshape(self, shape, 0)
    }

    /// Inserts a size-1 dim at `d` (negative: `d + ndim + 1`).
    pub fn unsqueeze(&self, d: isize) -> Tensor<T> {
        ops::unsqueeze(self, d, 0)
    }

    /// torch.matmul of `self` and `other`.
    pub fn matmul(&self, other: &Tensor<T>) -> Tensor<T> {
        ops::matmul(self, other, 0)
    }
}

/// A linear layer: `x @ w^T + b` for `x: [.., in]`, `w: [out, in]`,
/// `b: [out]`.
pub fn linear<T: Float>(x: &Tensor<T>, w: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    ops::linear_impl(x, w, b)
}

/// torch.matmul: 1-D.1-D gives a 0-dim tensor; 2-D@1-D, 1-D@2-D and batched
/// products with broadcast batch dims are supported.
pub fn matmul<T: Float>(a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    ops::matmul(a, b, 0)
}

/// The right-hand side of a comparison: a tensor or a scalar.
pub trait CmpRhs<T: Float> {
    #[doc(hidden)]
    fn compare(
        self,
        x: &Tensor<T>,
        scalar: fn(&Tensor<T>, T) -> Tensor<T>,
        tensor: fn(&Tensor<T>, &Tensor<T>, usize) -> Tensor<T>,
    ) -> Tensor<T>;
}

impl<T: Float> CmpRhs<T> for &Tensor<T> {
    fn compare(
        self,
        x: &Tensor<T>,
        _: fn(&Tensor<T>, T) -> Tensor<T>,
        tensor: fn(&Tensor<T>, &Tensor<T>, usize) -> Tensor<T>,
    ) -> Tensor<T> {
        tensor(x, self, 0)
    }
}

macro_rules! scalar_rhs {
    ($($t:ty),*) => {$(
        impl CmpRhs<$t> for $t {
            fn compare(self, x: &Tensor<$t>, scalar: fn(&Tensor<$t>, $t) -> Tensor<$t>, _: fn(&Tensor<$t>, &Tensor<$t>, usize) -> Tensor<$t>) -> Tensor<$t> {
                scalar(x, self)
            }
        }
    )*};
}

scalar_rhs!(f32, f64);

impl<T: Float> Tensor<T> {
    unary_methods! {
        /// `|x|`, elementwise.
        abs;
        /// `2^x`, elementwise.
        exp2;
        /// `ln(1 + x)`, elementwise.
        log1p;
    }

    /// `min(max(x, lo), hi)`, elementwise (torch.clamp).
    pub fn clamp(&self, lo: T, hi: T) -> Tensor<T> {
        ops::clamp(self, lo, hi)
    }

    /// `1` where `self > rhs`, else `0` (`rhs` a tensor, broadcast, or a scalar).
    pub fn gt(&self, rhs: impl CmpRhs<T>) -> Tensor<T> {
        rhs.compare(self, ops::gt_scalar, ops::gt)
    }

    /// `1` where `self < rhs`, else `0`.
    pub fn lt(&self, rhs: impl CmpRhs<T>) -> Tensor<T> {
        rhs.compare(self, ops::lt_scalar, ops::lt)
    }

    /// `1` where `self >= rhs`, else `0`.
    pub fn ge(&self, rhs: impl CmpRhs<T>) -> Tensor<T> {
        rhs.compare(self, ops::ge_scalar, ops::ge)
    }

    /// `1` where `self <= rhs`, else `0`.
    pub fn le(&self, rhs: impl CmpRhs<T>) -> Tensor<T> {
        rhs.compare(self, ops::le_scalar, ops::le)
    }

    /// softmax along dim `d` (numerically stable).
    pub fn softmax(&self, d: isize) -> Tensor<T> {
        let e = ops::exp(&ops::sub(
            self,
            &ops::unsqueeze(&ops::max_shift(self, d, 0), d, 0),
            0,
        ));
        let s = ops::unsqueeze(&ops::sum(&e, Some(d), 0), d, 0);
        ops::div(&e, &s, 0)
    }

    /// log-softmax along dim `d` (numerically stable).
    pub fn log_softmax(&self, d: isize) -> Tensor<T> {
        ops::sub(self, &ops::unsqueeze(&self.logsumexp(d), d, 0), 0)
    }

    /// `ln(sum(exp(x)))` along dim `d`, which is removed (numerically stable).
    pub fn logsumexp(&self, d: isize) -> Tensor<T> {
        let m = ops::max_shift(self, d, 0);
        let e = ops::exp(&ops::sub(self, &ops::unsqueeze(&m, d, 0), 0));
        ops::add(&ops::ln(&ops::sum(&e, Some(d), 0)), &m, 0)
    }

    /// The L2 norm of all elements (0-dim result).
    pub fn norm(&self) -> Tensor<T> {
        ops::sqrt(&ops::sum(&ops::square(self), None, 0))
    }

    /// The max along dim `d`, which is removed (torch.amax).
    pub fn max_dim(&self, d: isize) -> Tensor<T> {
        ops::amax(self, d, 0)
    }

    /// The slice `start..start + len` of dim `d` (torch.narrow).
    pub fn narrow(&self, d: isize, start: isize, len: usize) -> Tensor<T> {
        ops::narrow(self, d, start, len, 0)
    }

    /// The entries `idx` of dim `d`, in order (torch.index_select).
    pub fn index_select(&self, d: isize, idx: &[usize]) -> Tensor<T> {
        ops::index_select(self, d, idx, 0)
    }
}

/// The elementwise larger of `a` and `b`, broadcasting (torch.maximum).
pub fn maximum<T: Float>(a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    ops::maximum(a, b, 0)
}

/// The elementwise smaller of `a` and `b`, broadcasting (torch.minimum).
pub fn minimum<T: Float>(a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    ops::minimum(a, b, 0)
}

/// `a` where `cond != 0`, else `b`, broadcasting all three (torch.where with
/// a 0/1 float condition such as `x.gt(&y)`).
pub fn where_<T: Float>(cond: &Tensor<T>, a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    ops::where_(cond, a, b, 0)
}

/// Concatenates tensors along dim `d` (torch.cat); they must agree in shape
/// except along `d`.
pub fn cat<T: Float, X: std::borrow::Borrow<Tensor<T>>>(xs: &[X], d: isize) -> Tensor<T> {
    let refs: Vec<&Tensor<T>> = xs.iter().map(|x| x.borrow()).collect();
    ops::cat(&refs, d, 0)
}

/// Stacks equally shaped tensors along a new dim `d` (torch.stack).
pub fn stack<T: Float, X: std::borrow::Borrow<Tensor<T>>>(xs: &[X], d: isize) -> Tensor<T> {
    let ts: Vec<Tensor<T>> = xs.iter().map(|x| x.borrow().clone()).collect();
    Tensor::stack(&ts, d)
}
