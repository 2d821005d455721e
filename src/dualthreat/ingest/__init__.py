"""Readers: one per source, each turning a file into rows of a canonical table (see :mod:`dualthreat.tables`).

``KINDS`` maps the ``dualthreat ingest KIND`` names to the file layouts a kind accepts; the layout of each
file is recognised from its header.

The reader modules are imported when a kind is first read or listed (PEP 562 ``__getattr__`` for ``KINDS``,
``SPECIAL`` and ``ScannerError``), not with this package: the store imports :mod:`dualthreat.ingest.base`, and
a command that only queries the store (``events monthly``) needs none of them (about 0.08 s of imports).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dualthreat.ingest.base import FileRefused, Format, ReadResult, Rejection, pick_format, read_file


@functools.cache
def _kinds() -> dict[str, list[Format]]:
    from dualthreat.ingest.aggregates import GDELT_PAIRS, ICEWS_DYAD_MONTH, ICEWS_DYAD_YEAR
    from dualthreat.ingest.cns import MISSILE_TESTS, MISSILES
    from dualthreat.ingest.curated import EPISODES, INDICATORS
    from dualthreat.ingest.peacescience import (ALLIANCES, CAPABILITIES, MILITARY_SPENDING, RIVALRIES,
                                                TERRITORIAL_THREAT)
    from dualthreat.ingest.pew import PEW
    from dualthreat.ingest.unga import IDEAL_POINTS, UN_ISSUES, UN_ROLL_CALLS, UN_VOTES

    return {
        "indicators": [INDICATORS],
        "episodes": [EPISODES],
        "votes": [UN_VOTES, UN_ROLL_CALLS, UN_ISSUES],
        "ideal-points": [IDEAL_POINTS],
        "missiles": [MISSILE_TESTS, MISSILES],
        "pew": [PEW],
        "sipri": [MILITARY_SPENDING],
        "capabilities": [CAPABILITIES],
        "alliances": [ALLIANCES],
        "rivalries": [RIVALRIES],
        "territorial-threat": [TERRITORIAL_THREAT],
        "icews-dyad-month": [ICEWS_DYAD_MONTH],
        "icews-dyad-year": [ICEWS_DYAD_YEAR],
        "gdelt-pairs": [GDELT_PAIRS],
    }


@functools.cache
def _special() -> dict[str, Callable[[Path], ReadResult]]:
    """Kinds whose reader is not a tabular Format."""
    from dualthreat.ingest.events import read_gdelt, read_icews
    from dualthreat.ingest.ungdc import read_speeches

    return {"speeches": read_speeches, "gdelt": read_gdelt, "icews": read_icews}


# the keys of _kinds() and _special(), known without importing the readers (tests/test_readers.py checks them)
_TABULAR_KINDS = ("indicators", "episodes", "votes", "ideal-points", "missiles", "pew", "sipri", "capabilities",
                  "alliances", "rivalries", "territorial-threat", "icews-dyad-month", "icews-dyad-year", "gdelt-pairs")
_SPECIAL_KINDS = ("speeches", "gdelt", "icews")


def __getattr__(name: str) -> Any:
    if name == "KINDS":
        return _kinds()
    if name == "SPECIAL":
        return _special()
    if name == "ScannerError":
        from dualthreat.ingest.events import ScannerError

        return ScannerError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_kinds() -> list[str]:
    return list(_TABULAR_KINDS + _SPECIAL_KINDS)


def read(kind: str, path: Path, progress: Callable[[int], None] | None = None) -> ReadResult:
    """Read one file (or folder, for speeches) of the given kind."""
    if kind in _SPECIAL_KINDS:
        return _special()[kind](path)
    if kind not in _TABULAR_KINDS:
        raise KeyError(kind)
    kinds = _kinds()
    from dualthreat.ingest.aggregates import AggregateFormat

    fmt = pick_format(path, kinds[kind])
    if isinstance(fmt, AggregateFormat):  # Parquet checked by column; coverage as a companion table
        return fmt.read(path, progress=progress)
    return read_file(path, fmt, progress=progress)


__all__ = ["KINDS", "FileRefused", "Format", "ReadResult", "Rejection", "ScannerError", "all_kinds", "read"]
