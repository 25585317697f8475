"""Student's t distribution for whole degrees of freedom: its CDF and quantile, from the standard library.

Ranges and chances rest on the errors of a handful of earlier campaigns, so the spread is itself
uncertain; Student's t widens for that. `statistics.NormalDist` has no t, and scipy is not a
runtime dependency, so this is the closed form of Abramowitz & Stegun 26.7.3-26.7.4 (checked
against scipy in the tests).
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

_NORMAL = NormalDist()


def t_cdf(x: float, nu: int) -> float:
    """P(T <= x) for Student's t with `nu` (>= 1, whole) degrees of freedom; the normal beyond 200."""
    if nu > 200:
        return _NORMAL.cdf(x)
    theta = math.atan(abs(x) / math.sqrt(nu))
    c, s = math.cos(theta), math.sin(theta)
    if nu % 2:  # odd: 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
        term, acc = 1.0, 1.0 if nu > 1 else 0.0
        for k in range(1, (nu - 1) // 2):
            term *= (2 * k) / (2 * k + 1) * c * c
            acc += term
        a = 2 / math.pi * (theta + s * c * acc) if nu > 1 else 2 / math.pi * theta
    else:  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
        term, acc = 1.0, 1.0
        for k in range(1, nu // 2):
            term *= (2 * k - 1) / (2 * k) * c * c
            acc += term
        a = s * acc
    return 0.5 + 0.5 * a if x >= 0 else 0.5 - 0.5 * a


@lru_cache(maxsize=1024)
def t_quantile(p: float, nu: int) -> float:
    """The x with t_cdf(x, nu) = p (0 < p < 1), by bisection to 1e-10."""
    if nu > 200:
        return _NORMAL.inv_cdf(p)
    if p == 0.5:
        return 0.0
    lo, hi = -1.0, 1.0
    while t_cdf(lo, nu) > p:
        lo *= 2
    while t_cdf(hi, nu) < p:
        hi *= 2
    while hi - lo > 1e-10:
        mid = (lo + hi) / 2
        if t_cdf(mid, nu) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
