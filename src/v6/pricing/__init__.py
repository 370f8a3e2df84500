"""Vectorized option pricing: Black-Scholes-Merton price and Greeks, implied volatility.

Pure numpy/scipy; nothing here imports the rest of the project. Textbook units throughout
(theta per year, vega and rho per 1.00); see `v6.pricing.bsm` for the conventions.
"""

from v6.pricing.bsm import BsmResult, bsm_price, bsm_price_greeks
from v6.pricing.implied_vol import implied_vol

__all__ = ["BsmResult", "bsm_price", "bsm_price_greeks", "implied_vol"]
