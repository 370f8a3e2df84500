"""Strategy builders (iron condor, verticals, custom) chosen from the broker's chain, and the
entry signals of the strategy templates."""
