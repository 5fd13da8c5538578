"""Composite defaults of the optional kernels for elementwise math, logic, scans and special functions, for ``Backend``.

Written with the required kernels, so a backend that lacks a native kernel still
runs every op; fast backends override them (docs/writing-a-backend.md). Constants
are made in the input's dtype (``_scalar``), so no kernel ever mixes dtypes.
"""

import math

from gradcore.engine.dtypes import float32 as _FLOAT32
from gradcore.engine.dtypes import int64 as _INT64

#: The optional kernels this mixin defines (the contract's OPTIONAL_KERNELS include them).
KERNELS = (
    "atan", "asin", "acos", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "isinf",
    "lgamma", "digamma", "polygamma", "reduce_any", "reduce_all", "cumsum", "cumprod",
)

# Cephes' minimax rational approximation of atan(z) = z + z^3 P(z^2) / Q(z^2) on |z| <= 0.66,
# highest power first (Q's leading 1 left out); within an ulp of atan in float64.
_ATAN_P = (-8.750608600031904122785e-1, -1.615753718733365076637e1, -7.500855792314704667340e1,
           -1.228866684490136173410e2, -6.485021904942025371773e1)
_ATAN_Q = (2.485846490142306297962e1, 1.650270098316988542046e2, 4.328810604912902668951e2,
           4.853903996359136964868e2, 1.945506571482613964425e2)
_TAN_3PI_8 = 2.414213562373095
_PI_2_LOW = 6.123233995736765886130e-17  # pi/2 - float64(pi/2): added back after range reduction

# Bernoulli numbers B_2k, k = 1..8, for the asymptotic series of lgamma, digamma and Hurwitz zeta.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
# Recurrence steps before the asymptotic series: at x + 10 >= 10.5 their next terms are below 1e-16.
_GAMMA_SHIFT = 10
# Hurwitz zeta needs more: the series' terms grow with the order, s (s + 1) ... / w^(2k).
_ZETA_SHIFT = 16


