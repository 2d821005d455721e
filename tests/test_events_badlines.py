"""Malformed lines in event files: each is rejected with file, line, field and reason and counted; the lines
around them (and after empty lines) keep their right line numbers; rows in = loaded + rejected."""

from __future__ import annotations

from pathlib import Path

from dualthreat.ingest.events import GDELT2_NAMES, MAX_LINE_BYTES, read_events

from conftest import cli, digests, query

FIX = Path(__file__).parent / "fixtures"
GDELT2 = FIX / "gdelt" / "gdelt2_events.cut.tsv"
TRANS = FIX / "gdelt" / "gdelt2_translingual.cut.tsv"
ICEWS = FIX / "icews" / "events.2018.sample.cut.tab"
STATES = ("USA", "JPN", "KOR", "CHN", "PRK")


def _set(line: bytes, column: str, value: bytes) -> bytes:
    fields = line.split(b"\t")
    fields[GDELT2_NAMES.index(column)] = value
    return b"\t".join(fields)


def build_bad_gdelt(tmp_path: Path) -> tuple[Path, list[tuple[int, str, str]], list[int]]:
    """A GDELT 2.0 file of real lines with one malformation per line; returns the file, the expected
    (line, field, reason fragment) rejections and the lines of the two theater events."""
    real = GDELT2.read_bytes().splitlines()
    theater = TRANS.read_bytes().splitlines()[8:10]  # USA -> CHN, real
    lines: list[bytes] = []
    expected: list[tuple[int, str, str]] = []

    def add(line: bytes, field: str | None = None, reason: str = "") -> None:
        lines.append(line)
        if field:
            expected.append((len(lines), field, reason))

    add(real[0])
    add(real[1][: len(real[1]) // 2], "(row)", "found fewer (truncated line?)")
    add(real[2] + b"\tEXTRA", "(row)", "found more (a stray tab?)")
    add(_set(real[3], "SOURCEURL", b"http://example.org/caf\xe9"), "SOURCEURL", "not valid UTF-8")
    add(b"")  # an empty line: skipped, not counted
    add(_set(real[4], "SQLDATE", b"2015-02-18"), "SQLDATE", "'2015-02-18' is not a date")
    add(_set(real[5], "SQLDATE", b"20150231"), "SQLDATE", "'20150231' is not a date")  # no such day
    add(_set(real[6], "GoldsteinScale", b"n/a"), "GoldsteinScale", "'n/a' is not a Goldstein score")
    add(_set(real[7], "QuadClass", b"7"), "QuadClass", "'7' is not a quad class")
    add(_set(real[8], "IsRootEvent", b"yes"), "IsRootEvent", "'yes' is not 0 or 1")
    add(_set(real[9], "EventRootCode", b"99"), "EventRootCode", "'99' is not a CAMEO root code")
    add(_set(real[10], "NumMentions", b"-3"), "NumMentions", "'-3' is not a count")
    add(b"9" * (MAX_LINE_BYTES + 10), "(line)", "line longer than 1024 KiB")
    add(b"")
    add(b"")
    add(theater[0])
    add(real[11])
    add(theater[1])
    for line in real[12:]:
        add(line)
    path = tmp_path / "20150218230000.export.CSV"
    path.write_bytes(b"\n".join(lines) + b"\n")
    theater_lines = [i + 1 for i, ln in enumerate(lines) if ln in theater]
    return path, expected, theater_lines


def test_every_malformed_gdelt_line_is_rejected_with_line_field_and_reason(tmp_path: Path) -> None:
    path, expected, theater_lines = build_bad_gdelt(tmp_path)
    (r,) = read_events("gdelt", [path], states=STATES)
    got = [(x.line, x.field, x.reason) for x in r.rejections]
    assert [(line, field) for line, field, _ in got] == [(line, field) for line, field, _ in expected]
    for (_, _, reason), (_, _, fragment) in zip(got, expected):
        assert fragment in reason
    assert all(x.file == str(path) for x in r.rejections)
    non_empty = sum(1 for ln in path.read_bytes().split(b"\n")[:-1] if ln)
    assert r.rows_in == non_empty == r.loaded + r.rejected
    assert r.rejected == len(expected) == 11
    # the lines after the empty lines and the rejected lines keep their numbers
    assert r.rows.column("source_line").to_pylist() == theater_lines == [16, 18]
    # rejected lines are not counted in the month totals
    assert sum(t["events"] for t in r.companions[0].rows.to_pylist()) == r.loaded


def test_cli_lists_every_rejection_and_strict_refuses_the_ingest(tmp_path: Path) -> None:
    path, expected, _ = build_bad_gdelt(tmp_path)
    store = tmp_path / "s.duckdb"
    strict = cli("ingest", "gdelt", GDELT2, path, "--store", store, "--strict")
    assert strict.exit_code == 2 and "--strictisset;nothingwasstored" in strict.message
    assert not store.exists() or query(store, "SELECT count(*) FROM events") == [(0,)]
    run = cli("ingest", "gdelt", path, "--store", store, "--format", "json")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["rows_in"] == out["loaded"] + out["rejected"] and out["rejected"] == len(expected)
    assert [(x["line"], x["field"]) for x in out["rejections"]] == [(line, f) for line, f, _ in expected]
    assert query(store, "SELECT line, field FROM _rejections ORDER BY line") == [(line, f) for line, f, _ in expected]
    assert query(store, "SELECT source_line FROM events ORDER BY source_line") == [(16,), (18,)]
    table = cli("ingest", "gdelt", path, "--store", tmp_path / "t.duckdb")
    assert "Rejectedrows" in table.message or "Rejected rows" in table.stdout
    assert "11rejected" in table.message


def test_malformed_icews_lines(tmp_path: Path) -> None:
    lines = ICEWS.read_bytes().splitlines()
    header, rows = lines[0], lines[1:]

    def setf(line: bytes, i: int, value: bytes) -> bytes:
        f = line.split(b"\t")
        f[i] = value
        return b"\t".join(f)

    bad = [
        header,
        rows[0],
        setf(rows[1], 1, b"2018-06-31"),  # Event Date: no such day
        setf(rows[2], 6, b"ABC"),  # CAMEO Code
        setf(rows[3], 7, b"NA"),  # Intensity
        b"\t".join(rows[4].split(b"\t")[:10]),  # truncated
        setf(rows[5], 0, b"x12"),  # Event ID
        *rows[6:],
    ]
    path = tmp_path / "events.2018.bad.tab"
    path.write_bytes(b"\n".join(bad) + b"\n")
    (r,) = read_events("icews", [path], states=STATES)
    assert [(x.line, x.field) for x in r.rejections] == [
        (3, "Event Date"), (4, "CAMEO Code"), (5, "Intensity"), (6, "(row)"), (7, "Event ID")]
    assert "expected 20 tab-separated fields" in r.rejections[3].reason
    assert r.rows_in == 500 == r.loaded + r.rejected
    (good,) = read_events("icews", [ICEWS], states=STATES)
    # the same events as the clean file, minus those on the damaged lines
    damaged = {3, 4, 5, 6, 7}
    assert r.rows.column("event_id").to_pylist() == [
        e["event_id"] for e in good.rows.to_pylist() if e["source_line"] not in damaged]
    assert r.rows.column("source_line").to_pylist() == [
        e["source_line"] for e in good.rows.to_pylist() if e["source_line"] not in damaged]


def test_a_file_of_only_bad_lines_loads_nothing_but_reports_them(tmp_path: Path) -> None:
    real = GDELT2.read_bytes().splitlines()
    path = tmp_path / "bad.export.CSV"
    path.write_bytes(b"\n".join(_set(ln, "QuadClass", b"0") for ln in real[:5]) + b"\n")
    store = tmp_path / "s.duckdb"
    run = cli("ingest", "gdelt", path, "--store", store, "--format", "json")
    assert run.exit_code == 0
    assert (run.json()["rows_in"], run.json()["loaded"], run.json()["rejected"]) == (5, 0, 5)
    before = digests(store)
    assert before["events"][0] == 0 and before["event_month_totals"][0] == 0


def test_rejections_stay_with_their_file_when_one_worker_reads_several(tmp_path: Path) -> None:
    path, expected, theater_lines = build_bad_gdelt(tmp_path)
    copy = tmp_path / "copy.export.CSV"
    copy.write_bytes(path.read_bytes())
    results = read_events("gdelt", [path, GDELT2, copy], states=STATES, jobs=1)
    assert [r.rejected for r in results] == [len(expected), 0, len(expected)]
    assert [x.line for x in results[2].rejections] == [line for line, _, _ in expected]
    assert {x.file for x in results[2].rejections} == {str(copy)}
    assert results[2].rows.column("source_line").to_pylist() == theater_lines
