"""Input coercion shared by the pricing functions: float arrays, option side, validity.

The vectorized functions never raise for a bad *value* (that element becomes NaN), but they do
raise for a bad *argument*: inputs that do not broadcast together, or an option side that is not
boolean. Inputs are not broadcast eagerly: scalars stay scalars so the arithmetic on them stays
cheap, and numpy broadcasts as it computes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def as_float(name: str, value: npt.ArrayLike) -> FloatArray:
    """`value` as a float64 array (no copy when it already is one)."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from error


def side_sign(is_call: npt.ArrayLike) -> float | FloatArray:
    """+1.0 for a call and -1.0 for a put, from a bool or an array of bool."""
    if isinstance(is_call, bool | np.bool_):
        return 1.0 if is_call else -1.0
    flags = np.asarray(is_call)
    if flags.dtype != np.bool_:
        raise TypeError(f"is_call must be a bool or an array of bool, got dtype {flags.dtype}")
    sign: FloatArray = flags * 2.0
    sign -= 1.0
    return sign


def broadcast_shape(named: dict[str, FloatArray], sign: float | FloatArray) -> tuple[int, ...]:
    """The common shape of all inputs, or a ValueError naming the shapes that clash.

    Inputs are mostly scalars and arrays of one shape, which is then the answer as it stands
    (numpy's general rule costs microseconds a call)."""
    shapes = [array.shape for array in named.values()]
    shapes.append(np.shape(sign))
    non_scalar = set(shapes) - {()}
    if len(non_scalar) <= 1:
        return non_scalar.pop() if non_scalar else ()
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        described = ", ".join(f"{name}{shape}" for name, shape in zip(named, shapes, strict=False))
        raise ValueError(
            f"inputs do not broadcast together: {described}, is_call{np.shape(sign)}"
        ) from None


def is_positive_finite(value: FloatArray) -> BoolArray:
    """True where 0 < value < inf (False for NaN)."""
    return (value > 0.0) & (value < np.inf)


def is_nonnegative_finite(value: FloatArray) -> BoolArray:
    """True where 0 <= value < inf (False for NaN)."""
    return (value >= 0.0) & (value < np.inf)


def is_finite(value: FloatArray) -> BoolArray:
    """True where value is neither infinite nor NaN."""
    return np.isfinite(value)


def all_true(mask: BoolArray | np.bool_ | bool) -> bool:
    """Whether every element of a mask (possibly 0-d) is True."""
    return bool(np.asarray(mask).all())
