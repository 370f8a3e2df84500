"""Market data for V6: shipped daily history, the NYSE calendar and the simulated market.

Import from the submodules (``v6.market.history``, ``v6.market.calendar``, ...): this package
re-exports nothing, so importing one part does not load the others.
"""
