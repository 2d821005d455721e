"""The compiled GDELT scanner (``dualthreat.ingest._gdeltscan``) and the reference SQL path (DuckDB's CSV
scanner and the query of ``_gdelt_sql``) give identical results: rows in, valid lines, every rejection (line,
field, reason), every kept event with its line (its decimals to the bit, its Arrow types), the month totals and
the file's SHA-256. Checked on the real fixtures, on the file of malformed lines, on a file of real lines a
fifth of which are the theater's events (typed by the scanner in batches), and on files of real lines mutated
at random (Hypothesis)."""

from __future__ import annotations

import re
import shutil
import sysconfig
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from dualthreat.ingest.base import FileRefused
from dualthreat.ingest.events import GDELT2_NAMES, read_events

from test_events_badlines import build_bad_gdelt

FIX = Path(__file__).parent / "fixtures" / "gdelt"
GDELT1 = FIX / "gdelt1_events.cut.tsv"
GDELT2 = FIX / "gdelt2_events.cut.tsv"
TRANS = FIX / "gdelt2_translingual.cut.tsv"
STATES = ("USA", "JPN", "KOR", "CHN", "PRK")


def compiled_available() -> bool:
    try:
        from dualthreat.ingest import _gdeltscan  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_compiled_scanner_is_built_where_a_compiler_is() -> None:
    if compiled_available():
        return
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}): dualthreat was installed without its compiled GDELT scanner")
    pytest.fail("the compiled GDELT scanner was not built although a C compiler is present: reinstall with "
                "`pip install -v -e .` and read the build_ext messages")


needs_compiled = pytest.mark.skipif(not compiled_available(), reason="the compiled GDELT scanner is not built")


def outcome(path: Path, scanner: str, states: tuple[str, ...] = STATES) -> tuple:
    try:
        (r,) = read_events("gdelt", [path], states, scanner=scanner, jobs=1)
    except FileRefused as exc:  # both paths must refuse the same files, for the same reason
        return ("refused", str(exc))
    return (r.format, r.rows_in, r.loaded, r.rejected, [(x.file, x.line, x.field, x.reason) for x in r.rejections],
            r.rows.to_pylist(), [c.rows.to_pylist() for c in r.companions], r.sha256,
            # decimals to the bit (-0.0 == 0.0 in Python), and the Arrow types of what is stored
            [[_bits(v) for v in r.rows.column(c).to_pylist()] for c in ("goldstein", "avg_tone")],
            [str(t.schema) for t in (r.rows, *(c.rows for c in r.companions))])


def _bits(v: float | None) -> str | None:
    return None if v is None else v.hex()


def assert_same(path: Path, states: tuple[str, ...] = STATES) -> tuple:
    sql, c = outcome(path, "sql", states), outcome(path, "c", states)
    for part, (a, b) in enumerate(zip(sql, c)):
        assert a == b, f"part {part} differs:\nsql: {a}\nc:   {b}"
    return c


@needs_compiled
@pytest.mark.parametrize("path", [GDELT1, GDELT2, TRANS], ids=lambda p: p.name)
def test_same_results_on_the_real_fixtures(path: Path) -> None:
    assert_same(path)


@needs_compiled
def test_same_results_with_other_states_kept() -> None:
    # the GDELT 1.0 fixture's events are among these states (one, "CVL", is a CAMEO role, never a country)
    rows = assert_same(GDELT1, ("CVL", "USA", "GBR", "CAN", "AUS", "IND", "SAU", "AFG"))[5]
    assert rows  # one USA event among them


@needs_compiled
def test_same_results_on_the_file_of_malformed_lines(tmp_path: Path) -> None:
    path, expected, _ = build_bad_gdelt(tmp_path)
    result = assert_same(path)
    assert [x[1:3] for x in result[4]] == [(line, field) for line, field, _ in expected]


@needs_compiled
def test_same_results_on_a_zipped_file_with_crlf_and_a_header(tmp_path: Path) -> None:
    lines = TRANS.read_bytes().splitlines()
    body = b"\t".join(n.encode() for n in GDELT2_NAMES) + b"\r\n" + b"\r\n".join(lines)  # no final newline
    zpath = tmp_path / "20150218230000.export.CSV.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("20150218230000.export.CSV", body)
    result = assert_same(zpath)
    assert result[1] == len(lines) and len(result[5]) == 2


