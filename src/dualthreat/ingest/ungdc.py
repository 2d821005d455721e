"""Reader for the UN General Debate Corpus (Jankin, Baturo & Dasandi): one plain-text statement per file,
named ``ISO_NN_YYYY.txt`` (country, session, year), as distributed on Harvard Dataverse.

A folder is read as the set of its ``*.txt`` files; each file is one row.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from dualthreat import countries
from dualthreat.ingest.base import FileRefused, ReadResult, Rejection, display_path, file_sha256, sniff
from dualthreat.tables import TABLES

UNGDC_URL = "https://doi.org/10.7910/DVN/0TJX8Y"
NAME = re.compile(r"([A-Z]{3})_(\d{2,3})_(\d{4})\.txt")
MAX_SPEECH_BYTES = 2 << 20  # the longest statement in the corpus is under 60 KB
EXPECTED = "UN General Debate statements: UTF-8 text files named ISO_NN_YYYY.txt, or a folder of them"


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".txt")
        if not files:
            raise FileRefused(str(path), f"the folder has no .txt files; expected {EXPECTED}")
        return files
    if path.suffix != ".txt":
        raise FileRefused(str(path), f"not a .txt file; expected {EXPECTED}")
    return [path]


def _speech(file: Path) -> dict[str, Any]:
    """One statement as a row; raises ValueError(field, reason[, line]) for a bad file."""
    m = NAME.fullmatch(file.name)
    if not m:
        raise ValueError("(file name)", f"{file.name!r} is not of the form ISO_NN_YYYY.txt")
    iso3, session, year = m.group(1), int(m.group(2)), int(m.group(3))
    if not countries.is_known(iso3):
        raise ValueError("(file name)", f"unknown country code {iso3!r}")
    if year != 1945 + session:
        raise ValueError("(file name)", f"session {session} was held in {1945 + session}, not {year}")
    size = file.stat().st_size
    if size > MAX_SPEECH_BYTES:
        raise ValueError("text", f"{size // 1024} KiB is too large for one statement (limit {MAX_SPEECH_BYTES >> 20} MiB)")
    raw = file.read_bytes()
    if b"\x00" in raw:
        raise ValueError("text", "binary content (NUL bytes)")
    try:
        body = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError("text", f"line {line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x}); re-save as UTF-8",
                         line) from None
    words = len(body.split())
    if words == 0:
        raise ValueError("text", "the statement is empty")
    return {"iso3": iso3, "session": session, "year": year, "words": words, "text": body}


def read_speeches(path: Path) -> ReadResult:
    """Read one statement file or a folder of them into the ``speeches`` table."""
    files = _files(path)
    if len(files) == 1 and not path.is_dir():
        sniff(path, EXPECTED)
    rows, rejections = [], []
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + bytes.fromhex(file_sha256(file)))  # in chunks: files may be huge
        try:
            row = _speech(file)
        except ValueError as err:
            fld, reason, *where = err.args
            rejections.append(Rejection(str(file), where[0] if where else 1, fld, reason))
            continue
        row.update(dataset="ungdc", source_file=display_path(file), source_line=1, source_url=UNGDC_URL)
        rows.append(row)
    table = pa.Table.from_pylist(rows, schema=TABLES["speeches"].arrow_schema())
    return ReadResult(str(path), "speeches", "UN General Debate statements", len(files), table, rejections,
                      sha256=digest.hexdigest())
