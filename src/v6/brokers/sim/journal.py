"""The simulated exchange's journal: ``<data-dir>/sim/journal.jsonl``, JSON lines, each written
after the last and never changed.

One record per line:

* ``{"kind": "header", "version": 1, "run": {...}}`` - the first line: which run this is
  (seed, symbols, window, starting cash). Resuming with a different run is refused.
* ``{"kind": "state", "seq": n, "state": {...}}`` - the exchange's whole state (clock, cash,
  positions, orders, id counters, generator states, fault counters, the session's executions
  with their commissions - a journal written before they were kept resumes with them
  unknown)
  after anything but its clock fields changed. Written and synced to disk (``msync``, the
  mapped file's ``fdatasync``) before the call that changed it returns.
* ``{"kind": "clock", "seq": n, "time": "...", "market_time": "..."}`` - only the state's
  clock fields moved (the clock, and the market over quiet steps): the record carries those
  fields, nothing else changed. Written to the operating system (it survives a killed
  process) but not synced: losing one to a power cut only replays a few quiet steps.

The records are followed by zero bytes up to the file's end: the file is grown in zero-filled
steps of ``GROWTH_BYTES`` (fsync'd), and records are written in place over the zeros, so that
making a state record durable (``msync``) does not also have to commit a new file size -
the file system's journal commit that made an appending fsync several times slower. Readers
stop at the first zero byte. Records are copied into a shared memory map of the file: the
pages are the operating system's file cache, so a killed process loses nothing written, and
a record costs no system call (a ``pwrite`` per clock record cost several microseconds, more
on a busy disk).

Resuming reads the header, the last state and the clock lines after it, whose fields
overwrite the state's (a record may carry only some, e.g. ``time``); a torn last line (the
process killed mid-write) is ignored. The file is then compacted - rewritten as header +
the state to resume from to a temporary file, fsync'd and renamed over the journal, which is
atomic - and again whenever it grows past ``compact_after`` records.
"""

from __future__ import annotations

import json
import mmap
import os
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from v6.brokers.sim.codec import compact_json
from v6.durable import fsync_directory

JOURNAL_FILE = "journal.jsonl"
JOURNAL_VERSION = 1
DEFAULT_COMPACT_AFTER = 10_000
GROWTH_BYTES = 1 << 20
"""Zero bytes added at a time past the records (a 5-minute-step session writes ~0.8 MB)."""

Json = dict[str, Any]


_RECORD_FIELDS = frozenset({"kind", "seq"})


class JournalMismatchError(ValueError):
    """The journal on disk belongs to a different run (or a different journal version)."""