@needs_compiled
def test_same_line_numbers_after_a_first_line_that_is_only_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.export.CSV"
    path.write_bytes(b"\xef\xbb\xbf\n" + TRANS.read_bytes())
    assert [r["source_line"] for r in assert_same(path)[5]] == [10, 11]


# --------------------------------------------------------------------------------------------------
# random mutations of real lines

# actor codes with spaces around them: SQL's trim() and ltrim() remove the Unicode space separators (category Zs:
# U+0020, U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000), not U+200B, U+2028, U+0085 or U+FEFF
SPACED = [b"\xc2\xa0USAGOV", b"\xe3\x80\x80KOR", b"CHNMIL\xe2\x80\x8a", b"\xe2\x80\x8bCHN", b"\xe1\x9a\x80 JPNGOV \xe2\x81\x9f",
          b"\xe2\x80\xafPRK\xe2\x80\x80", b"\xe2\x80\xa8USA", b"\xc2\x85KOR", b"\xef\xbb\xbfJPN", b"\xc2\xa0", b" \xe3\x80\x80 "]
# values that probe the parsers: signs, spaces, decimal points, exponents, overflow, special names, NULL
NASTY = [b"", b" ", b"5", b" 5", b"5 ", b"+5", b"-5", b"05", b"-0", b"5.0", b"5.", b".5", b"5e2", b"5E-2", b"1_000",
         b"0x10", b"inf", b"-inf", b"nan", b"NaN", b"Infinity", b"1,5", b"2147483647", b"2147483648", b"-2147483649",
         b"9223372036854775807", b"9223372036854775808", b"1e400", b"4.9e-324", b"10", b"10.0000000000000001",
         b"-10.000000000000002", b"100", b"-100.5", b"20150218", b"20150231", b"20160229", b"18991231", b"21010101",
         b"2015021", b"201502180", b"2015-02-18", b"00000101", b"20150218000000", b"21001231235959", b"\x01",
         b"\xe9", b"caf\xc3\xa9", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"01", b"20", b"21", b"1", b"010",
         b"0\xc3\xa9", b"USA", b"CHN", b"JPNGOV", b" KORMIL", b"PRK", b"\r", b"\xef\xbb\xbf",
         *SPACED,
         b"0." + b"0" * 450 + b"5", b"9" * 500, b"-" + b"1" * 30 + b"e-30"]  # decimals longer than any real one
value = st.one_of(st.sampled_from(NASTY), st.binary(max_size=8).filter(lambda b: b"\t" not in b and b"\n" not in b),
                  st.text(alphabet="0123456789+-.eE nafiINF", max_size=24).map(str.encode))


@st.composite
def mutated_line(draw: st.DrawFn, base: list[bytes]) -> bytes:
    fields = draw(st.sampled_from(base)).split(b"\t")
    kind = draw(st.sampled_from(["keep", "set", "set", "set", "cut", "extra", "empty", "two", "dyad", "dyad"]))
    if kind == "dyad":  # the actors of a theater event, in one of the forms a file may have them
        theater_dyad(fields, draw(st.sampled_from(STATES)), draw(st.sampled_from(STATES + ("GBR", ""))),
                     draw(st.integers(0, len(ACTOR_FORMS) - 1)), draw(st.integers(0, len(ACTOR_FORMS) - 1)))
        if draw(st.booleans()):
            fields[draw(st.integers(0, len(fields) - 1))] = draw(value)
    elif kind in ("set", "two"):
        for _ in range(1 if kind == "set" else 2):
            fields[draw(st.integers(0, len(fields) - 1))] = draw(value)
    elif kind == "cut":
        fields = fields[: draw(st.integers(1, len(fields) - 1))]
    elif kind == "extra":
        for _ in range(draw(st.integers(1, 4))):
            fields.insert(draw(st.integers(0, len(fields))), draw(value))
    elif kind == "empty":
        return b""
    return b"\t".join(fields)


