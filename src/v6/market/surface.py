"""The simulated market's implied-volatility surface: a VIX-anchored ATM term structure and a smile.

    sigma(K, T) = atm(T) * f(z, T),   z = ln(K / F) / (atm(T) sqrt(T))

**ATM level.** VIX is the 30-day variance-swap volatility of SPX; it sits above the 30-day
at-the-money volatility because the swap also prices the skew. On the three real chains the
30-day ATM vol was 0.776, 0.865 and 0.833 times VIX, so ``atm(30 days) = vix_to_atm * VIX``.
QQQ and IWM are scaled by their realized-vol ratio to SPY (``v6.market.daily``).

**Term structure.** ATM variance mean-reverts to a long-run level: the variance expected on
average over ``[0, T]`` is ``theta + (v0 - theta) (1 - e^(-kappa T)) / (kappa T)``, with ``v0``
set so that the 30-day value matches the VIX anchor. With VIX below about 29 (long-run ATM vol
0.24 / 0.82) short-dated vol sits below long-dated vol, as on all three real days (VIX 12.8 to
18.8, upward-sloping curves); above it the curve inverts, as in 2008 and 2020. The three days
cannot show the inversion: it is the model's, the standard one (Heston's expected variance).

**Smile.** Moneyness is standardized by the ATM total vol: on the three days the 30-day ATM
level differs by half (0.107 to 0.161) yet ``sigma / atm`` at a given ``z`` agrees closely,
while at a given ``ln(K/F) / sqrt(T)`` the ratio differs by 40 % between days (SPY's skew looks
twice as steep in those units). Each maturity is an SSVI slice (Gatheral and Jacquier 2014,
see `Smile`), whose curvature is capped so no slice admits butterfly arbitrage; the skew in
``z`` steepens slowly with maturity (``gamma``), so the ATM skew ``d sigma / d ln K`` decays
like ``T^(gamma - 1/2)``.

**Fit** (``tools/fit_market_models.py``; Cboe chains SPX 2022-01-07, SPX 2023-02-07, SPY
2023-09-14, each day weighted equally): the smile on out-of-the-money quotes with both sides
quoted, |delta| >= 0.02, 7 days to 1 year, against each expiry's own ATM vol; the term
structure on the ATM vols of the same expiries. Errors, model minus market, in vol points:

    smile shape, RMSE by z      -6..-3   -3..-1   -1..1   1..3
      SPX 2022-01-07              3.10     0.76    0.62    0.94
      SPX 2023-02-07              1.60     1.93    0.71    1.02
      SPY 2023-09-14              2.44     0.63    0.52    0.91
    ATM by expiry: SPX 2022 +0.3..+2.5 (RMSE 1.46), SPX 2023 -4.4..+0.7 (1.80; the 7-10 day
      expiries before a CPI release), SPY 2023 -0.3..+0.6 (0.30)
    whole surface from VIX, RMSE by |delta|   <0.05  0.05-0.15  0.15-0.3  0.3-0.45  0.45-0.55
      SPX 2022-01-07                           2.27    1.69       1.53      1.37      1.40
      SPX 2023-02-07                           1.66    1.31       1.52      1.60      1.63
      SPY 2023-09-14                           2.58    0.79       0.88      0.56      0.33
    25-delta risk reversal (put vol - call vol), real / model:
      SPX 2022: 14 d 5.71 / 4.87, 24 d 6.59 / 5.21;  SPX 2023: 14 d 2.51 / 4.84, 30 d 3.80 /
      5.33, 52 d 4.94 / 5.75;  SPY 2023: 14 d 1.77 / 3.23, 29 d 2.57 / 3.67, 64 d 3.38 / 4.37

One static shape cannot match days whose skews differ this much (the 2022 day's risk reversal
is nearly twice the 2023 days' relative to ATM); the fit splits the difference. The far put wing
(|delta| < 0.02, beyond ``z = -6``) is 2-6 points low: SSVI's wings are linear in variance.

Units: years of calendar time (ACT/365), volatilities as decimals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

FloatArray = npt.NDArray[np.float64]

DAYS_PER_YEAR = 365.0
VIX_TENOR_YEARS = 30.0 / DAYS_PER_YEAR
MIN_VOL_YEARS = 1.0 / (DAYS_PER_YEAR * 24.0 * 60.0)
"""The surface treats anything shorter than one minute as one minute (z is undefined at T=0)."""
MIN_SPOT_SHARE = 0.25
DELTA_GRID = np.linspace(-8.0, 8.0, 4001)
"""Standardized moneyness z searched by `VolSurface.vol_at_delta`."""


@dataclass(frozen=True, slots=True)
class TermStructure:
    """ATM volatility as a function of maturity, anchored on VIX (see the module docstring)."""

    vix_to_atm: float
    kappa: float
    """Mean-reversion speed of ATM variance, per year."""
    theta: float
    """Long-run ATM variance (per year, decimal squared)."""

    def atm_vol(
        self, vix: npt.ArrayLike, years: npt.ArrayLike, scale: npt.ArrayLike = 1.0
    ) -> FloatArray:
        """ATM vol at each maturity for VIX levels in index points, times ``scale``.

        Arguments broadcast together. The instantaneous variance is kept at or above
        ``MIN_SPOT_SHARE`` squared of the anchor, so a VIX far below the long-run level
        cannot imply a negative variance for the shortest maturities.
        """
        t = np.maximum(np.asarray(years, dtype=np.float64), MIN_VOL_YEARS)
        anchor = (self.vix_to_atm * np.asarray(vix, dtype=np.float64) / 100.0) ** 2
        spot_variance = self.theta + (anchor - self.theta) / self._averaging(VIX_TENOR_YEARS)
        spot_variance = np.maximum(spot_variance, MIN_SPOT_SHARE**2 * anchor)
        variance = self.theta + (spot_variance - self.theta) * self._averaging(t)
        vol: FloatArray = np.asarray(scale, dtype=np.float64) * np.sqrt(variance)
        return vol

    def _averaging(self, years: npt.ArrayLike) -> FloatArray:
        """(1 - e^(-kappa T)) / (kappa T): the weight of today's variance in the average."""
        decay = self.kappa * np.asarray(years, dtype=np.float64)
        weight: FloatArray = -np.expm1(-decay) / decay
        return weight