class Journal:
    """Append-only journal of one simulated exchange."""

    def __init__(self, directory: Path, *, compact_after: int = DEFAULT_COMPACT_AFTER) -> None:
        if compact_after < 1:
            raise ValueError(f"compact_after = {compact_after!r}: expected an integer >= 1")
        self.directory = Path(directory)
        self.path = self.directory / JOURNAL_FILE
        self._compact_after = compact_after
        self._descriptor: int | None = None
        self._map: mmap.mmap | None = None
        """The whole file mapped, once it has zero bytes to write over (None before)."""
        self._end = 0
        """Where the next record goes: the records' end, zero bytes from there on."""
        self._size = 0
        self._header: Json = {}
        self._seq = 0
        self._records = 0

    def open(self, run: Json) -> Json | None:
        """Start a journal for ``run``, or resume the one on disk; returns the state to resume
        from (the last state with the later clock records' fields)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._header = {"kind": "header", "version": JOURNAL_VERSION, "run": run}
        recovered = self._read(run) if self.path.exists() else None
        self._rewrite(None if recovered is None else compact_json(recovered))
        return recovered

    def record_state(self, state: str) -> None:
        """Record the whole state, given as its compact JSON text (``codec.compact_json``)."""
        self._write(_state_line(self._next_seq(), state), durable=True)
        if self._records >= self._compact_after:
            self._rewrite(state)

    def record_clock(self, clock: dict[str, str]) -> None:
        """Record that only ``clock`` (some of the state's fields, e.g. ``time``) changed.

        The line is what the record's JSON encoding is, written without the encoder: the
        clock moves at almost every call, and its text fields need only string escaping."""
        if not clock or _RECORD_FIELDS & clock.keys():
            raise ValueError(
                f"clock record fields {sorted(clock)!r}: expected one or more state fields "
                "(not 'kind' or 'seq')"
            )
        fields = "".join(
            f",{encode_basestring_ascii(name)}:{encode_basestring_ascii(value)}"
            for name, value in clock.items()
        )
        self._write(f'{{"kind":"clock","seq":{self._next_seq()}{fields}}}', durable=False)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _write(self, line: str, *, durable: bool) -> None:
        """Write ``line`` over the zeros after the records: in the operating system once this
        returns (a killed process loses nothing), on disk too when ``durable``."""
        if self._descriptor is None:
            raise RuntimeError(f"journal {self.path} is not open")
        data = (line + "\n").encode("utf-8")
        end = self._end + len(data)
        if self._map is None or end > self._size:
            self._map = self._grow(self._descriptor, len(data))
        self._map[self._end : end] = data
        self._end = end
        if durable:
            self._map.flush()
        self._records += 1

    def _grow(self, descriptor: int, needed: int) -> mmap.mmap:
        """Add zero bytes (at least ``needed``) at the file's end, make them durable and map
        the whole file anew."""
        growth = max(needed, GROWTH_BYTES)
        os.pwrite(descriptor, bytes(growth), self._size)
        os.fsync(descriptor)
        self._size += growth
        if self._map is not None:
            self._map.close()
        return mmap.mmap(descriptor, self._size)

    def _read(self, run: Json) -> Json | None:
        lines = read_lines(self.path)
        parsed = [_parse(line, number, len(lines)) for number, line in enumerate(lines, 1)]
        records = [record for record in parsed if record is not None]
        if not records or records[0].get("kind") != "header":
            raise JournalMismatchError(f"{self.path}: the first line is not a journal header")
        header = records[0]
        if header.get("version") != JOURNAL_VERSION or header.get("run") != run:
            raise JournalMismatchError(
                f"{self.path} belongs to run {header.get('run')!r} (version "
                f"{header.get('version')!r}), not {run!r}: move it away to start afresh"
            )
        state: Json | None = None
        for record in records[1:]:
            self._seq = max(self._seq, int(record["seq"]))
            if record["kind"] == "state":
                state = dict(record["state"])
            elif record["kind"] == "clock" and state is not None:
                state.update((k, v) for k, v in record.items() if k not in _RECORD_FIELDS)
        return state

    def _rewrite(self, state: str | None) -> None:
        """Atomically replace the journal with header (+ the state to resume from, as text)."""
        self.close()
        lines = [compact_json(self._header)]
        if state is not None:
            lines.append(_state_line(self._next_seq(), state))
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        temporary = self.path.with_suffix(".jsonl.tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        fsync_directory(self.directory)
        self._descriptor = os.open(self.path, os.O_RDWR)
        self._end = self._size = len(data)
        self._records = len(lines)


def _state_line(seq: int, state: str) -> str:
    """A state record's line: what ``compact_json`` writes for it, with the state's text."""
    return f'{{"kind":"state","seq":{seq:d},"state":{state}}}'


def read_lines(path: Path) -> list[str]:
    """The journal's lines (its records, the last possibly torn), without the zeros after."""
    return path.read_bytes().split(b"\0", 1)[0].decode("utf-8").splitlines()


def _parse(line: str, number: int, total: int) -> Json | None:
    """A record, or None for a torn last line; a corrupt line elsewhere is an error."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        if number == total:
            return None
        raise JournalMismatchError(f"journal line {number} is not valid JSON") from None
    if not isinstance(record, dict):
        raise JournalMismatchError(f"journal line {number} is not a JSON object")
    return record
