"""Download GDELT event files for a date range, checked against GDELT's own file lists.

* GDELT 2.0: ``masterfilelist.txt`` (lines ``SIZE MD5 URL``; the event exports are the
  ``YYYYMMDDHHMMSS.export.CSV.zip`` files, one per 15 minutes since 2015-02-18 23:00).
* GDELT 1.0: ``filesizes`` (lines ``SIZE NAME``) and ``md5sums`` (lines ``MD5  NAME``, as written by
  ``md5sum``); the files are ``YYYY.zip`` (1979-2005), ``YYYYMM.zip`` (2006-01 to 2013-03) and
  ``YYYYMMDD.export.CSV.zip`` (daily from 2013-04-01).

Only the files whose period overlaps ``[start, end]`` are fetched (periods are those of the file names, i.e.
publication dates; events inside may be dated earlier). Each download is checked against the listed size and
MD5 and retried with exponential backoff; an interrupted download resumes where it stopped (HTTP ``Range``),
and a finished file is recorded in ``.dualthreat-fetch.json`` in the target folder, so that a second run
fetches only what is missing. A zip entry that would be written outside the target folder is refused. The
zip is removed once its event file is extracted and checked.

``--base-url`` points to a mirror of GDELT's folder: the file lists and the files are read from there
(``BASE/masterfilelist.txt`` and ``BASE/NAME``; ``BASE/filesizes``, ``BASE/md5sums`` and ``BASE/NAME``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

GDELT2_BASE = "http://data.gdeltproject.org/gdeltv2/"
GDELT1_BASE = "http://data.gdeltproject.org/events/"
STATE_FILE = ".dualthreat-fetch.json"
USER_AGENT = "dualthreat (https://www.gdeltproject.org/ data; GDELT file-list client)"
CHUNK = 1 << 20


class FetchError(Exception):
    """The file list cannot be read, or the request makes no sense; nothing was fetched."""


@dataclass(frozen=True)
class RemoteFile:
    name: str  # file name (e.g. 20150218230000.export.CSV.zip)
    url: str
    size: int | None
    md5: str | None
    start: dt.date  # first and last day the file covers, from its name
    end: dt.date


@dataclass
class Outcome:
    file: RemoteFile
    status: str  # downloaded | already fetched | failed
    paths: list[Path] = field(default_factory=list)  # extracted event files
    error: str = ""
    attempts: int = 0


# --------------------------------------------------------------------------------------------------
# file lists


def _get(url: str, timeout: float) -> urllib.response.addinfourl:  # type: ignore[name-defined]
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - http(s) URLs from the user or GDELT


def _lines(url: str, timeout: float) -> Iterator[str]:
    try:
        with _get(url, timeout) as resp:
            for raw in resp:
                yield raw.decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise FetchError(f"cannot read the GDELT file list {url}: {exc}") from None


_V2_NAME = re.compile(r"(\d{14})\.export\.CSV\.zip")
_V1_NAME = re.compile(r"(\d{4})(\d{2})?(\d{2})?(\.export\.CSV)?\.zip")


def _period_v1(name: str) -> tuple[dt.date, dt.date] | None:
    m = _V1_NAME.fullmatch(name)
    if not m:
        return None
    y, mo, d, export = m.groups()
    try:
        if d and export:
            day = dt.date(int(y), int(mo), int(d))
            return day, day
        if mo and not d and not export:
            first = dt.date(int(y), int(mo), 1)
            nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return first, nxt - dt.timedelta(days=1)
        if not mo and not export:
            return dt.date(int(y), 1, 1), dt.date(int(y), 12, 31)
    except ValueError:
        return None
    return None


def file_list(version: int, start: dt.date, end: dt.date, base_url: str | None = None,
              timeout: float = 60.0) -> tuple[list[RemoteFile], int]:
    """The event files of GDELT ``version`` (1 or 2) covering ``[start, end]``, and the number of list lines
    that could not be read (reported, never silently used)."""
    if end < start:
        raise FetchError(f"--end {end} is before --start {start}")
    base = (base_url or (GDELT2_BASE if version == 2 else GDELT1_BASE)).rstrip("/") + "/"
    out: list[RemoteFile] = []
    bad = 0
    if version == 2:
        for line in _lines(base + "masterfilelist.txt", timeout):
            if not line:
                continue
            parts = line.split()
            if len(parts) != 3 or not parts[0].isdigit() or not re.fullmatch(r"[0-9a-f]{32}", parts[1]):
                bad += 1
                continue
            name = parts[2].rsplit("/", 1)[-1]
            m = _V2_NAME.fullmatch(name)
            if not m:
                continue  # mentions, GKG and translation files
            try:
                when = dt.datetime.strptime(m.group(1), "%Y%m%d%H%M%S").date()
            except ValueError:
                bad += 1
                continue
            if start <= when <= end:
                out.append(RemoteFile(name, base + name, int(parts[0]), parts[1], when, when))
    elif version == 1:
        sizes: dict[str, int] = {}
        for line in _lines(base + "filesizes", timeout):
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                sizes[parts[1]] = int(parts[0])
            elif line:
                bad += 1
        md5s: dict[str, str] = {}
        for line in _lines(base + "md5sums", timeout):
            parts = line.split()
            if len(parts) == 2 and re.fullmatch(r"[0-9a-f]{32}", parts[0]):
                md5s[parts[1].lstrip("*")] = parts[0]
            elif line:
                bad += 1
        for name in sorted(set(sizes) | set(md5s)):
            period = _period_v1(name)
            if period is None:
                continue  # GKG or other files
            if period[0] <= end and start <= period[1]:
                out.append(RemoteFile(name, base + name, sizes.get(name), md5s.get(name), *period))
    else:
        raise FetchError(f"--version must be 1 or 2, not {version}")
    return sorted(out, key=lambda f: f.name), bad


# --------------------------------------------------------------------------------------------------
# downloads


class _State:
    """The record of finished files in the target folder (written atomically)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_FILE
        self.lock = threading.Lock()
        self.files: dict[str, dict] = {}
        if self.path.exists():
            try:
                self.files = json.loads(self.path.read_text("utf-8")).get("files", {})
            except (ValueError, OSError):
                self.files = {}

    def done(self, f: RemoteFile, folder: Path) -> list[Path] | None:
        rec = self.files.get(f.name)
        if not rec or rec.get("md5") != f.md5:
            return None
        paths = [folder / m for m in rec.get("extracted", [])]
        sizes = rec.get("sizes", [])
        if not paths or any(not p.exists() for p in paths) or [p.stat().st_size for p in paths] != sizes:
            return None
        return paths

    def record(self, f: RemoteFile, paths: list[Path], folder: Path) -> None:
        with self.lock:
            self.files[f.name] = {"md5": f.md5, "size": f.size, "url": f.url,
                                  "extracted": [str(p.resolve().relative_to(folder.resolve())) for p in paths],
                                  "sizes": [p.stat().st_size for p in paths]}
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({"version": 1, "files": self.files}, indent=1, sort_keys=True), "utf-8")
            os.replace(tmp, self.path)


