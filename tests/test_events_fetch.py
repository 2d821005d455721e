"""`dualthreat fetch gdelt` against a local HTTP server on 127.0.0.1 that serves real GDELT rows (zipped at
test time) with GDELT's file-list formats: MD5 checks, a wrong checksum, a truncated download, resuming,
retries with backoff, zip entries outside the folder, GDELT 1.0 lists, and the ingest of what was fetched.
No test touches the network beyond 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import io
import threading
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from dualthreat.ingest import fetch as f

from conftest import cli, query

FIX = Path(__file__).parent / "fixtures" / "gdelt"
GDELT1 = FIX / "gdelt1_events.cut.tsv"
GDELT2 = FIX / "gdelt2_events.cut.tsv"
TRANS = FIX / "gdelt2_translingual.cut.tsv"


def zipped(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(member, (2015, 2, 18, 23, 0, 0)), data)
    return buf.getvalue()


class Server:
    """Serves ``files`` (path -> bytes) with Range support; ``truncate`` paths get half a body on their first
    request; ``fail`` paths answer 503 that many times first. Records every request."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.fail: Counter = Counter()
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                if server.fail[self.path] > 0:
                    server.fail[self.path] -= 1
                    self.send_error(503)
                    return
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if rng:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path in server.truncate and not rng:
                    server.truncate.discard(self.path)
                    self.wfile.write(body[: len(body) // 2])  # then the connection closes early
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    s = Server()
    yield s
    s.close()


def master_list(entries: list[tuple[str, bytes, str | None]]) -> bytes:
    """GDELT 2.0 masterfilelist.txt lines: SIZE MD5 URL (the URL on GDELT's host, as in the real list)."""
    out = []
    for name, body, md5 in entries:
        out.append(f"{len(body)} {md5 or hashlib.md5(body).hexdigest()} http://data.gdeltproject.org/gdeltv2/{name}")
    return ("\n".join(out) + "\n").encode()


A, B, C = "20150218230000.export.CSV.zip", "20150218231500.export.CSV.zip", "20150219000000.export.CSV.zip"
LATE = "20150301000000.export.CSV.zip"


def serve_v2(server: Server, bad_md5_for_c: bool = True) -> dict[str, bytes]:
    bodies = {
        A: zipped(A.removesuffix(".zip"), GDELT2.read_bytes()),
        B: zipped(B.removesuffix(".zip"), TRANS.read_bytes()),
        C: zipped(C.removesuffix(".zip"), GDELT2.read_bytes()[:3000].rsplit(b"\n", 1)[0] + b"\n"),
        LATE: zipped(LATE.removesuffix(".zip"), TRANS.read_bytes()),
    }
    for name, body in bodies.items():
        server.files[f"/gdeltv2/{name}"] = body
    entries = [(A, bodies[A], None), ("20150218230000.mentions.CSV.zip", b"x" * 10, None),
               ("20150218230000.gkg.csv.zip", b"y" * 10, None), (B, bodies[B], None),
               (C, bodies[C], "0" * 32 if bad_md5_for_c else None), (LATE, bodies[LATE], None)]
    server.files["/gdeltv2/masterfilelist.txt"] = master_list(entries) + b"this line is not a file entry\n"
    return bodies


def fetch_args(server: Server, tmp_path: Path, *extra: str) -> list:
    return ["fetch", "gdelt", "--start", "2015-02-18", "--end", "2015-02-19", "--base-url",
            f"{server.url}/gdeltv2/", "--dir", tmp_path / "gdelt", "--store", tmp_path / "s.duckdb",
            "--backoff", "0.01", "--retries", "2", *extra]


def test_fetch_checks_md5_resumes_a_truncated_download_and_ingests(server: Server, tmp_path: Path) -> None:
    serve_v2(server)
    server.truncate.add(f"/gdeltv2/{A}")
    run = cli(*fetch_args(server, tmp_path, "--format", "json"))
    assert run.exit_code == 1, run.stderr  # C cannot be fetched: its MD5 never matches
    out = run.json()
    status = {x["file"]: x for x in out["files"]}
    assert set(status) == {A, B, C}  # only the export files of the range
    assert status[A]["status"] == "downloaded" and status[A]["attempts"] == 2
    assert status[B]["status"] == "downloaded" and status[B]["attempts"] == 1
    assert status[C]["status"] == "failed" and "MD5" in status[C]["error"] and "after 3 attempts" in status[C]["error"]
    # the truncated download was resumed from where it stopped, not restarted
    ranges = [r for p, r in server.requests if p == f"/gdeltv2/{A}"]
    assert ranges[0] is None and ranges[1] == f"bytes={len(server.files[f'/gdeltv2/{A}']) // 2}-"
    assert server.count(f"/gdeltv2/{LATE}") == 0
    assert not any("mentions" in p or "gkg" in p for p, _ in server.requests)
    folder = tmp_path / "gdelt"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        A.removesuffix(".zip"), B.removesuffix(".zip")]  # extracted; zips and partial files removed
    assert "warning:1line(s)ofGDELT'sfilelistcouldnotberead" in run.message
    # what was fetched is ingested: B holds the two USA -> CHN events
    assert out["rows_in"] == 50 + 26 and out["rejected"] == 0
    assert query(tmp_path / "s.duckdb", "SELECT count(*) FROM events") == [(2,)]
    assert query(tmp_path / "s.duckdb", "SELECT sum(events) FROM event_month_totals") == [(76,)]


def test_a_second_run_fetches_only_what_is_missing(server: Server, tmp_path: Path) -> None:
    serve_v2(server)
    assert cli(*fetch_args(server, tmp_path)).exit_code == 1
    before = Counter(p for p, _ in server.requests)
    serve_v2(server, bad_md5_for_c=False)  # GDELT corrected its list
    run = cli(*fetch_args(server, tmp_path, "--format", "json"))
    assert run.exit_code == 0, run.stderr
    status = {x["file"]: x["status"] for x in run.json()["files"]}
    assert status == {A: "already fetched", B: "already fetched", C: "downloaded"}
    after = Counter(p for p, _ in server.requests)
    assert after[f"/gdeltv2/{A}"] == before[f"/gdeltv2/{A}"] and after[f"/gdeltv2/{B}"] == before[f"/gdeltv2/{B}"]
    assert after[f"/gdeltv2/{C}"] == before[f"/gdeltv2/{C}"] + 1
    # A and B were ingested before: nothing of them is added again
    assert query(tmp_path / "s.duckdb", "SELECT count(*) FROM _loads WHERE table_name = 'events'") == [(3,)]


def test_an_interrupted_download_resumes_with_a_range_request(server: Server, tmp_path: Path) -> None:
    bodies = serve_v2(server, bad_md5_for_c=False)
    folder = tmp_path / "gdelt"
    folder.mkdir()
    (folder / f"{A}.part").write_bytes(bodies[A][:1000])  # left by a killed run
    run = cli(*fetch_args(server, tmp_path, "--no-ingest"))
    assert run.exit_code == 0, run.stderr
    assert [r for p, r in server.requests if p == f"/gdeltv2/{A}"] == ["bytes=1000-"]
    assert (folder / A.removesuffix(".zip")).read_bytes() == GDELT2.read_bytes()
    assert not (tmp_path / "s.duckdb").exists()


def test_retries_back_off_and_a_missing_file_fails_at_once(server: Server, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    serve_v2(server, bad_md5_for_c=False)
    server.fail[f"/gdeltv2/{B}"] = 2  # two 503s, then the file
    del server.files[f"/gdeltv2/{C}"]  # listed but gone: 404
    sleeps: list[float] = []
    monkeypatch.setattr(f.time, "sleep", sleeps.append)
    run = cli(*fetch_args(server, tmp_path, "--format", "json", "--backoff", "0.5", "--retries", "3", "--jobs", "1"))
    assert run.exit_code == 1
    status = {x["file"]: x for x in run.json()["files"]}
    assert status[B]["status"] == "downloaded" and status[B]["attempts"] == 3
    assert status[C]["status"] == "failed" and "404" in status[C]["error"] and status[C]["attempts"] == 1
    assert sleeps == [0.5, 1.0]  # exponential backoff before each retry of B; none for the 404


def test_zip_entries_outside_the_folder_are_refused(server: Server, tmp_path: Path) -> None:
    bodies = serve_v2(server, bad_md5_for_c=False)
    evil = zipped("../../evil.CSV", GDELT2.read_bytes())
    server.files[f"/gdeltv2/{C}"] = evil
    entries = [(A, bodies[A], None), (C, evil, None)]
    server.files["/gdeltv2/masterfilelist.txt"] = master_list(entries)
    run = cli(*fetch_args(server, tmp_path, "--format", "json"))
    assert run.exit_code == 1
    status = {x["file"]: x for x in run.json()["files"]}
    assert status[C]["status"] == "failed" and "outside" in status[C]["error"]
    assert not (tmp_path / "evil.CSV").exists() and not (tmp_path.parent / "evil.CSV").exists()
    assert not (tmp_path / "gdelt" / C).exists()
    assert status[A]["status"] == "downloaded"


def test_gdelt1_lists_select_yearly_monthly_and_daily_files(server: Server, tmp_path: Path) -> None:
    daily = zipped("20130401.export.CSV", GDELT1.read_bytes())
    names = {"2005.zip": b"a" * 50, "200512.zip": b"b" * 40, "200601.zip": b"c" * 30,
             "20130331.export.CSV.zip": b"d" * 20, "20130401.export.CSV.zip": daily,
             "20130401.gkg.csv.zip": b"e" * 10, "GDELT.MASTERREDUCEDV2.1979-2013.zip": b"f" * 10}
    for name, body in names.items():
        server.files[f"/events/{name}"] = body
    server.files["/events/filesizes"] = "".join(f"{len(b)} {n}\n" for n, b in names.items()).encode()
    server.files["/events/md5sums"] = "".join(f"{hashlib.md5(b).hexdigest()}  {n}\n" for n, b in names.items()).encode()
    files, bad = f.file_list(1, dt.date(2005, 6, 1), dt.date(2006, 1, 15), f"{server.url}/events/")
    assert [x.name for x in files] == ["2005.zip", "200512.zip", "200601.zip"] and bad == 0
    assert files[1].start == dt.date(2005, 12, 1) and files[1].end == dt.date(2005, 12, 31)
    assert files[0].md5 == hashlib.md5(names["2005.zip"]).hexdigest() and files[0].size == 50
    run = cli("fetch", "gdelt", "--version", "1", "--start", "2013-04-01", "--end", "2013-04-01", "--base-url",
              f"{server.url}/events/", "--dir", tmp_path / "v1", "--store", tmp_path / "s.duckdb", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert [x["file"] for x in run.json()["files"]] == ["20130401.export.CSV.zip"]
    assert run.json()["rows_in"] == 35 and run.json()["rejected"] == 0
    assert query(tmp_path / "s.duckdb", "SELECT DISTINCT dataset FROM event_month_totals") == [("gdelt1",)]


def test_an_unreachable_list_is_a_clear_error(tmp_path: Path) -> None:
    run = cli("fetch", "gdelt", "--start", "2015-02-18", "--end", "2015-02-19", "--base-url",
              "http://127.0.0.1:9/nothing/", "--dir", tmp_path / "g", "--timeout", "2")
    assert run.exit_code == 1 and "cannotreadtheGDELTfilelist" in run.message
    bad = cli("fetch", "gdelt", "--start", "2015-02-19", "--end", "2015-02-18", "--base-url", "http://127.0.0.1:9/")
    assert bad.exit_code == 1 and "isbefore--start" in bad.message