class MathComposites:
    """Mixin of ``Backend``: optional kernels built from its required kernels."""

    # ---- inverse trigonometric functions -----------------------------------------------------

    def atan(self, x):
        """atan by Cephes' range reduction: |x| > tan(3pi/8) -> pi/2 - atan(1/|x|), |x| > 0.66 ->
        pi/4 + atan((|x| - 1)/(|x| + 1)), then the rational approximation."""
        c = lambda v: self._scalar(v, x)  # noqa: E731
        a = self.abs(x)
        big = self.greater(a, c(_TAN_3PI_8))
        middle = self.logical_and(self.greater(a, c(0.66)), self.logical_not(big))
        z = self.where(big, self.negative(self.divide(c(1), self.where(big, a, c(1)))),
                       self.where(middle, self.divide(self.subtract(a, c(1)), self.add(a, c(1))), a))
        base = self.where(big, c(math.pi / 2 + _PI_2_LOW), self.where(middle, c(math.pi / 4 + _PI_2_LOW / 2), c(0)))
        zz = self.multiply(z, z)
        ratio = self.divide(self._horner(_ATAN_P, zz, leading_one=False),
                            self._horner(_ATAN_Q, zz, leading_one=True))
        reduced = self.add(z, self.multiply(self.multiply(z, zz), ratio))
        return self.multiply(self.sign(x), self.add(base, reduced))

    def atan2(self, y, x):
        """The angle of (x, y) in [-pi, pi]: atan(min/max) of the magnitudes, then unfolded by octant.

        A zero y counts as +0 (atan2(0, -1) = pi): the composite cannot see the sign of a zero.
        """
        c = lambda v: self._scalar(v, x)  # noqa: E731
        ax, ay = self.abs(x), self.abs(y)
        steep = self.greater(ay, ax)
        high, low = self.where(steep, ay, ax), self.where(steep, ax, ay)
        empty = self.equal(high, c(0))
        angle = self.atan(self.divide(low, self.where(empty, c(1), high)))
        angle = self.where(steep, self.subtract(c(math.pi / 2), angle), angle)
        angle = self.where(self.less(x, c(0)), self.subtract(c(math.pi), angle), angle)
        return self.where(self.less(y, c(0)), self.negative(angle), angle)

    def asin(self, x):
        c = lambda v: self._scalar(v, x)  # noqa: E731
        return self.atan2(x, self.sqrt(self.multiply(self.subtract(c(1), x), self.add(c(1), x))))

    def acos(self, x):
        c = lambda v: self._scalar(v, x)  # noqa: E731
        return self.atan2(self.sqrt(self.multiply(self.subtract(c(1), x), self.add(c(1), x))), x)

    # ---- hyperbolic functions and their inverses ---------------------------------------------

    def sinh(self, x):
        """(e^x - e^-x) / 2 as (expm1(x) - expm1(-x)) / 2: no cancellation near 0."""
        return self.multiply(self.subtract(self.expm1(x), self.expm1(self.negative(x))), self._scalar(0.5, x))

    def cosh(self, x):
        return self.multiply(self.add(self.exp(x), self.exp(self.negative(x))), self._scalar(0.5, x))

    def asinh(self, x):
        """sign(x) log1p(a + a^2 / (1 + sqrt(1 + a^2))), a = |x|, with a^2 / (...) written as
        a / (1/a + sqrt(1 + 1/a^2)) so it neither overflows for large a nor divides by 0 at a = 0."""
        c = lambda v: self._scalar(v, x)  # noqa: E731
        a = self.abs(x)
        inverse = self.divide(c(1), self.where(self.equal(a, c(0)), c(1), a))
        tail = self.divide(a, self.add(inverse, self.sqrt(self.add(c(1), self.multiply(inverse, inverse)))))
        return self.multiply(self.sign(x), self.log1p(self.add(a, tail)))

    def acosh(self, x):
        """log(x + sqrt(x^2 - 1)) as log1p((x - 1) + sqrt(x - 1) sqrt(x + 1)): exact near 1, no overflow."""
        c = lambda v: self._scalar(v, x)  # noqa: E731
        below = self.subtract(x, c(1))
        return self.log1p(self.add(below, self.multiply(self.sqrt(below), self.sqrt(self.add(x, c(1))))))

    def atanh(self, x):
        """log((1 + x) / (1 - x)) / 2 as log1p(2x / (1 - x)) / 2: exact near 0."""
        c = lambda v: self._scalar(v, x)  # noqa: E731
        return self.multiply(self.log1p(self.divide(self.add(x, x), self.subtract(c(1), x))), c(0.5))

    def isinf(self, x):
        return self.logical_not(self.logical_or(self.isfinite(x), self.isnan(x)))

    # ---- gamma and its derivatives ------------------------------------------------------------

    def lgamma(self, x):
        """log|Gamma(x)|: lgamma(x + n) - sum_{j<n} log(x + j), then Stirling's series
        (w - 1/2) log w - w + log(2 pi)/2 + sum_k B_2k / (2k (2k-1) w^(2k-1)); below 1/2 the reflection
        log(pi / |sin(pi x)|) - lgamma(1 - x). +inf at 0 and the negative integers."""
        if self._is_half(x):
            return self._via_float32(self.lgamma, x)
        c = lambda v: self._scalar(v, x)  # noqa: E731
        reflect = self.less(x, c(0.5))
        z = self.where(reflect, self.subtract(c(1), x), x)
        logs = c(0)
        for j in range(_GAMMA_SHIFT):
            logs = self.add(logs, self.log(self.add(z, c(j))))
        w = self.add(z, c(_GAMMA_SHIFT))
        inverse = self.divide(c(1), w)
        inverse_square = self.multiply(inverse, inverse)
        series = self._horner([b / (2 * k * (2 * k - 1)) for k, b in reversed(list(enumerate(_BERNOULLI, start=1)))],
                              inverse_square, leading_one=False)
        stirling = self.add(self.subtract(self.multiply(self.subtract(w, c(0.5)), self.log(w)), w),
                            self.add(c(0.5 * math.log(2 * math.pi)), self.multiply(series, inverse)))
        log_gamma = self.subtract(stirling, logs)
        whole = self.equal(x, self.floor(x))
        pole = self.logical_and(reflect, whole)
        sine = self.where(whole, c(1), self.abs(self._sin_pi(x)))  # 1 where it is not used: no log(0)
        reflected = self.subtract(self.subtract(c(math.log(math.pi)), self.log(sine)), log_gamma)
        return self.where(pole, c(math.inf), self.where(reflect, reflected, log_gamma))

    def digamma(self, x):
        """d lgamma(x)/dx: psi(x) = psi(x + n) - sum_{j<n} 1/(x + j), then the asymptotic series
        log w - 1/(2w) - sum_k B_2k / (2k w^2k); below 1/2 the reflection psi(1 - x) - pi/tan(pi x).
        NaN at 0 and the negative integers (poles of either sign), as TensorFlow."""
        if self._is_half(x):
            return self._via_float32(self.digamma, x)
        c = lambda v: self._scalar(v, x)  # noqa: E731
        reflect = self.less(x, c(0.5))
        z = self.where(reflect, self.subtract(c(1), x), x)
        shifts = c(0)
        for j in range(_GAMMA_SHIFT):
            shifts = self.add(shifts, self.divide(c(1), self.add(z, c(j))))
        w = self.add(z, c(_GAMMA_SHIFT))
        inverse = self.divide(c(1), w)
        inverse_square = self.multiply(inverse, inverse)
        series = self._horner([b / (2 * k) for k, b in reversed(list(enumerate(_BERNOULLI, start=1)))],
                              inverse_square, leading_one=False)
        correction = self.add(self.multiply(inverse, c(0.5)), self.multiply(series, inverse_square))
        psi = self.subtract(self.log(w), correction)
        psi = self.subtract(psi, shifts)
        fraction = self.subtract(x, self.floor(x))  # tan(pi x) has period 1
        whole = self.equal(fraction, c(0))
        pole = self.logical_and(reflect, whole)
        tangent = self.where(whole, c(1), self._tan_pi(fraction))
        reflected = self.subtract(psi, self.divide(c(math.pi), tangent))
        return self.where(pole, c(math.nan), self.where(reflect, reflected, psi))

    def polygamma(self, a, x):
        """The a-th derivative of digamma, for whole a >= 0 (the core sends no other):
        (-1)^(a+1) a! zeta(a + 1, x) through Hurwitz zeta, digamma at a = 0.

        For a = 1 and x < 1/2, the reflection psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x). Other
        orders sum the recurrence from x itself, accurate while x + 16 >= 10: NaN below x = -6.
        """
        if self._is_half(x):
            return self.cast(self.polygamma(self.cast(a, _FLOAT32), self.cast(x, _FLOAT32)), self.dtype_of(x))
        c = lambda v: self._scalar(v, x)  # noqa: E731
        zeroth, first = self.equal(a, c(0)), self.equal(a, c(1))
        reflect = self.logical_and(first, self.less(x, c(0.5)))
        q = self.where(reflect, self.subtract(c(1), x), x)
        s = self.add(self.where(zeroth, c(1), a), c(1))  # zeta(1, .) diverges: order 0 is digamma's
        factorial = self.exp(self.lgamma(s))  # a! = Gamma(a + 1)
        sign = self.where(self.equal(self.floor_mod(s, c(2)), c(0)), c(1), c(-1))  # (-1)^(a+1)
        value = self.multiply(self.multiply(sign, factorial), self._hurwitz_zeta(s, q))
        sine = self._sin_pi(x)
        reflected = self.subtract(self.divide(c(math.pi ** 2), self.multiply(sine, sine)), value)
        value = self.where(reflect, reflected, value)
        value = self.where(self.less(q, c(10 - _ZETA_SHIFT)), c(math.nan), value)
        return self.where(zeroth, self.digamma(x), value)

    def _hurwitz_zeta(self, s, q):
        """zeta(s, q) = sum_j (q + j)^-s for whole s >= 2, by Euler-Maclaurin: the first terms, then
        w^(1-s)/(s-1) + w^-s/2 + sum_k B_2k/(2k)! s(s+1)...(s+2k-2) w^(-s-2k+1) at w = q + 16."""
        c = lambda v: self._scalar(v, q)  # noqa: E731
        total = c(0)
        odd = self.equal(self.floor_mod(s, c(2)), c(1))
        for j in range(_ZETA_SHIFT):
            base = self.add(q, c(j))
            term = self.power(self.abs(base), self.negative(s))
            total = self.add(total, self.where(self.logical_and(odd, self.less(base, c(0))), self.negative(term), term))
        w = self.add(q, c(_ZETA_SHIFT))
        w_minus_s = self.power(w, self.negative(s))
        tail = self.add(self.divide(self.multiply(w_minus_s, w), self.subtract(s, c(1))),
                        self.multiply(w_minus_s, c(0.5)))
        rising = s  # s (s + 1) ... (s + 2k - 2)
        power = self.divide(w_minus_s, w)  # w^(-s-2k+1)
        inverse = self.divide(c(1), w)
        inverse_square = self.multiply(inverse, inverse)
        for k, bernoulli in enumerate(_BERNOULLI, start=1):
            coefficient = c(bernoulli / math.factorial(2 * k))
            tail = self.add(tail, self.multiply(coefficient, self.multiply(rising, power)))
            rising = self.multiply(rising, self.multiply(self.add(s, c(2 * k - 1)), self.add(s, c(2 * k))))
            power = self.multiply(power, inverse_square)
        return self.add(total, tail)

    def _is_half(self, x):
        return self.dtype_of(x).itemsize == 2  # float16, bfloat16: the series' cancellations need float32

    def _via_float32(self, kernel, x):
        return self.cast(kernel(self.cast(x, _FLOAT32)), self.dtype_of(x))

    def _sin_pi(self, x):
        """sin(pi x), reduced modulo 2 first so it is exactly 0 at the integers."""
        r = self.floor_mod(x, self._scalar(2, x))
        return self.sin(self.multiply(r, self._scalar(math.pi, x)))

    def _tan_pi(self, fraction):
        return self.tan(self.multiply(fraction, self._scalar(math.pi, fraction)))

    def _horner(self, coefficients, x, leading_one):
        """Horner's rule, highest power first; ``leading_one`` prepends a coefficient of 1."""
        result = self._scalar(1 if leading_one else coefficients[0], x)
        for coefficient in coefficients[0 if leading_one else 1:]:
            result = self.add(self.multiply(result, x), self._scalar(coefficient, x))
        return result

    # ---- logic over axes -------------------------------------------------------------------------

    def reduce_any(self, x, axis, keepdims):
        """Whether any element is true: a count of the true ones above 0 (False over nothing)."""
        count = self.reduce_sum(self.cast(x, _INT64), axis, keepdims)
        return self.greater(count, self._scalar(0, count))

    def reduce_all(self, x, axis, keepdims):
        """Whether every element is true: no false one (True over nothing)."""
        count = self.reduce_sum(self.cast(self.logical_not(x), _INT64), axis, keepdims)
        return self.equal(count, self._scalar(0, count))

    # ---- scans along one axis -------------------------------------------------------------------

    def cumsum(self, x, axis, exclusive, reverse):
        """Running sums along ``axis`` (an int); ``exclusive`` leaves each element out of its own sum,
        ``reverse`` runs from the end. Composite: a Hillis-Steele scan, log2(n) shifted adds."""
        return self._scan_along(x, axis, exclusive, reverse, self.add, 0)

    def cumprod(self, x, axis, exclusive, reverse):
        """Running products, as ``cumsum``."""
        return self._scan_along(x, axis, exclusive, reverse, self.multiply, 1)

    def _scan_along(self, x, axis, exclusive, reverse, combine, identity):
        n = x.shape[axis]
        if n == 0:
            return x
        if exclusive:  # an exclusive scan is the inclusive scan of the input moved one place on
            x = self._shifted_along(x, axis, 1, reverse, identity)
        step = 1
        while step < n:
            x = combine(x, self._shifted_along(x, axis, step, reverse, identity))
            step *= 2
        return x

    def _shifted_along(self, x, axis, k, reverse, fill):
        """``x`` moved ``k`` < n places along ``axis``, toward the end (the start if ``reverse``), ``fill`` in."""
        n, ndim = x.shape[axis], len(x.shape)
        kept = slice(k, n) if reverse else slice(0, n - k)
        paddings = tuple(((0, k) if reverse else (k, 0)) if i == axis else (0, 0) for i in range(ndim))
        key = (slice(None),) * axis + (kept,)
        return self.pad(self.slice(x, key), paddings, fill)