# how an actor's state appears: the country field (and the code), or only the code (empty country field),
# possibly after spaces; the role after the country
ACTOR_FORMS = [(b"{c}", b"{c}GOV"), (b"{c}", b"{c}"), (b"", b"{c}MIL"), (b"", b" {c}"), (b"", b"\xc2\xa0{c}BUS"),
               (b"", b"\xe3\x80\x80{c}"), (b"{c}", b" {c}GOV\xe2\x80\x80"), (b"", b"{c}"), (b"{c}", b""),
               (b"{c}", b"\xc2\xa0"), (b"", b"")]  # the last: no state
_AT = {name: i for i, name in enumerate(GDELT2_NAMES)}


def theater_dyad(fields: list[bytes], a: str, b: str, form_a: int, form_b: int) -> None:
    """Set a GDELT 2.0 line's actors (in place) to the states a and b, in the given forms of ACTOR_FORMS."""
    if len(fields) <= _AT["Actor2CountryCode"]:
        return
    for i, state, form in ((1, a, form_a), (2, b, form_b)):
        country, code = ACTOR_FORMS[form]
        fields[_AT[f"Actor{i}CountryCode"]] = country.replace(b"{c}", state.encode())
        fields[_AT[f"Actor{i}Code"]] = code.replace(b"{c}", state.encode())


def _base(path: Path, extra: Path | None = None) -> list[bytes]:
    lines = [ln for ln in path.read_bytes().splitlines() if ln]
    if extra:
        lines += [ln for ln in extra.read_bytes().splitlines() if ln]
    return lines