class _Retry(Exception):
    pass


def _download(f: RemoteFile, part: Path, timeout: float, progress: Callable[[int], None] | None) -> None:
    """Fetch ``f`` into ``part``, resuming from its current size; raises _Retry on a short or failed read."""
    have = part.stat().st_size if part.exists() else 0
    if f.size is not None and have > f.size:
        part.unlink()
        have = 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    req = urllib.request.Request(f.url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and f.size is not None and have == f.size:
            return  # already complete
        if exc.code in (404, 410):
            raise FetchError(f"HTTP {exc.code}: not found on the server") from None
        raise _Retry(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Retry(str(exc)) from None
    with resp:
        mode = "ab" if have and resp.status == 206 else "wb"
        if mode == "wb" and have and progress:
            progress(-have)  # the server ignored Range: start again
        expected = resp.headers.get("Content-Length")
        got = 0
        try:
            with open(part, mode) as out:
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    got += len(chunk)
                    if progress:
                        progress(len(chunk))
        except (OSError, http.client.HTTPException) as exc:
            raise _Retry(f"connection broken after {got} bytes ({exc})") from None
        if expected is not None and got < int(expected):
            raise _Retry(f"truncated download: {got} of {expected} bytes")


def _md5(path: Path) -> str:
    h = hashlib.md5()  # noqa: S324 - GDELT publishes MD5 checksums
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def extract(zip_path: Path, folder: Path) -> list[Path]:
    """Extract a zip's files into ``folder``; refuses the whole zip if an entry would land outside it."""
    from dualthreat.ingest.events import safe_member_name

    root = folder.resolve()
    with zipfile.ZipFile(zip_path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        targets = []
        for info in infos:
            target = (root / info.filename).resolve()
            if not safe_member_name(info.filename) or not target.is_relative_to(root) or target == root:
                raise FetchError(f"{zip_path.name}: the zip entry {info.filename!r} would be written outside "
                                 f"{folder}; refused")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise FetchError(f"{zip_path.name}: the zip entry {info.filename!r} is a symbolic link; refused")
            targets.append((info, target))
        out = []
        for info, target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            with zf.open(info) as src, open(tmp, "wb") as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
            os.replace(tmp, target)
            out.append(target)
    return out


def fetch_one(f: RemoteFile, folder: Path, state: _State, *, retries: int = 4, backoff: float = 1.0,
              timeout: float = 60.0, progress: Callable[[int], None] | None = None) -> Outcome:
    """Download, check and extract one file (or recognise it as already fetched)."""
    done = state.done(f, folder)
    if done is not None:
        if progress and f.size:
            progress(f.size)
        return Outcome(f, "already fetched", done)
    part = folder / (f.name + ".part")
    error = ""
    for attempt in range(1, retries + 2):
        try:
            _download(f, part, timeout, progress)
            size = part.stat().st_size
            if f.size is not None and size != f.size:
                if size < f.size:
                    raise _Retry(f"truncated download: {size} of {f.size} bytes")
                raise _Retry(f"size {size} differs from the listed {f.size} bytes")
            if f.md5 is not None:
                digest = _md5(part)
                if digest != f.md5:
                    part.unlink()
                    if progress:
                        progress(-size)
                    raise _Retry(f"MD5 {digest} differs from the listed {f.md5}")
            zip_path = folder / f.name
            os.replace(part, zip_path)
            try:
                paths = extract(zip_path, folder)
            except zipfile.BadZipFile as exc:
                zip_path.unlink(missing_ok=True)
                raise FetchError(f"not a readable zip ({exc})") from None
            zip_path.unlink()
            state.record(f, paths, folder)
            return Outcome(f, "downloaded", paths, attempts=attempt)
        except _Retry as exc:
            error = str(exc)
            if attempt <= retries:
                time.sleep(backoff * 2 ** (attempt - 1))
        except FetchError as exc:
            (folder / f.name).unlink(missing_ok=True)
            return Outcome(f, "failed", error=str(exc), attempts=attempt)
    return Outcome(f, "failed", error=f"{error} (after {retries + 1} attempts)", attempts=retries + 1)


def fetch(files: list[RemoteFile], folder: Path, *, retries: int = 4, backoff: float = 1.0, timeout: float = 60.0,
          jobs: int = 4, progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Fetch ``files`` into ``folder`` (several at once); one outcome per file, in list order."""
    folder.mkdir(parents=True, exist_ok=True)
    state = _State(folder)
    lock = threading.Lock()

    def advance(n: int) -> None:
        if progress:
            with lock:
                progress(n)

    def one(f: RemoteFile) -> Outcome:
        return fetch_one(f, folder, state, retries=retries, backoff=backoff, timeout=timeout, progress=advance)

    if jobs <= 1 or len(files) <= 1:
        return [one(f) for f in files]
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        return list(pool.map(one, files))
