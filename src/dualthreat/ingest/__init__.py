"""Readers: one per source, each turning a file into rows of a canonical table (see :mod:`dualthreat.tables`).

``KINDS`` maps the ``dualthreat ingest KIND`` names to the file layouts a kind accepts; the layout of each
file is recognised from its header.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dualthreat.ingest.aggregates import GDELT_PAIRS, ICEWS_DYAD_MONTH, ICEWS_DYAD_YEAR, AggregateFormat
from dualthreat.ingest.base import FileRefused, Format, ReadResult, Rejection, pick_format, read_file
from dualthreat.ingest.cns import MISSILE_TESTS, MISSILES
from dualthreat.ingest.curated import EPISODES, INDICATORS
from dualthreat.ingest.events import ScannerError, read_gdelt, read_icews
from dualthreat.ingest.peacescience import (ALLIANCES, CAPABILITIES, MILITARY_SPENDING, RIVALRIES,
                                            TERRITORIAL_THREAT)
from dualthreat.ingest.pew import PEW
from dualthreat.ingest.unga import IDEAL_POINTS, UN_ISSUES, UN_ROLL_CALLS, UN_VOTES
from dualthreat.ingest.ungdc import read_speeches

KINDS: dict[str, list[Format]] = {
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
# Kinds whose reader is not a tabular Format.
SPECIAL: dict[str, Callable[[Path], ReadResult]] = {"speeches": read_speeches, "gdelt": read_gdelt,
                                                    "icews": read_icews}


def all_kinds() -> list[str]:
    return list(KINDS) + list(SPECIAL)


def read(kind: str, path: Path, progress: Callable[[int], None] | None = None) -> ReadResult:
    """Read one file (or folder, for speeches) of the given kind."""
    if kind in SPECIAL:
        return SPECIAL[kind](path)
    if kind not in KINDS:
        raise KeyError(kind)
    fmt = pick_format(path, KINDS[kind])
    if isinstance(fmt, AggregateFormat):  # Parquet checked by column; coverage as a companion table
        return fmt.read(path, progress=progress)
    return read_file(path, fmt, progress=progress)


__all__ = ["KINDS", "FileRefused", "Format", "ReadResult", "Rejection", "ScannerError", "all_kinds", "read"]