GDELT2_BASE = _base(GDELT2, TRANS)  # TRANS holds real USA-CHN events: kept lines get mutated too
GDELT1_BASE = _base(GDELT1)
mutation_settings = settings(max_examples=120, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@needs_compiled
@pytest.mark.parametrize("base, states", [(GDELT2_BASE, STATES),
                                          (GDELT1_BASE, ("USA", "GBR", "CAN", "AUS", "IND", "SAU", "AFG"))],
                         ids=["gdelt2", "gdelt1"])
@mutation_settings
@given(data=st.data(), final_newline=st.booleans(), line_end=st.sampled_from([b"\n", b"\r\n"]))
def test_same_results_on_mutated_lines(tmp_path_factory: pytest.TempPathFactory, base: list[bytes],
                                       states: tuple[str, ...], data: st.DataObject, final_newline: bool,
                                       line_end: bytes) -> None:
    body = data.draw(st.lists(mutated_line(base), min_size=1, max_size=12), label="body")
    _check(tmp_path_factory, base, body, final_newline, line_end, states)


def _check(tmp_path_factory: pytest.TempPathFactory, base: list[bytes], body: list[bytes], final_newline: bool,
           line_end: bytes, states: tuple[str, ...] = STATES) -> None:
    # enough intact lines first that the file is recognised as what it is (the layout is read off the first lines)
    lines = base[:6] + body
    path = tmp_path_factory.mktemp("mutated") / "20150218230000.export.CSV"
    data = line_end.join(lines) + (line_end if final_newline else b"")
    path.write_bytes(data)
    if re.search(rb"\r(?!\n)", data) or (b"\r\n" in data and re.search(rb"[^\r]\n", data)):
        # A carriage return that does not end a line, or line ends of both kinds: the compiled scanner reads
        # such a file by its '\n' line ends (and drops a '\r' before one); DuckDB's scanner takes a lone '\r' as
        # a line end, or gives up on the whole file. Nothing to compare with; the compiled result must add up.
        c = outcome(path, "c", states)
        assert c[0] == "refused" or c[1] == c[2] + c[3]
        reject()
    assert_same(path, states)



# --------------------------------------------------------------------------------------------------
# edges the random mutations rarely reach


def _long_line(base: bytes, length: int) -> bytes:
    """A real line made exactly ``length`` bytes long by padding its SOURCEURL."""
    pad = length - len(base)
    assert pad >= 0
    return base + b"x" * pad


@needs_compiled
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_same_results_at_the_line_length_limit(tmp_path: Path, line_end: bytes) -> None:
    from dualthreat.ingest.events import MAX_LINE_BYTES

    base = TRANS.read_bytes().splitlines()[8]  # a real USA -> CHN event, kept when accepted
    # bytes with the line end: one under, at and one over the limit; the line after each must keep its number
    sizes = [MAX_LINE_BYTES - len(line_end) + k for k in (-1, 0, 1)]
    lines = [GDELT2.read_bytes().splitlines()[0]]
    for size in sizes:
        lines += [_long_line(base, size), GDELT2.read_bytes().splitlines()[1]]
    path = tmp_path / "long.export.CSV"
    path.write_bytes(line_end.join(lines) + line_end)
    result = assert_same(path)
    assert [(x[1], x[2]) for x in result[4]] == [(6, "(line)")]  # only the line over the limit
    assert [r["source_line"] for r in result[5]] == [2, 4]


@needs_compiled
def test_a_carriage_return_inside_a_line_rejects_that_line_only(tmp_path: Path) -> None:
    # DuckDB's scanner refuses such a file as a whole; the compiled scanner rejects the line and reads on
    lines = TRANS.read_bytes().splitlines()
    broken = lines[8].replace(b"\t", b"\r\t", 1)
    path = tmp_path / "cr.export.CSV"
    path.write_bytes(b"\n".join([*lines[:8], broken, *lines[9:]]) + b"\n")
    assert outcome(path, "sql")[0] == "refused"
    (r,) = read_events("gdelt", [path], STATES, scanner="c")
    assert [(x.line, x.field) for x in r.rejections] == [(9, "(line)")]
    assert "carriage return" in r.rejections[0].reason
    assert r.rows_in == len(lines) == r.loaded + r.rejected
    assert r.rows.column("source_line").to_pylist() == [10]  # the other real USA -> CHN event


@needs_compiled
def test_the_scanner_refuses_misuse_with_python_errors() -> None:
    from dualthreat.ingest import _gdeltscan
    from dualthreat.ingest.events import MAX_LINE_BYTES, _scanner_layout

    layout = _scanner_layout("gdelt2")
    good = dict(layout, states={b"USA": 0, b"CHN": 1}, skip=0, max_line=MAX_LINE_BYTES)
    scanner = _gdeltscan.Scanner(**good)
    scanner.feed(TRANS.read_bytes())
    out = scanner.finish()
    assert out["rows_in"] == out["valid"] + len(out["rejections"]) == 26
    with pytest.raises(RuntimeError, match="finished"):
        scanner.feed(b"more")
    with pytest.raises(RuntimeError, match="finished"):
        scanner.finish()
    with pytest.raises(TypeError):
        _gdeltscan.Scanner(**good).feed("text, not bytes")
    for bad in (dict(good, max_fields=65), dict(good, max_line=0), dict(good, max_line=2**30 + 1),
                dict(good, batch_rows=0), dict(good, states={b"US": 0}),
                dict(good, read=[0, 1]), dict(good, roles={k: v for k, v in layout["roles"].items() if k != "id"})):
        with pytest.raises((ValueError, KeyError)):
            _gdeltscan.Scanner(**bad)


def test_an_unknown_scanner_is_a_clear_error_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import cli

    monkeypatch.setenv("DUALTHREAT_EVENT_SCANNER", "fast")
    run = cli("ingest", "gdelt", TRANS, "--store", "unused.duckdb")
    assert run.exit_code == 2
    assert "DUALTHREAT_EVENT_SCANNER='fast' is not an event scanner: use c or sql" in run.stdout + run.stderr
    assert not Path("unused.duckdb").exists()


@needs_compiled
def test_the_same_file_twice_in_one_read_gives_the_same_result_twice() -> None:
    # each worker has its own temporary files: the same file read by two workers at once must not collide
    results = read_events("gdelt", [TRANS] * 4, STATES, jobs=4)
    assert {(r.rows_in, r.kept, tuple(r.rows.column("source_line").to_pylist())) for r in results} == {(26, 2, (9, 10))}


# --------------------------------------------------------------------------------------------------
# many kept events: the scanner types them itself, in batches


def fifth_kept_file(tmp_path: Path, copies: int = 6) -> Path:
    """Real GDELT 2.0 lines, every fifth made an event between two different theater states (the actors in each
    of the forms of ACTOR_FORMS, cycling), a few of them also malformed; a header, CRLF line ends."""
    real = _base(GDELT2, TRANS)
    lines, k = [], 0
    for c in range(copies):
        for i, line in enumerate(real):
            fields = line.split(b"\t")
            if (c * len(real) + i) % 5 == 0:
                a = STATES[k % 5]
                b = STATES[(k % 5 + 1 + k // 5 % 4) % 5]
                theater_dyad(fields, a, b, k % (len(ACTOR_FORMS) - 1), (k // 3) % (len(ACTOR_FORMS) - 1))
                if k % 17 == 3:
                    fields[_AT["GoldsteinScale"]] = b"11"  # out of range: rejected, not kept
                elif k % 23 == 5:
                    fields[_AT["DATEADDED"]] = b"20150230"  # a number in range but no real day: date_added NULL
                elif k % 29 == 7:
                    fields = fields[:40]  # truncated
                k += 1
            lines.append(b"\t".join(fields))
    path = tmp_path / "fifth.export.CSV"
    path.write_bytes(b"\t".join(n.encode() for n in GDELT2_NAMES) + b"\r\n" + b"\r\n".join(lines) + b"\r\n")
    return path


@needs_compiled
@pytest.mark.parametrize("batch_rows", [1, 7, 65536])
def test_same_results_when_a_fifth_of_the_lines_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          batch_rows: int) -> None:
    from dualthreat.ingest.events import scanner

    monkeypatch.setattr(scanner, "BATCH_ROWS", batch_rows)
    path = fifth_kept_file(tmp_path)
    result = assert_same(path)
    rows_in, kept = result[1], result[5]
    assert rows_in == 6 * 76 and 0.17 < len(kept) / rows_in < 0.21  # about a fifth, less the damaged ones
    assert {(e["source"], e["target"]) for e in kept} == {(a, b) for a in STATES for b in STATES if a != b}
    assert any(e["country_from_code"] for e in kept) and any(e["date_added"] is None for e in kept)
    assert any(e["source_actor"] is None for e in kept)  # an empty code beside a country field
    # kept by the state at the start of a code after a no-break space (U+00A0), stored without it
    assert {e["source_actor"] for e in kept if e["country_from_code"]} & {f"{c}BUS" for c in STATES}


@needs_compiled
def test_the_scanner_hands_over_bounded_batches() -> None:
    from dualthreat.ingest import _gdeltscan
    from dualthreat.ingest.events import MAX_LINE_BYTES, _scanner_layout

    scanner = _gdeltscan.Scanner(**_scanner_layout("gdelt2"), states={b"USA": 0, b"CHN": 1}, skip=0,
                                 max_line=MAX_LINE_BYTES, batch_rows=3)
    taken = []
    for _ in range(10):  # 2 kept events a copy
        scanner.feed(TRANS.read_bytes())
        taken.append(scanner.take())
    out = scanner.finish()
    sizes = [b["rows"] for t in taken for b in t] + [b["rows"] for b in out["batches"]]
    assert out["kept"] == sum(sizes) == 20 and sizes == [3] * 6 + [2]
    assert [len(t) for t in taken[:4]] == [0, 1, 1, 0]  # each batch handed over once, when it is full
    with pytest.raises(RuntimeError, match="finished"):
        scanner.take()


@needs_compiled
@pytest.mark.parametrize("hash_beside", [False, True])
def test_the_hash_on_a_second_thread_is_the_files_hash(tmp_path: Path, hash_beside: bool) -> None:
    import hashlib

    from dualthreat.ingest.events.files import plan_file
    from dualthreat.ingest.events.scanner import read_one_compiled

    path = tmp_path / "big.export.CSV"
    path.write_bytes(TRANS.read_bytes() * 200)  # several 1 MiB chunks
    r = read_one_compiled(plan_file("gdelt", path), STATES, hash_beside=hash_beside)
    assert r.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert r.kept == 400 and r.rows_in == 26 * 200
