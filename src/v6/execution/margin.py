"""The what-if margin check before every entry."""

from __future__ import annotations

from v6.brokers.types import WhatIf
from v6.config.execution import MarginCheckConfig
from v6.execution.records import MarginCheck


def margin_verdict(what_if: WhatIf, rules: MarginCheckConfig) -> MarginCheck:
    """Block an entry when the broker warns, when it would leave less than
    ``min_available_funds_after`` available, or when its initial margin exceeds
    ``max_margin_fraction`` of the funds available before it."""
    available_before = what_if.equity_with_loan_before - what_if.initial_margin_before
    available_after = what_if.equity_with_loan_after - what_if.initial_margin_after
    margin = what_if.initial_margin_change
    if what_if.warning:
        return MarginCheck(what_if, False, f"what-if warning: {what_if.warning}")
    if available_after < rules.min_available_funds_after:
        return MarginCheck(
            what_if,
            False,
            f"available funds after {available_after:.2f} below "
            f"{rules.min_available_funds_after:.2f}",
        )
    if margin > rules.max_margin_fraction * max(available_before, 0.0):
        return MarginCheck(
            what_if,
            False,
            f"initial margin {margin:.2f} above {rules.max_margin_fraction:.1%} of the "
            f"available funds {available_before:.2f}",
        )
    return MarginCheck(what_if, True, f"initial margin {margin:.2f} of {available_before:.2f}")
