"""The exercise-boundary method for American puts (internal to ``american``).

The price of an American put with exercise boundary ``B(t)`` (``t`` the time to
expiry) is the European price plus the early-exercise premium (Kim, 1990)::

    P(S, T) = p(S, T) + integral from 0 to T of
              [r K e^(-r(T-u)) N(-d-(T-u, S/B(u))) - q S e^(-q(T-u)) N(-d+(T-u, S/B(u)))] du

with ``d+-(t, z) = (ln z + (r - q) t) / (sigma sqrt t) +- sigma sqrt(t) / 2``.  The
boundary solves the same kind of integral equation, found by fixed-point iteration as in
Andersen, Lake and Offengelden, "High-performance American option pricing" (2016); this
is an independent numpy implementation.  The boundary is held at 8 Chebyshev nodes in
``sqrt(t)``, interpolating ``ln(B / X)^2`` with ``X = K min(1, r/q)`` its value just
before expiry, and found from the Barone-Adesi-Whaley seed by six iterations of the
smooth-pasting form of the equation (their FP-B).  Where the carry dominates the
variance, ``r - q > 2 sigma^2`` (low volatility, high rates, long expiries), that form
oscillates instead of converging and the price can fall to intrinsic; those options
take ten iterations of the plain form (FP-A), which is slower to converge but stable.
The integrals use 10 (boundary) and 24 (price) Gauss-Legendre points after the
substitution ``u = t sin^2(theta)``, which removes their square-root behaviour at both
ends.  On listed-option inputs the price is within about 3e-5 per 100 of strike of the
converged method (about 2e-4 where the plain form is used).

Everything here expects one-dimensional, valid inputs with ``rate > 0``.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import numpy.typing as npt

from otrade.pricing import _black
from otrade.pricing._arrays import FloatArray
from otrade.pricing._special import ndtr

_ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)


@attrs.frozen
class _BoundaryScheme:
    """Nodes, quadratures and interpolation matrices of the boundary method.

    Everything here scales with the option's expiry ``T`` alone, so it is computed once.
    Collocation node ``i`` sits at ``t_i = T z_i^2`` with ``z_i = (1 - cos(i pi / n)) / 2``
    (``t_0 = 0``, ``t_n = T``).  The boundary integral at node ``i`` is taken at
    ``u = t_i sin^2(theta_k)``; ``interpolation`` maps the ``n + 1`` nodal values of
    ``ln(B / X)^2`` to those points, ``price_interpolation`` to the points
    ``u = T sin^2(theta_j)`` of the price integral.
    """

    node_fraction: FloatArray  # t_i / T, shape (n + 1,)
    elapsed_fraction: FloatArray  # u / T at the boundary points, shape (n, l)
    remaining_fraction: FloatArray  # (t_i - u) / T
    remaining_root: FloatArray  # sqrt((t_i - u) / T)
    weight: FloatArray  # du / T including the Gauss-Legendre weight
    interpolation: FloatArray  # shape (n + 1, n * l)
    price_remaining_fraction: FloatArray  # (T - u) / T at the price points, shape (p,)
    price_remaining_root: FloatArray
    price_weight: FloatArray
    price_interpolation: FloatArray  # shape (n + 1, p)

    @classmethod
    def build(cls, nodes: int, boundary_points: int, price_points: int) -> _BoundaryScheme:
        """Precompute the scheme for ``nodes`` intervals and the two quadrature sizes."""
        node_xi = -np.cos(np.arange(nodes + 1) * math.pi / nodes)
        node_root = 0.5 * (1.0 + node_xi)  # z_i = sqrt(t_i / T)
        sine, cosine, weight = _quarter_circle_quadrature(boundary_points)
        root = node_root[1:, None]
        price_sine, price_cosine, price_weight = _quarter_circle_quadrature(price_points)
        return cls(
            node_fraction=node_root**2,
            elapsed_fraction=(root * sine) ** 2,
            remaining_fraction=(root * cosine) ** 2,
            remaining_root=root * cosine,
            weight=2.0 * root**2 * sine * cosine * weight,
            interpolation=_chebyshev_interpolation(node_xi, (2.0 * root * sine - 1.0).ravel()),
            price_remaining_fraction=price_cosine**2,
            price_remaining_root=price_cosine,
            price_weight=2.0 * price_sine * price_cosine * price_weight,
            price_interpolation=_chebyshev_interpolation(node_xi, 2.0 * price_sine - 1.0),
        )


def _quarter_circle_quadrature(points: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gauss-Legendre nodes on ``theta`` in ``[0, pi/2]``: ``sin``, ``cos`` and weights."""
    abscissa, weight = np.polynomial.legendre.leggauss(points)
    theta = 0.25 * math.pi * (abscissa + 1.0)
    return np.sin(theta), np.cos(theta), 0.25 * math.pi * weight


