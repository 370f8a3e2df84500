"""What every repository shares: the reader, the optional writer, and contract mapping."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.domain import Contract, OptionContract, Right, StockContract
from v6.store.readers import Filters, StoreReader
from v6.store.schemas import TableSpec
from v6.store.writer import StoreWriter

Row = dict[str, Any]

OPTION = "OPT"
STOCK = "STK"


class ReadOnlyStoreError(RuntimeError):
    """A write through a store opened without a writer (read-only, e.g. the dashboard)."""


class Repository:
    """Base of the repositories: reads through ``reader``, writes through ``writer``."""

    def __init__(self, reader: StoreReader, writer: StoreWriter | None) -> None:
        self._reader = reader
        self._writer = writer

    def _write(self, spec: TableSpec, rows: Iterable[Row] | pa.Table) -> None:
        """Buffer ``rows`` (dicts, or an Arrow table of the table's columns) for ``spec``."""
        if self._writer is None:
            raise ReadOnlyStoreError(
                f"table {spec.name!r}: this store was opened read-only (no writer app id)"
            )
        batch = rows if isinstance(rows, pa.Table) else list(rows)
        if len(batch):
            self._writer.add(spec, batch)

    def _rows(self, spec: TableSpec, filters: Filters = ()) -> list[Row]:
        rows: list[Row] = self._reader.read(spec, filters=filters).to_pylist()
        return rows


def contract_columns(contract: Contract) -> Row:
    """The symbol, security type and parsed contract fields of a contract row."""
    if isinstance(contract, StockContract):
        return {
            "symbol": contract.symbol,
            "sec_type": STOCK,
            "underlying": contract.symbol,
            "multiplier": contract.multiplier,
        }
    return {"symbol": contract.occ_symbol, "sec_type": OPTION, **option_columns(contract)}


def option_columns(contract: OptionContract) -> Row:
    return {
        "underlying": contract.underlying,
        "expiry": contract.expiry,
        "strike": contract.strike,
        "right": contract.right.value,
        "multiplier": contract.multiplier,
    }


def contract_from_row(row: Mapping[str, Any]) -> Contract:
    if row["sec_type"] == STOCK:
        return StockContract(row["symbol"])
    return option_from_row(row)


def option_from_row(row: Mapping[str, Any]) -> OptionContract:
    expiry: date = row["expiry"]
    strike: Decimal = row["strike"]
    return OptionContract(row["underlying"], expiry, strike, Right(row["right"]), row["multiplier"])


def to_json(mapping: Mapping[str, object]) -> str:
    """Mapping as compact JSON with sorted keys (equal mappings give equal text)."""
    return json.dumps(dict(mapping), sort_keys=True, separators=(",", ":"), default=str)


def from_json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
