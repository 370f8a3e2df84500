"""ArrayTable: columns read as arrays or as a frame, whichever form they were given in, and
side tables aligned to a list of strategy ids."""

from datetime import UTC, datetime

import numpy as np
import polars as pl

from v6.table import ArrayTable, aligned, as_series

SIDE = pl.Schema({"strategy_id": pl.String(), "hit": pl.Boolean(), "level": pl.Float64()})


def test_a_frame_column_reads_as_an_array_with_unknowns_as_nan_false_or_nat() -> None:
    frame = pl.DataFrame(
        {
            "n": [1, None],
            "f": [True, None],
            "t": [datetime(2024, 1, 2, tzinfo=UTC), None],
        }
    )
    table = ArrayTable.of_frame(frame)

    assert table["n"].tolist()[0] == 1.0
    assert np.isnan(table["n"][1])
    assert table["f"].tolist() == [True, False]
    assert np.isnat(table["t"][1])
    assert table.frame.equals(frame)


def test_array_columns_become_typed_nullable_series_in_the_frame() -> None:
    table = ArrayTable(
        {"id": pl.Series(["a", "b"]), "x": np.array([1.5, np.nan]), "s": np.array(["u", None])},
        2,
        {"s": pl.String()},
    )

    assert table.frame.schema == pl.Schema({"id": pl.String, "x": pl.Float64, "s": pl.String})
    assert table.frame["x"].to_list() == [1.5, None]
    assert table.frame["s"].to_list() == ["u", None]


def test_filtering_and_adding_columns_keep_rows_together() -> None:
    table = ArrayTable({"id": pl.Series(["a", "b", "c"]), "x": np.array([1.0, 2.0, 3.0])}, 3)

    kept = table.filtered(np.array([True, False, True])).with_columns({"y": np.array([7, 9])})

    assert kept.height == 2
    assert kept.frame.rows() == [("a", 1.0, 7), ("c", 3.0, 9)]


def test_aligned_takes_the_side_row_of_each_id_first_one_wins_unknown_when_missing() -> None:
    side = pl.DataFrame(
        {"strategy_id": ["b", "a", "b"], "hit": [True, False, False], "level": [2.0, 1.0, 9.0]}
    )

    got = aligned(np.array(["a", "b", "z"], dtype=object), side, SIDE)

    assert got["hit"].tolist() == [False, True, False]
    assert got["level"][:2].tolist() == [1.0, 2.0]
    assert np.isnan(got["level"][2])


def test_aligned_without_a_side_is_all_unknown() -> None:
    got = aligned(np.array(["a"], dtype=object), None, SIDE)

    assert got["hit"].tolist() == [False]
    assert np.isnan(got["level"][0])


def test_texts_with_unknowns_become_a_string_series() -> None:
    series = as_series("s", np.array([None, "x"], dtype=object), pl.String())

    assert series.dtype == pl.String
    assert series.to_list() == [None, "x"]