def _chebyshev_interpolation(node_xi: FloatArray, at: FloatArray) -> FloatArray:
    """Matrix taking values at Chebyshev-Lobatto nodes to the interpolant at ``at``.

    Barycentric form (Berrut and Trefethen, 2004): weights ``(-1)^j``, halved at the ends.
    """
    barycentric = (-1.0) ** np.arange(node_xi.size)
    barycentric[[0, -1]] *= 0.5
    difference = at[:, None] - node_xi[None, :]
    on_node = difference == 0.0
    terms = barycentric / np.where(on_node, 1.0, difference)
    matrix = terms / terms.sum(axis=1, keepdims=True)
    hits = on_node.any(axis=1)
    matrix[hits] = on_node[hits].astype(np.float64)
    transposed: FloatArray = np.ascontiguousarray(matrix.T)
    return transposed


_SCHEME = _BoundaryScheme.build(nodes=8, boundary_points=10, price_points=24)
# Iterations of the smooth-pasting form (FP-B) and of the plain form (FP-A), from the
# seed and (re-solving after a small volatility change) from the previous boundary.
_ITERATIONS = 6
_WARM_ITERATIONS = 3
_PLAIN_ITERATIONS = 10
_PLAIN_WARM_ITERATIONS = 5
# FP-B is used where r - q <= _CARRY_TO_VARIANCE * sigma^2, FP-A above it.
_CARRY_TO_VARIANCE = 2.0


@attrs.frozen
class PutInputs:
    """One-dimensional, valid put inputs (the boundary method itself needs ``rate > 0``)."""

    spot: FloatArray
    strike: FloatArray
    time_to_expiry: FloatArray
    rate: FloatArray
    dividend_yield: FloatArray
    volatility: FloatArray

    def take(self, indices: npt.NDArray[np.intp]) -> PutInputs:
        """Return the options at ``indices``."""
        return PutInputs(
            self.spot[indices],
            self.strike[indices],
            self.time_to_expiry[indices],
            self.rate[indices],
            self.dividend_yield[indices],
            self.volatility[indices],
        )

    def take_slice(self, block: slice) -> PutInputs:
        """Return the options in ``block`` (views, no copies)."""
        return PutInputs(
            self.spot[block],
            self.strike[block],
            self.time_to_expiry[block],
            self.rate[block],
            self.dividend_yield[block],
            self.volatility[block],
        )

    def with_volatility(self, volatility: FloatArray) -> PutInputs:
        """Return the same options at another volatility."""
        return attrs.evolve(self, volatility=volatility)

    @property
    def boundary_at_expiry(self) -> FloatArray:
        """``X = K min(1, r/q)``, the exercise boundary an instant before expiry."""
        ratio = np.where(
            self.dividend_yield > self.rate,
            self.rate / np.maximum(self.dividend_yield, 1e-300),
            1.0,
        )
        limit: FloatArray = self.strike * ratio
        return limit


