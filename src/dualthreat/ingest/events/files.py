"""What an event file is before it is scanned (plain or zipped, which layout, header lines), zip safety, and
the one pass over its bytes that hashes it (SHA-256) and counts its lines."""


from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from dualthreat.ingest.base import FileRefused, first_bytes
from dualthreat.ingest.events.layout import GDELT_EXPECTED, ICEWS_EXPECTED

# --------------------------------------------------------------------------------------------------
# planning: what a file is, before it is scanned


@dataclass
class Plan:
    kind: str
    path: Path
    member: str | None  # the event file inside a zip
    layout: str  # gdelt1 | gdelt2 | icews
    skip: int  # header lines
    header: list[str] = field(default_factory=list)  # ICEWS column order


def plan_file(kind: str, path: Path) -> Plan:
    expected = GDELT_EXPECTED if kind == "gdelt" else ICEWS_EXPECTED
    name = str(path)
    head = first_bytes(path, expected, 65536)
    member = None
    if head.startswith(b"PK\x03\x04"):
        member = _zip_member(path, expected)
        with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
            head = fh.read(65536)
        if not head:
            raise FileRefused(name, f"the file {member} inside the zip is empty; expected {expected}")
    else:
        for magic, what in ((b"\x1f\x8b", "a gzip file"), (b"PAR1", "a Parquet file"), (b"%PDF", "a PDF document")):
            if head.startswith(magic):
                raise FileRefused(name, f"this is {what}, not text; expected {expected}")
    if b"\x00" in head:
        raise FileRefused(name, f"binary content (NUL bytes); expected {expected}")
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the last piece may be cut by the 64 KiB window
    lines = [ln.rstrip(b"\r") for ln in lines if ln.strip()][:50]
    if not lines:
        raise FileRefused(name, f"no data lines; expected {expected}")
    if kind == "icews":
        header = lines[0].decode("utf-8", "replace").removeprefix("\ufeff").split("\t")
        missing = [c for c in ("Event ID", "Event Date", "Source Country", "CAMEO Code", "Intensity", "Target Country")
                   if c not in header]
        if missing:
            comma = lines[0].decode("utf-8", "replace").split(",")
            if "event_id" in comma or "Event ID" in comma:
                raise FileRefused(name, "the file is comma-separated (the icews R package's processed export?); "
                                        f"expected {expected}")
            raise FileRefused(name, f"missing column(s) {', '.join(missing)} in the header row; expected {expected}")
        return Plan(kind, path, member, "icews", 1, header)
    first = lines[0].split(b"\t")[0].decode("utf-8", "replace").strip()
    skip = 1 if first.upper() == "GLOBALEVENTID" else 0
    counts: dict[int, int] = {}
    for ln in lines[skip:]:
        n = ln.count(b"\t") + 1
        counts[n] = counts.get(n, 0) + 1
    if not counts:
        raise FileRefused(name, f"no data lines after the header; expected {expected}")
    fields = max(counts, key=lambda n: (counts[n], n))
    if fields in (57, 58) or (57 in counts and 58 in counts):
        layout = "gdelt1"
    elif fields == 61:
        layout = "gdelt2"
    else:
        what = {16: " (a GDELT 2.0 mentions file?)", 27: " (a GDELT 2.0 GKG file?)", 11: " (a GDELT 1.0 GKG file?)",
                20: " (an ICEWS file? use `ingest icews`)", 1: " (not tab-separated?)"}.get(fields, "")
        raise FileRefused(name, f"the lines have {fields} tab-separated fields{what}; expected {expected}")
    return Plan(kind, path, member, layout, skip)


def _zip_member(path: Path, expected: str) -> str:
    """The one event file inside a zip; refuses entries that would be written outside a folder."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except zipfile.BadZipFile as exc:
        raise FileRefused(name, f"not a readable zip archive ({exc}); expected {expected}") from None
    for info in infos:
        if not safe_member_name(info.filename):
            raise FileRefused(name, f"the zip entry {info.filename!r} would be written outside its folder; refused")
    if len(infos) != 1:
        raise FileRefused(name, f"the zip holds {len(infos)} files; expected one event file ({expected})")
    return infos[0].filename


def safe_member_name(member: str) -> bool:
    """True if extracting ``member`` into a folder stays inside it (no absolute path, drive or ``..``)."""
    if not member or member.startswith(("/", "\\")) or "\x00" in member:
        return False
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return not any(p == ".." or p.endswith(":") for p in parts) and not (len(member) > 1 and member[1] == ":")


# --------------------------------------------------------------------------------------------------
# reading one file


@dataclass
class FileBytes:
    data: Path  # the plain event file to scan (extracted from a zip into a temporary folder if zipped)
    sha256: str
    lines: int  # physical lines, the last one counted even without a final newline


_CHUNK = 1 << 20  # 1 MiB: stays in the CPU cache between the read, the hash and the newline count


def chunks(fh: Any) -> Iterator[memoryview]:
    """A binary stream in 1 MiB chunks, read into one reused buffer (no bytes objects made): each chunk is
    hashed and scanned while it is still in the CPU cache. A chunk is valid until the next one is read."""
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    while k := fh.readinto(buf):
        yield view[:k]


def hash_and_count(plan: Plan, tmp: Path) -> FileBytes:
    """The reference path's pass over the bytes: SHA-256 and line count (and extraction of a zipped file).

    Each chunk is hashed (OpenSSL's SHA-256, which uses the CPU's SHA extensions where present and releases the
    GIL) and its newlines counted by NumPy. Measured on a 92 MiB file: 0.055 s of CPU, of which 0.050 s is the
    SHA-256; ``bytearray.count`` on 8 MiB chunks took 0.078 s (see bench/RESULTS.md)."""
    import numpy as np

    h = hashlib.sha256()
    newlines, last = 0, 10
    # a zipped file is extracted to a file of its own (the same zip may be read by two workers), for DuckDB
    target = plan.path if plan.member is None else temp_file(tmp, ".tsv")
    with open_bytes(plan) as fh, (nullcontext() if plan.member is None else open(target, "wb")) as out:
        for chunk in chunks(fh):
            h.update(chunk)
            newlines += int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == 10))
            last = chunk[-1]
            if out is not None:
                out.write(chunk)
    return FileBytes(target, h.hexdigest(), newlines + (0 if last == 10 else 1))


def temp_file(folder: Path, suffix: str) -> Path:
    """A new empty file of its own in ``folder`` (files are read in parallel, the same file possibly twice)."""
    fd, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    os.close(fd)
    return Path(name)


@contextmanager
def open_bytes(plan: Plan) -> Iterator[Any]:
    """The event data of a file as a binary stream: the file itself, or its one member if it is a zip."""
    if plan.member is None:
        with open(plan.path, "rb", buffering=0) as fh:
            yield fh
    else:
        with zipfile.ZipFile(plan.path) as zf, zf.open(plan.member) as fh:
            yield fh




def empty_lines(plan: Plan) -> set[int]:
    """Line numbers of empty lines (which the scanner skips without a record); rare, so read line by line."""
    out = set()
    with open_bytes(plan) as fh:
        for i, line in enumerate(io.BufferedReader(fh) if plan.member is None else fh, start=1):
            if line in (b"\n", b"\r\n", b"\r") or (i == 1 and line.rstrip(b"\r\n") == b"\xef\xbb\xbf"):  # BOM only
                out.add(i)
    return out