@dataclass(frozen=True, slots=True)
class Smile:
    """``sigma / atm`` as a function of standardized moneyness: an SSVI slice per maturity.

    With ``theta = atm^2 T`` the ATM total variance and ``u = phi k`` (``k = ln(K/F)``),
    the total variance is ``w = theta / 2 (1 + rho u + sqrt((u + rho)^2 + 1 - rho^2))``
    (Gatheral and Jacquier's SSVI). Here ``phi = eta (T / 30 days)^gamma / sqrt(theta)``,
    so ``u = eta z (T / 30 days)^gamma``. ``phi`` is capped where needed so that every slice
    meets their sufficient condition against butterfly arbitrage (Theorem 4.2):
    ``theta phi (1 + |rho|) < 4`` and ``theta phi^2 (1 + |rho|) <= 4``.
    """

    rho: float
    """Correlation-like skew parameter, in (-1, 1): negative puts the put wing above calls."""
    eta: float
    """Curvature scale, > 0."""
    gamma: float
    """Maturity exponent: the skew in z steepens like T^gamma (ATM skew ~ T^(gamma - 1/2))."""

    def __post_init__(self) -> None:
        if not (-1.0 < self.rho < 1.0 and self.eta > 0.0):
            raise ValueError(f"smile rho={self.rho}, eta={self.eta}: expected |rho| < 1, eta > 0")

    def ratio(self, z: npt.ArrayLike, years: npt.ArrayLike, atm: npt.ArrayLike) -> FloatArray:
        """f = sigma / atm at standardized moneyness ``z`` for the slice (``years``, ``atm``)."""
        t = np.maximum(np.asarray(years, dtype=np.float64), MIN_VOL_YEARS)
        total_atm = np.asarray(atm, dtype=np.float64) * np.sqrt(t)
        scale = np.minimum(self.eta * (t / VIX_TENOR_YEARS) ** self.gamma, self._cap(total_atm))
        u = scale * np.asarray(z, dtype=np.float64)
        rho = self.rho
        variance = 0.5 * (1.0 + rho * u + np.sqrt((u + rho) ** 2 + 1.0 - rho * rho))
        ratio: FloatArray = np.sqrt(variance)
        return ratio

    def _cap(self, total_atm: FloatArray) -> FloatArray:
        """Largest ``phi sqrt(theta)`` meeting both no-butterfly conditions, with 1 % margin."""
        wing = 1.0 + abs(self.rho)
        cap: FloatArray = 0.99 * np.minimum(2.0 / np.sqrt(wing), 4.0 / (wing * total_atm))
        return cap


@dataclass(frozen=True, slots=True)
class VolSurface:
    """The whole surface: ``vol(ln(K/F), T)`` for a VIX level and an underlying's scale."""

    term: TermStructure
    smile: Smile

    def vol(
        self,
        vix: npt.ArrayLike,
        log_moneyness: npt.ArrayLike,
        years: npt.ArrayLike,
        scale: npt.ArrayLike = 1.0,
    ) -> FloatArray:
        """Implied vol at ``ln(K/F)`` and maturity ``years`` (arrays broadcast together)."""
        t = np.maximum(np.asarray(years, dtype=np.float64), MIN_VOL_YEARS)
        atm = self.term.atm_vol(vix, t, scale)
        z = np.asarray(log_moneyness, dtype=np.float64) / (atm * np.sqrt(t))
        vol: FloatArray = atm * self.smile.ratio(z, t, atm)
        return vol

    def vol_at_delta(self, vix: float, years: float, delta: float, scale: float = 1.0) -> float:
        """The vol at the strike whose forward delta is ``delta`` (a put's is negative).

        Forward delta is ``N(d1)`` for a call and ``-N(-d1)`` for a put; it is found on a
        fine log-moneyness grid (``DELTA_GRID``), accurate to a few hundredths of a point.
        """
        if not 0.0 < abs(delta) < 1.0:
            raise ValueError(f"delta {delta}: expected 0 < |delta| < 1")
        t = max(years, MIN_VOL_YEARS)
        k = DELTA_GRID * float(self.term.atm_vol(vix, t, scale)) * math.sqrt(t)
        vol = self.vol(vix, k, t, scale)
        total = vol * math.sqrt(t)
        call_delta = ndtr((-k + 0.5 * total * total) / total)
        forward_delta = call_delta if delta > 0 else call_delta - 1.0
        # Forward delta falls as the strike rises; np.interp wants rising abscissae.
        return float(np.interp(-delta, -forward_delta, vol))


FITTED_SURFACE = VolSurface(
    term=TermStructure(vix_to_atm=0.8195, kappa=1.098, theta=0.05752),
    smile=Smile(rho=-0.5757, eta=0.9190, gamma=0.1147),
)
"""The surface fitted by tools/fit_market_models.py (see the module docstring)."""