def boundary_put(
    puts: PutInputs, squared_log_boundary: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Price puts by the boundary method; return the prices and the boundary.

    The boundary is ``ln(B / X)^2`` at the scheme's nodes, shape ``(N, n + 1)``.  Given
    one (from a nearby volatility) it is refined with fewer iterations.  Options are
    taken in blocks that keep the working arrays in cache.
    """
    limit = puts.boundary_at_expiry
    warm = squared_log_boundary is not None
    if squared_log_boundary is None:
        squared_log_boundary = _seed_boundary(puts, limit)
    boundary = np.empty_like(squared_log_boundary)
    plain = puts.rate - puts.dividend_yield > _CARRY_TO_VARIANCE * puts.volatility**2
    if not plain.any():
        groups: list[tuple[bool, npt.NDArray[np.intp] | None]] = [(False, None)]
    elif plain.all():
        groups = [(True, None)]
    else:
        groups = [(False, np.flatnonzero(~plain)), (True, np.flatnonzero(plain))]
    for use_plain, indices in groups:
        if use_plain:
            iterations = _PLAIN_WARM_ITERATIONS if warm else _PLAIN_ITERATIONS
        else:
            iterations = _WARM_ITERATIONS if warm else _ITERATIONS
        if indices is None:
            boundary[:] = _solve(puts, limit, squared_log_boundary, use_plain, iterations)
        else:
            boundary[indices] = _solve(
                puts.take(indices),
                limit[indices],
                squared_log_boundary[indices],
                use_plain,
                iterations,
            )
    return _premium_price(puts, limit, boundary), boundary


def _solve(
    puts: PutInputs,
    limit: FloatArray,
    squared_log_boundary: FloatArray,
    plain: bool,
    iterations: int,
) -> FloatArray:
    """Iterate one form of the boundary equation, block by block; return the boundary."""
    boundary = np.empty_like(squared_log_boundary)
    for start in range(0, puts.spot.size, _BLOCK_OPTIONS):
        block = slice(start, start + _BLOCK_OPTIONS)
        fixed_point = _FixedPoint.build(puts.take_slice(block), limit[block])
        iterate = fixed_point.iterate_plain if plain else fixed_point.iterate
        block_boundary = squared_log_boundary[block]
        for _ in range(iterations):
            block_boundary = iterate(block_boundary)
        boundary[block] = block_boundary
    return boundary


# Options per block of the fixed-point iteration: its arrays (block x nodes x points)
# then stay in the processor's cache.
_BLOCK_OPTIONS = 1024


def _seed_boundary(puts: PutInputs, limit: FloatArray) -> FloatArray:
    """Barone-Adesi-Whaley's seed for the put boundary at every node."""
    carry = (puts.rate - puts.dividend_yield)[:, None]
    variance = (puts.volatility**2)[:, None]
    strike = puts.strike[:, None]
    shifted = 2.0 * carry / variance - 1.0
    exponent = 0.5 * (-shifted - np.sqrt(shifted**2 + 8.0 * puts.rate[:, None] / variance))
    perpetual = np.minimum(strike / (1.0 - 1.0 / exponent), limit[:, None])
    time = puts.time_to_expiry[:, None] * _SCHEME.node_fraction[None, :]
    slope = (carry * time - 2.0 * puts.volatility[:, None] * np.sqrt(time)) * strike
    seed = perpetual + (limit[:, None] - perpetual) * np.exp(slope / (strike - perpetual))
    seed = np.minimum(seed, limit[:, None])
    squared: FloatArray = np.log(seed / limit[:, None]) ** 2
    squared[:, 0] = 0.0
    return squared


@attrs.frozen
class _FixedPoint:
    """One block's fixed-point iteration ``B(t) = K e^(-(r-q) t) N(t, B) / D(t, B)``.

    The smooth-pasting form of Kim's equation (Andersen, Lake and Offengelden's FP-B)::

        N = n(d-(t, B/K)) / v + r int_0^t e^(r u) n(d-(t - u, B(t)/B(u))) / v(t - u) du
        D = n(d+(t, B/K)) / v + N(d+(t, B/K))
            + q int_0^t e^(q u) [N(d+) + n(d+) / v](t - u, B(t)/B(u)) du

    with ``v(t) = sigma sqrt(t)``.  Everything that does not depend on the boundary is
    computed once here, arrays of shape (options, nodes, points) or (options, nodes).
    """

    deviation: FloatArray  # v(t_i - u)
    inverse_deviation: FloatArray
    half_deviation_plus_drift: FloatArray  # v/2 + (r - q)(t_i - u) / v
    rate_weight: FloatArray  # r e^(r u) du / (v sqrt(2 pi))
    plain_rate_weight: FloatArray  # r e^(r u) du
    yield_weight: FloatArray  # q e^(q u) du
    yield_density_weight: FloatArray  # q e^(q u) du / (v sqrt(2 pi))
    node_deviation: FloatArray  # v(t_i)
    node_offset: FloatArray  # ln(X/K) + (r - q) t_i
    log_strike_less_carry: FloatArray  # ln K - (r - q) t_i
    log_limit: FloatArray  # ln X, shape (options, 1)

    @classmethod
    def build(cls, puts: PutInputs, limit: FloatArray) -> _FixedPoint:
        """Precompute the boundary-independent parts for ``puts``."""
        time = puts.time_to_expiry[:, None, None]
        rate = puts.rate[:, None, None]
        dividend_yield = puts.dividend_yield[:, None, None]
        elapsed = time * _SCHEME.elapsed_fraction
        deviation = (puts.volatility * np.sqrt(puts.time_to_expiry))[
            :, None, None
        ] * _SCHEME.remaining_root
        inverse_deviation = 1.0 / deviation
        weight = time * _SCHEME.weight
        drift = (rate - dividend_yield) * time * _SCHEME.remaining_fraction
        yield_weight = dividend_yield * np.exp(dividend_yield * elapsed) * weight
        plain_rate_weight = rate * np.exp(rate * elapsed) * weight
        node_time = puts.time_to_expiry[:, None] * _SCHEME.node_fraction[None, 1:]
        carry_time = (puts.rate - puts.dividend_yield)[:, None] * node_time
        log_limit = np.log(limit)[:, None]
        log_strike = np.log(puts.strike)[:, None]
        return cls(
            deviation=deviation,
            inverse_deviation=inverse_deviation,
            half_deviation_plus_drift=0.5 * deviation + drift * inverse_deviation,
            rate_weight=_ONE_OVER_SQRT_TWO_PI * plain_rate_weight * inverse_deviation,
            plain_rate_weight=plain_rate_weight,
            yield_weight=yield_weight,
            yield_density_weight=_ONE_OVER_SQRT_TWO_PI * yield_weight * inverse_deviation,
            node_deviation=puts.volatility[:, None] * np.sqrt(node_time),
            node_offset=log_limit - log_strike + carry_time,
            log_strike_less_carry=log_strike - carry_time,
            log_limit=log_limit,
        )

    def _d_plus(self, squared_log_boundary: FloatArray, root: FloatArray) -> FloatArray:
        """``d+(t_i - u, B(t_i) / B(u))`` at every node and point, shape (N, n, l)."""
        count, nodes, points = self.deviation.shape
        # d+ = ln(B(t_i) / B(u)) / v + v/2 + drift / v, with ln B = ln X - sqrt(H);
        # computed in place, as these arrays dominate the cost.
        d_plus = (squared_log_boundary @ _SCHEME.interpolation).reshape(count, nodes, points)
        np.maximum(d_plus, 0.0, out=d_plus)
        np.sqrt(d_plus, out=d_plus)
        d_plus -= root[:, :, None]
        d_plus *= self.inverse_deviation
        d_plus += self.half_deviation_plus_drift
        return d_plus

    def iterate(self, squared_log_boundary: FloatArray) -> FloatArray:
        """One iteration of the smooth-pasting form (FP-B), as ``ln(B / X)^2``."""
        root = np.sqrt(squared_log_boundary[:, 1:])
        d_plus = self._d_plus(squared_log_boundary, root)
        exponent = np.square(d_plus - self.deviation)
        exponent *= -0.5
        np.exp(exponent, out=exponent)
        exponent *= self.rate_weight
        numerator_integral = exponent.sum(axis=2)
        density = np.square(d_plus)
        density *= -0.5
        np.exp(density, out=density)
        density *= self.yield_density_weight
        cumulative = ndtr(d_plus)
        cumulative *= self.yield_weight
        cumulative += density
        denominator_integral = cumulative.sum(axis=2)

        node_plus = (self.node_offset - root) / self.node_deviation + 0.5 * self.node_deviation
        node_minus = node_plus - self.node_deviation
        numerator = (
            _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * node_minus * node_minus) / self.node_deviation
            + numerator_integral
        )
        denominator = (
            _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * node_plus * node_plus) / self.node_deviation
            + ndtr(node_plus)
            + denominator_integral
        )
        return self._update(root, numerator, denominator)

    def iterate_plain(self, squared_log_boundary: FloatArray) -> FloatArray:
        """One iteration of the plain form (FP-A), as ``ln(B / X)^2``.

        ``N = N(d-(t, B/K)) + r int e^(r u) N(d-) du`` and
        ``D = N(d+(t, B/K)) + q int e^(q u) N(d+) du``.
        """
        root = np.sqrt(squared_log_boundary[:, 1:])
        d_plus = self._d_plus(squared_log_boundary, root)
        numerator_terms = ndtr(d_plus - self.deviation)
        numerator_terms *= self.plain_rate_weight
        numerator_integral = numerator_terms.sum(axis=2)
        denominator_terms = ndtr(d_plus)
        denominator_terms *= self.yield_weight
        denominator_integral = denominator_terms.sum(axis=2)
        node_plus = (self.node_offset - root) / self.node_deviation + 0.5 * self.node_deviation
        numerator = ndtr(node_plus - self.node_deviation) + numerator_integral
        denominator = ndtr(node_plus) + denominator_integral
        return self._update(root, numerator, denominator)

    def _update(
        self, root: FloatArray, numerator: FloatArray, denominator: FloatArray
    ) -> FloatArray:
        """The new boundary ``K e^(-(r-q) t) N / D``, capped at ``X``, as ``ln(B / X)^2``."""
        new_log_boundary = self.log_strike_less_carry + np.log(numerator / denominator)
        # The boundary never rises above its expiry value X.  Where both sums underflow
        # (volatilities near zero) the ratio is 0/0: keep the previous boundary there.
        excess = np.minimum(new_log_boundary - self.log_limit, 0.0)
        excess = np.where(np.isfinite(excess), excess, -root)
        updated = np.empty((root.shape[0], root.shape[1] + 1))
        updated[:, 0] = 0.0
        updated[:, 1:] = excess * excess
        return updated


