"""The bad-input matrix: every reader × every way a file can be wrong, each through the CLI against a store
that already holds data, checking the exit status, the report and that nothing stored before changed.

Bad files are built at run time from the good fixtures (the 50 MB ones too, in tmp_path, deleted after use).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dualthreat import ingest
from dualthreat.ingest.base import MAX_LINE_BYTES, display_path

from conftest import BaseStore, Run, added_to, cli, squash
from specs import (BAD_LINE, EVENT_KINDS, SPEECHES, TABULAR, ReaderSpec, duplicate_line, latin1_in_line,
                   lines_of, rewrite, set_fields, truncate_last_row)

HUGE = 50 * 1024 * 1024  # bytes in the "50 MB line"
MEMORY_LIMIT = 16 * 1024 * 1024  # peak Python memory allowed while ingesting it


@dataclass(frozen=True)
class Case:
    spec: ReaderSpec
    bad: str
    make: Callable[[bytes], bytes]
    refused: tuple[str, ...] = ()  # for a refused file: what the message must say
    line: int = 0  # for a rejected row: where, which field, why (a regular expression)
    field: str = ""
    reason: str = ""
    rows_in: int = 0
    loaded: int = 0

    @property
    def id(self) -> str:
        return f"{self.spec.id}-{self.bad}"


def _refused(spec: ReaderSpec, bad: str, make: Callable[[bytes], bytes], *says: str) -> Case:
    return Case(spec, bad, make, refused=says)


def _row(spec: ReaderSpec, bad: str, make: Callable[[bytes], bytes], line: int, field: str, reason: str,
         extra_row: bool = False) -> Case:
    n = spec.rows
    return Case(spec, bad, make, line=line, field=field, reason=reason,
                rows_in=n + extra_row, loaded=n if extra_row else n - 1)


def cases_for(spec: ReaderSpec) -> Iterator[Case]:
    n = spec.rows
    comma = "expected a UTF-8 comma-separated file with a header row containing"
    yield _row(spec, "truncated", truncate_last_row, n + 1, "(row)",
               r"expected \d+ fields, found \d+ \(truncated line\?\)|cannot be parsed as CSV: unexpected end of data")
    yield _refused(spec, "semicolon_delimiter", lambda d: rewrite(d, delimiter=";"),
                   "the file is semicolon-separated", comma)
    yield _refused(spec, "tab_delimiter", lambda d: rewrite(d, delimiter="\t"), "the file is tab-separated", comma)
    yield _row(spec, "latin1_bytes", lambda d: latin1_in_line(d, BAD_LINE), BAD_LINE, "(encoding)",
               r"not valid UTF-8 \(byte 0xe9 at byte \d+\); re-save the file as UTF-8")
    assert spec.drop
    yield _refused(spec, "missing_column", lambda d: rewrite(d, drop=spec.drop), f"missing column(s) {spec.drop};",
                   comma)
    for bad, corruption in [("text_in_number", spec.number), ("unknown_country", spec.country),
                            *((f"impossible_date_{k}", v) for k, v in spec.dates.items())]:
        if corruption is not None:
            yield _row(spec, bad, lambda d, c=corruption: set_fields(d, BAD_LINE, c.fields), BAD_LINE,
                       corruption.field, re.escape(corruption.reason))
    yield _row(spec, "duplicate_row", lambda d: duplicate_line(d, BAD_LINE), n + 2, "(row)",
               f"^duplicate of line {BAD_LINE}$", extra_row=True)
    yield _refused(spec, "empty_file", lambda d: b"", "the file is empty; expected")
    yield _refused(spec, "header_only", lambda d: lines_of(d)[0], "no data rows; expected")
    yield _refused(spec, "binary_file", lambda d: bytes(range(256)) * 64, "binary content (NUL bytes); expected")
    yield _refused(spec, "gzip_file", gzip.compress, "this is a gzip file, not text; expected")


CASES = [c for spec in TABULAR for c in cases_for(spec)]


def ingest_json(kind: str, path: Path, store: Path, *extra: str, trace_memory: bool = False) -> Run:
    return cli("ingest", kind, path, "--store", store, "--format", "json", *extra, trace_memory=trace_memory)


def assert_refused(run: Run, path: Path, *says: str) -> None:
    assert run.exit_code == 2, (run.stdout, run.stderr)
    for text in (str(path), "refused:", *says, "Nothing was stored."):
        assert squash(text) in run.message, f"{text!r} not in {run.stderr!r}"


def assert_rejected(run: Run, path: Path, case: Case) -> dict:
    """Exit 0, rows_in = loaded + rejected, and the one rejection names file, line, field and reason."""
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["rows_in"] == out["loaded"] + out["rejected"]
    assert (out["rows_in"], out["loaded"], out["rejected"]) == (case.rows_in, case.loaded, 1)
    [rejection] = out["rejections"]
    assert set(rejection) == {"file", "line", "field", "reason"}
    assert (rejection["file"], rejection["line"], rejection["field"]) == (str(path), case.line, case.field)
    assert re.search(case.reason, rejection["reason"]), rejection["reason"]
    return out


def expected_added(case: Case) -> int:
    """Rows of the bad file that the store with the first half of the fixture does not hold yet."""
    second_half = case.spec.rows - case.spec.rows // 2
    return second_half - (case.bad == "truncated")  # the truncated row is the last one


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_file(case: Case, ingested_base: BaseStore, ingested_store: Path, tmp_path: Path) -> None:
    bad = tmp_path / case.spec.fixture
    bad.write_bytes(case.make(case.spec.path.read_bytes()))
    run = ingest_json(case.spec.kind, bad, ingested_store)
    if case.refused:
        assert_refused(run, bad, *case.refused)
        ingested_base.assert_unchanged(ingested_store)
        return
    out = assert_rejected(run, bad, case)
    assert added_to(out, case.spec.table) == expected_added(case)
    added = ingested_base.assert_only_added(ingested_store, case.spec.table, display_path(bad),
                                            added_to(out, case.spec.table), rejected_file=str(bad),
                                            grows=case.spec.companions)
    assert case.line not in added.lines
    assert added.rejections == [(case.line, case.field)]  # the load log keeps the rejection too


@pytest.mark.parametrize("spec", TABULAR, ids=lambda s: s.id)
def test_missing_file(spec: ReaderSpec, ingested_base: BaseStore, ingested_store: Path, tmp_path: Path) -> None:
    run = ingest_json(spec.kind, tmp_path / spec.fixture, ingested_store)
    assert_refused(run, tmp_path / spec.fixture, "no such file; expected")
    ingested_base.assert_unchanged(ingested_store)


@pytest.fixture()
def huge_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "huge"
    path.mkdir()
    yield path
    for f in path.iterdir():
        f.unlink()


def write_huge(path: Path, before: bytes, line_byte: bytes, after: bytes) -> None:
    """``before``, then one line of 50 MB, then ``after``; written in 1 MB blocks."""
    with path.open("wb") as fh:
        fh.write(before)
        block = line_byte * (1 << 20)
        for _ in range(HUGE // len(block)):
            fh.write(block)
        fh.write(b"\n" + after)


@pytest.mark.parametrize("spec", TABULAR, ids=lambda s: s.id)
def test_50_mb_line(spec: ReaderSpec, ingested_base: BaseStore, ingested_store: Path, huge_path: Path) -> None:
    """A 50 MB line is rejected as that line, without holding it in memory; the rows after it load."""
    lines = lines_of(spec.path.read_bytes())
    bad = huge_path / spec.fixture
    write_huge(bad, b"".join(lines[:BAD_LINE - 1]), b"x", b"".join(lines[BAD_LINE - 1:]))
    assert bad.stat().st_size > HUGE
    run = ingest_json(spec.kind, bad, ingested_store, trace_memory=True)
    case = Case(spec, "huge_line", bytes, line=BAD_LINE, field="(line)",
                reason=f"line longer than {MAX_LINE_BYTES // 1024} KiB", rows_in=spec.rows + 1, loaded=spec.rows)
    out = assert_rejected(run, bad, case)
    assert run.peak_python_bytes is not None and run.peak_python_bytes < MEMORY_LIMIT
    assert added_to(out, spec.table) == spec.rows - spec.rows // 2
    added = ingested_base.assert_only_added(ingested_store, spec.table, display_path(bad),
                                            added_to(out, spec.table), grows=spec.companions)
    # the rows after the long line keep their own line numbers
    assert BAD_LINE not in added.lines and max(added.lines) == spec.rows + 2


# --------------------------------------------------------------------------------------------------
# against the default dataset


@pytest.mark.parametrize("case", [c for c in CASES if c.bad in ("latin1_bytes", "semicolon_delimiter")],
                         ids=lambda c: c.id)
def test_bad_file_against_default_store(case: Case, default_base: BaseStore, default_store: Path,
                                        tmp_path: Path) -> None:
    bad = tmp_path / case.spec.fixture
    bad.write_bytes(case.make(case.spec.path.read_bytes()))
    run = ingest_json(case.spec.kind, bad, default_store)
    if case.refused:
        assert_refused(run, bad, *case.refused)
        default_base.assert_unchanged(default_store)
    else:
        out = assert_rejected(run, bad, case)
        # the fixtures are cut from the files the default dataset was built from: their good rows are stored
        # already, except two ATOP dyads outside the theater's five states: USA-Canada 1942 (line 2) and
        # USA-Germany 1990 (line 3, the corrupted one)
        assert out["added"] == (1 if case.spec.table == "alliances" else 0)  # the coverage is stored already too
        default_base.assert_only_added(default_store, case.spec.table, display_path(bad), out["added"])


# --------------------------------------------------------------------------------------------------
# --strict, several files, unknown kind


@pytest.mark.parametrize("spec", TABULAR, ids=lambda s: s.id)
def test_strict_stores_nothing(spec: ReaderSpec, ingested_base: BaseStore, ingested_store: Path,
                               tmp_path: Path) -> None:
    bad = tmp_path / spec.fixture
    bad.write_bytes(latin1_in_line(spec.path.read_bytes(), BAD_LINE))
    run = ingest_json(spec.kind, bad, ingested_store, "--strict")
    assert run.exit_code == 2
    out = run.json()
    assert out["rejected"] == 1 and out["added"] == 0
    assert (out["rejections"][0]["line"], out["rejections"][0]["field"]) == (BAD_LINE, "(encoding)")
    assert "1row(s)rejectedand--strictisset;nothingwasstored." in run.message
    ingested_base.assert_unchanged(ingested_store)


def test_strict_report_keeps_rows_in_equal_loaded_plus_rejected(ingested_store: Path, tmp_path: Path) -> None:
    spec = TABULAR[0]
    bad = tmp_path / spec.fixture
    bad.write_bytes(latin1_in_line(spec.path.read_bytes(), BAD_LINE))
    out = ingest_json(spec.kind, bad, ingested_store, "--strict").json()
    assert out["rows_in"] == out["loaded"] + out["rejected"]


@pytest.mark.parametrize("spec_id,values,field,reason", [
    ("pew", {"n_respondents": "99999999999"}, "n_respondents", "'99999999999' is out of range for a whole number"),
    ("un_votes", {"rcid": "1e20"}, "rcid", "'1e20' is out of range for a whole number"),
    ("capabilities", {"milex": "1e400"}, "milex", "'1e400' is not a finite number"),
    ("ideal_points", {"nvotesfp": "88.5"}, "nvotesfp", "'88.5' is not a whole number"),
], ids=["too_large_for_integer", "too_large_for_bigint", "infinite", "fraction_for_count"])
def test_numbers_out_of_range(spec_id: str, values: dict[str, str], field: str, reason: str,
                              ingested_base: BaseStore, ingested_store: Path, tmp_path: Path) -> None:
    """A number the column cannot hold is a rejected row, not a crash of the whole ingest."""
    spec = next(s for s in TABULAR if s.id == spec_id)
    bad = tmp_path / spec.fixture
    bad.write_bytes(set_fields(spec.path.read_bytes(), BAD_LINE, values))
    run = ingest_json(spec.kind, bad, ingested_store)
    case = Case(spec, "number", bytes, line=BAD_LINE, field=field, reason=re.escape(reason), rows_in=spec.rows,
                loaded=spec.rows - 1)
    out = assert_rejected(run, bad, case)
    ingested_base.assert_only_added(ingested_store, spec.table, display_path(bad), added_to(out, spec.table),
                                    grows=spec.companions)


def test_one_refused_file_refuses_the_whole_ingest(ingested_base: BaseStore, ingested_store: Path,
                                                   tmp_path: Path) -> None:
    """Good roll calls and votes in the same command as a binary file: nothing of any of them is stored."""
    binary = tmp_path / "un_votes.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    good = [s.path for s in TABULAR if s.kind == "votes"]
    run = cli("ingest", "votes", *good, binary, "--store", ingested_store, "--format", "json")
    assert_refused(run, binary, "binary content")
    ingested_base.assert_unchanged(ingested_store)


def test_unknown_kind(ingested_base: BaseStore, ingested_store: Path) -> None:
    run = cli("ingest", "tweets", TABULAR[0].path, "--store", ingested_store)
    assert run.exit_code == 2
    assert "unknownkind'tweets';chooseoneof:indicators," in run.message
    ingested_base.assert_unchanged(ingested_store)


def test_text_report_names_file_line_field_reason(ingested_store: Path, tmp_path: Path) -> None:
    """Without --format json the rejections are a table (or CSV) and the counts go to stderr."""
    spec = next(s for s in TABULAR if s.id == "pew")
    bad = tmp_path / "pew.csv"
    bad.write_bytes(set_fields(spec.path.read_bytes(), BAD_LINE, spec.number.fields))  # type: ignore[union-attr]
    run = cli("ingest", "pew", bad, "--store", ingested_store, "--format", "csv")
    assert run.exit_code == 0
    assert run.stdout.splitlines() == ["file,line,field,reason",
                                       f"{bad},{BAD_LINE},pct_favorable,'twelve' is not a number"]
    assert f"total:{spec.rows}rowsin={spec.rows - 1}loaded+1rejected" in run.message
    table = cli("ingest", "pew", bad, "--store", ingested_store)  # already loaded: still reports the rejection
    assert table.exit_code == 0
    assert "Rejectedrows" in squash(table.stdout) and "'twelve'isnotanumber" in squash(table.stdout)
    assert f"total:{spec.rows}rowsin={spec.rows - 1}loaded+1rejected" in table.message


@pytest.mark.parametrize("kind", [k for k in EVENT_KINDS if k in ingest.all_kinds()])
@pytest.mark.parametrize("content,says", [
    (b"", "the file is empty; expected"),
    (bytes(range(256)) * 64, "binary content (NUL bytes); expected"),
    (gzip.compress(b"x\ty\n" * 100), "this is a gzip file, not text; expected"),
    (None, "no such file; expected"),
], ids=["empty_file", "binary_file", "gzip_file", "missing_file"])
def test_event_readers_refuse_wrong_files(kind: str, content: bytes | None, says: str, ingested_base: BaseStore,
                                          ingested_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.tsv"
    if content is not None:
        path.write_bytes(content)
    run = ingest_json(kind, path, ingested_store)
    assert_refused(run, path, says)
    ingested_base.assert_unchanged(ingested_store)


# --------------------------------------------------------------------------------------------------
# speeches: one file per statement, named ISO_NN_YYYY.txt


JPN = SPEECHES.path / "JPN_56_2001.txt"
PRK = SPEECHES.path / "PRK_75_2020.txt"


def _latin1_speech() -> bytes:
    lines = JPN.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b" ", " Caf\u00e9 ".encode("latin-1"), 1)  # line 5
    return b"\n".join(lines)


SPEECH_ROW_CASES = {
    # name: (file name, content, field, reason)
    "latin1_bytes": ("JPN_56_2001.txt", _latin1_speech, 5, "text",
                     r"^line 5: not valid UTF-8 \(byte 0xe9\); re-save as UTF-8$"),
    "unknown_country": ("XXX_56_2001.txt", JPN.read_bytes, 1, "(file name)", r"unknown country code 'XXX'"),
    "session_year_mismatch": ("JPN_56_2002.txt", JPN.read_bytes, 1, "(file name)",
                              r"session 56 was held in 2001, not 2002"),
    "bad_name": ("Japan-2001.txt", JPN.read_bytes, 1, "(file name)", r"'Japan-2001.txt' is not of the form "
                                                                      r"ISO_NN_YYYY.txt"),
    "whitespace_only": ("JPN_56_2001.txt", lambda: b"\n \r\n", 1, "text", r"the statement is empty"),
}


@pytest.mark.parametrize("name", SPEECH_ROW_CASES)
def test_bad_speech_file(name: str, ingested_base: BaseStore, ingested_store: Path, tmp_path: Path) -> None:
    file_name, content, line, field, reason = SPEECH_ROW_CASES[name]
    bad = tmp_path / file_name
    bad.write_bytes(content())
    run = ingest_json("speeches", bad, ingested_store)
    out = assert_rejected(run, bad, Case(SPEECHES, name, bytes, line=line, field=field, reason=reason, rows_in=1,
                                         loaded=0))
    assert out["added"] == 0
    ingested_base.assert_only_added(ingested_store, "speeches", display_path(bad), 0)


@pytest.mark.parametrize("content,reason", [(lambda: b"", r"^the statement is empty$"),
                                            (lambda: bytes(range(256)), r"^binary content \(NUL bytes\)$")],
                         ids=["empty", "binary"])
def test_bad_speech_in_a_folder(content: Callable[[], bytes], reason: str, ingested_base: BaseStore,
                                ingested_store: Path, tmp_path: Path) -> None:
    """In a folder, an empty or binary statement is one rejected row; the good statements load."""
    folder = tmp_path / "speeches"
    folder.mkdir()
    (folder / PRK.name).write_bytes(PRK.read_bytes())
    bad = folder / "JPN_56_2001.txt"
    bad.write_bytes(content())
    run = ingest_json("speeches", folder, ingested_store)
    out = assert_rejected(run, bad, Case(SPEECHES, "folder", bytes, line=1, field="text", reason=reason, rows_in=2,
                                         loaded=1))
    assert out["added"] == 1
    ingested_base.assert_only_added(ingested_store, "speeches", display_path(folder / PRK.name), 1)


SPEECH_REFUSED = {
    "empty_file": ("JPN_56_2001.txt", b"", "the file is empty; expected UN General Debate statements"),
    "binary_file": ("JPN_56_2001.txt", bytes(range(256)), "binary content (NUL bytes); expected"),
    "gzip_file": ("JPN_56_2001.txt", gzip.compress(b"x" * 100), "this is a gzip file, not text; expected"),
    "not_txt": ("JPN_56_2001.csv", b"text", "not a .txt file; expected UN General Debate statements"),
    "missing_file": ("JPN_56_2001.txt", None, "no such file; expected"),
    "folder_without_statements": ("empty_folder", "folder", "the folder has no .txt files; expected"),
}


@pytest.mark.parametrize("name", SPEECH_REFUSED)
def test_refused_speech_input(name: str, ingested_base: BaseStore, ingested_store: Path, tmp_path: Path) -> None:
    file_name, content, says = SPEECH_REFUSED[name]
    bad = tmp_path / file_name
    if content == "folder":
        bad.mkdir()
        (bad / "notes.md").write_text("not a statement")
    elif content is not None:
        bad.write_bytes(content)
    run = ingest_json("speeches", bad, ingested_store)
    assert_refused(run, bad, says)
    ingested_base.assert_unchanged(ingested_store)


def test_huge_speech_file(ingested_base: BaseStore, ingested_store: Path, huge_path: Path) -> None:
    """A 50 MB statement is rejected on its size without being read into memory."""
    bad = huge_path / "JPN_56_2001.txt"
    write_huge(bad, b"", b"word ", b"")
    run = ingest_json("speeches", bad, ingested_store, trace_memory=True)
    assert_rejected(run, bad, Case(SPEECHES, "huge", bytes, line=1, field="text",
                                   reason=r"^\d+ KiB is too large for one statement \(limit 2 MiB\)$", rows_in=1,
                                   loaded=0))
    assert run.peak_python_bytes is not None and run.peak_python_bytes < MEMORY_LIMIT
    ingested_base.assert_only_added(ingested_store, "speeches", display_path(bad), 0)


def test_strict_speeches(ingested_base: BaseStore, ingested_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "speeches"
    folder.mkdir()
    (folder / PRK.name).write_bytes(PRK.read_bytes())
    (folder / "JPN_56_2002.txt").write_bytes(JPN.read_bytes())
    run = ingest_json("speeches", folder, ingested_store, "--strict")
    assert run.exit_code == 2
    assert run.json()["rejections"][0]["field"] == "(file name)"
    ingested_base.assert_unchanged(ingested_store)
