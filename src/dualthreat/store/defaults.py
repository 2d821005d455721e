"""The default dataset: compact derived tables under the project's ``data/`` folder, with ``MANIFEST.csv``
(rows and SHA-256 of each file) and ``SOURCES.md``. Built from ``../shared/data`` by
``scripts/build_default_dataset.py``; loaded into the store by ``dualthreat build`` with no network.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from dualthreat.ingest.base import ReadResult
from dualthreat.store import LoadReport, Store
from dualthreat.tables import TABLES


class DefaultDataError(Exception):
    """The default dataset is missing or does not match its manifest."""


def default_data_dir() -> Path:
    """``$DUALTHREAT_DATA``, else the copy inside an installed wheel, else ``data/`` of a source checkout."""
    env = os.environ.get("DUALTHREAT_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "_default_data", here.parents[2] / "data"):
        if (candidate / "MANIFEST.csv").exists():
            return candidate
    raise DefaultDataError("the default dataset was not found (no data/MANIFEST.csv); set DUALTHREAT_DATA=DIR "
                           "or rebuild it with scripts/build_default_dataset.py")


def manifest(data_dir: Path | None = None) -> list[dict[str, str]]:
    data_dir = data_dir or default_data_dir()
    path = data_dir / "MANIFEST.csv"
    if not path.is_file():
        raise DefaultDataError(f"{path} not found: {data_dir} is not a default-dataset folder (it needs "
                               "MANIFEST.csv and the Parquet files it lists); rebuild one with "
                               "scripts/build_default_dataset.py")
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_default_table(entry: dict[str, str], data_dir: Path) -> ReadResult:
    """One table of the default dataset, checked against its manifest entry and the canonical schema."""
    path = data_dir / entry["file"]
    if not path.exists():
        raise DefaultDataError(f"{path} is listed in MANIFEST.csv but missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise DefaultDataError(f"{path} does not match its SHA-256 in MANIFEST.csv (modified or corrupted); "
                               "rebuild it with scripts/build_default_dataset.py")
    table = TABLES.get(entry["table"])
    if table is None:
        raise DefaultDataError(f"{path}: unknown table {entry['table']!r} in MANIFEST.csv")
    rows = pq.read_table(path)
    if rows.schema.names != table.column_names:
        raise DefaultDataError(f"{path}: columns {rows.schema.names} differ from the table {table.name} "
                               f"({table.column_names}); rebuild the default dataset")
    if rows.num_rows != int(entry["rows"]):
        raise DefaultDataError(f"{path}: {rows.num_rows} rows, MANIFEST.csv says {entry['rows']}")
    return ReadResult(str(path), table.name, "default dataset", rows.num_rows, rows, [], sha256=digest)


def build(store: Store, data_dir: Path | None = None,
          progress: Callable[[str], None] | None = None) -> list[LoadReport]:
    """Load every table of the default dataset into ``store``, in one transaction."""
    data_dir = data_dir or default_data_dir()
    results = []
    for entry in manifest(data_dir):
        if progress:
            progress(entry["table"])
        results.append(read_default_table(entry, data_dir))
    return store.load(results, kind="default")