def _premium_price(
    puts: PutInputs, limit: FloatArray, squared_log_boundary: FloatArray
) -> FloatArray:
    """European put plus the early-exercise premium integral; intrinsic at or below B(T)."""
    time = puts.time_to_expiry[:, None]
    rate = puts.rate[:, None]
    dividend_yield = puts.dividend_yield[:, None]
    interpolated = squared_log_boundary @ _SCHEME.price_interpolation
    log_boundary = np.log(limit)[:, None] - np.sqrt(np.maximum(interpolated, 0.0))
    remaining = time * _SCHEME.price_remaining_fraction
    deviation = (puts.volatility * np.sqrt(puts.time_to_expiry))[
        :, None
    ] * _SCHEME.price_remaining_root
    d_plus = (
        np.log(puts.spot)[:, None] - log_boundary + (rate - dividend_yield) * remaining
    ) / deviation + 0.5 * deviation
    d_minus = d_plus - deviation
    integrand = rate * puts.strike[:, None] * np.exp(-rate * remaining) * ndtr(-d_minus)
    integrand -= (
        dividend_yield * puts.spot[:, None] * np.exp(-dividend_yield * remaining) * ndtr(-d_plus)
    )
    premium = (integrand * (time * _SCHEME.price_weight)).sum(axis=1)
    european = _black.black_price(
        puts.spot * np.exp(-puts.dividend_yield * puts.time_to_expiry),
        puts.strike * np.exp(-puts.rate * puts.time_to_expiry),
        puts.volatility * np.sqrt(puts.time_to_expiry),
        np.zeros(puts.spot.shape, dtype=np.bool_),
    )
    boundary_now = limit * np.exp(-np.sqrt(squared_log_boundary[:, -1]))
    exercised = puts.spot <= boundary_now
    value: FloatArray = np.where(exercised, puts.strike - puts.spot, european + premium)
    return np.maximum(value, puts.strike - puts.spot)


def european_put(puts: PutInputs) -> FloatArray:
    """European put prices."""
    return _black.black_price(
        puts.spot * np.exp(-puts.dividend_yield * puts.time_to_expiry),
        puts.strike * np.exp(-puts.rate * puts.time_to_expiry),
        puts.volatility * np.sqrt(puts.time_to_expiry),
        np.zeros(puts.spot.shape, dtype=np.bool_),
    )
