"""The theater file: the packaged Northeast Asia theater, and broken files that name their bad key."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from dualthreat.tables import TABLES
from dualthreat.theater import NAMED_SERIES, TheaterError, load_theater, packaged_theaters, parse_theater

from conftest import cli

PACKAGED = resources.files("dualthreat").joinpath("theaters/northeast_asia.toml").read_text("utf-8")


def test_packaged_theater() -> None:
    th = load_theater()
    assert (th.name, th.patron, th.allies, th.sources) == ("Northeast Asia", "USA", ("JPN", "KOR"), ("CHN", "PRK"))
    assert set(th.levels) == {"local", "systemic"}
    assert th.states == ("USA", "JPN", "KOR", "CHN", "PRK")
    components = th.components()
    assert len(components) == 8  # 2 allies x 2 levels x 2 sources
    for component in components:
        assert th.indicators_for(*component), f"no indicator for {component}"
    assert all(i.table in TABLES and i.sign in (1, -1) for i in th.indicators)
    assert len({i.id for i in th.indicators}) == len(th.indicators)
    assert th.label("KOR") == "South Korea"


def test_theater_command() -> None:
    run = cli("theater", "--format", "json")
    assert run.exit_code == 0, run.stderr
    rows = run.json()
    assert {r["component"] for r in rows} == {f"{a}.{lvl}.{s}" for a in ("JPN", "KOR") for lvl in ("local", "systemic")
                                              for s in ("CHN", "PRK")}
    assert {"component", "indicator", "table", "series", "sign"} <= set(rows[0])
    table = cli("theater")
    assert table.exit_code == 0 and "patron USA" in table.stdout


def edit(old: str, new: str) -> str:
    assert PACKAGED.count(old) >= 1, old
    return PACKAGED.replace(old, new, 1)


FIRST = "indicator[0] (jasdf_scrambles_chn)"
BROKEN = {
    # name: (theater text, what the message must name)
    "unknown_top_key": (PACKAGED + '\ncolour = "blue"\n', "colour: unknown key"),
    "unknown_indicator_key": (edit('sign = 1\nnote = "JASDF', 'weight = 2\nsign = 1\nnote = "JASDF'),
                              "indicator[0].weight: unknown key"),
    "component_not_three_parts": (edit('component = "JPN.local.CHN"', 'component = "JPN.local"'),
                                  f"{FIRST}.component: 'JPN.local' is not of the form ALLY.level.SOURCE"),
    "component_bad_level": (edit('component = "JPN.local.CHN"', 'component = "JPN.regional.CHN"'),
                            f"{FIRST}.component: level 'regional' is not one of"),
    "component_ally_not_listed": (edit('component = "JPN.local.CHN"', 'component = "USA.local.CHN"'),
                                  f"{FIRST}.component: ally 'USA' is not in allies"),
    "component_source_not_listed": (edit('component = "JPN.local.CHN"', 'component = "JPN.local.RUS"'),
                                    f"{FIRST}.component: source 'RUS' is not in sources"),
    "unknown_table": (edit('table = "indicators"', 'table = "scrambles"'), f"{FIRST}.table: 'scrambles' is not a table"),
    "bad_patron": (edit('patron = "USA"', 'patron = "XYZ"'), "patron: 'XYZ' is not a known ISO3 country code"),
    "bad_ally": (edit('allies = ["JPN", "KOR"]', 'allies = ["JPN", "KOREA"]'),
                 "allies[1]: 'KOREA' is not a known ISO3 country code"),
    "bad_indicator_actor": (edit('actor = "CHN"', 'actor = "XYZ"'), f"{FIRST}.actor: 'XYZ' is not a known ISO3"),
    "bad_sign": (edit("sign = 1", "sign = 2"), f"{FIRST}.sign: 2 must be 1 or -1"),
    "sign_as_text": (edit("sign = 1", 'sign = "up"'), f"{FIRST}.sign: 'up' must be 1 or -1"),
    "directed_without_direction": (edit('sign = 1\nnote = "JASDF', 'directed = false\nsign = 1\nnote = "JASDF'),
                                   f"{FIRST}.directed: only a series of icews_dyad_month or icews_dyad_year"),
    "directed_as_text": (edit('sign = 1\nnote = "JASDF', 'directed = "no"\nsign = 1\nnote = "JASDF'),
                         f"{FIRST}.directed: 'no' must be true or false"),
    "duplicate_id": (edit('id = "senkaku_contiguous_zone_days"', 'id = "jasdf_scrambles_chn"'),
                     "indicator[1] (jasdf_scrambles_chn).id: duplicate id"),
    "missing_id": (edit('id = "jasdf_scrambles_chn"\n', ""), "indicator[0].id: missing or not a string"),
    "missing_patron": (edit('patron = "USA"\n', ""), "patron: missing"),
    "bad_levels": (edit('levels = ["local", "systemic"]', 'levels = ["local"]'), "levels: must be"),
    "empty_allies": (edit('allies = ["JPN", "KOR"]', "allies = []"), "allies: must be a non-empty list"),
    "invalid_toml": (edit('name = "Northeast Asia"', 'name = "Northeast Asia'), "not valid TOML"),
    # the sections that took the theater out of the Python code
    "role_not_an_ally": (edit('great_power_ally = "JPN"', 'great_power_ally = "CHN"'),
                         "hypotheses.great_power_ally: 'CHN' is not in allies"),
    "same_ally_two_roles": (edit('client_ally = "KOR"', 'client_ally = "JPN"'),
                            "hypotheses: great_power_ally and client_ally must be different allies"),
    "unknown_hypotheses_key": (edit('client_ally = "KOR"', 'client_ally = "KOR"\nrival = "JPN"'),
                               "hypotheses.rival: unknown key"),
    "public_ally_not_listed": (edit('id = "genron_unfavorable_chn"\nally = "JPN"', 'id = "genron_unfavorable_chn"\nally = "CHN"'),
                               "public[1].ally: 'CHN' is not in allies"),
    "public_bad_pew_series": (edit('series = "pct_unfavorable"\nsign = 1\nbackfill', 'series = "pct_hostile"\nsign = 1\nbackfill'),
                              "public[0].series: 'pct_hostile' is not a series of pew_favorability"),
    "identity_bad_dyad": (edit('dyads = ["JPN-KOR",', 'dyads = ["JPN-KOREA",'),
                          "identity.dyads[0]: 'KOREA' is not a known ISO3 country code"),
    "identity_view_off_dyads": (edit('actor = "CHN"\ntarget = "JPN"\nseries = "genron', 'actor = "CHN"\ntarget = "USA"\nseries = "genron'),
                                "identity.view[8].actor: CHN-USA is not one of identity.dyads"),
    "elite_state_not_in_theater": (edit('state = "PRK"\ncategory', 'state = "RUS"\ncategory'),
                                   "elite[0].state: 'RUS' is not a state of the theater"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_broken_theater_names_the_bad_key(name: str, tmp_path: Path) -> None:
    text, says = BROKEN[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TheaterError) as err:
        load_theater(path)
    assert str(err.value).startswith(f"{path}: ")
    assert says in str(err.value)


@pytest.mark.parametrize("name", ["unknown_top_key", "bad_sign", "invalid_toml"])
def test_theater_command_refuses_a_broken_file(name: str, tmp_path: Path) -> None:
    text, says = BROKEN[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    run = cli("theater", "--file", path)
    assert run.exit_code == 2
    assert "".join(says.split()) in run.message and str(path) in run.message


def test_unreadable_theater_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(TheaterError, match="cannot be read"):
        load_theater(missing)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(PACKAGED.replace("Northeast Asia", "Asie du Nord-Est \u00e9").encode("latin-1"))
    with pytest.raises(TheaterError, match="cannot be read"):
        load_theater(latin1)
    assert cli("theater", "--file", missing).exit_code == 2


def test_another_theater_parses() -> None:
    """A theater is data: another alliance system needs only another file (every component with an indicator)."""
    comps = [f"{a}.{lvl}.RUS" for a in ("POL", "LTU") for lvl in ("local", "systemic")]
    data = {"name": "Baltic", "patron": "USA", "allies": ["POL", "LTU"], "sources": ["RUS"],
            "levels": ["systemic", "local"],
            "indicator": [{"id": f"rus_milburden_{i}", "component": c, "table": "military_spending",
                           "series": "share_gdp", "actor": "RUS"} for i, c in enumerate(comps)]}
    th = parse_theater(data, "baltic.toml")
    assert th.components()[0] == ("POL", "local", "RUS") and th.indicators[0].sign == 1
    assert th.great_power == th.client == "RUS"  # one source plays both roles
    assert tomllib.loads(PACKAGED)["patron"] == "USA"
    with pytest.raises(TheaterError, match=r"baltic.toml: indicator: component LTU.local.RUS has no indicator"):
        parse_theater({**data, "indicator": data["indicator"][:2]}, "baltic.toml")


def test_packaged_theaters_are_listed_and_load_by_name() -> None:
    assert packaged_theaters()[0] == "northeast_asia" and "eastern_flank" in packaged_theaters()
    flank = load_theater("eastern_flank")
    assert (flank.patron, flank.allies, flank.great_power, flank.client) == ("USA", ("POL", "LTU"), "RUS", "BLR")
    assert all(flank.indicators_for(*c) for c in flank.components())
    run = cli("theater", "list", "--format", "json")
    assert run.exit_code == 0, run.stderr
    rows = {r["name"]: r for r in run.json()}
    assert rows["eastern_flank"]["allies"] == ["POL", "LTU"] and rows["northeast_asia"]["sources"] == ["CHN", "PRK"]
    shown = cli("theater", "show", "eastern_flank", "--format", "json")
    assert shown.exit_code == 0 and {r["component"] for r in shown.json()} == {".".join(c) for c in flank.components()}
    unknown = cli("theater", "show", "atlantis")
    assert unknown.exit_code == 2 and "nosuchtheater" in unknown.message and "eastern_flank" in unknown.message


@pytest.mark.parametrize("roles, says", [
    ({"client": "PRK", "backer": "RUS"}, "mediator.backer: 'RUS' is not in sources"),
    ({"client": "CHN", "backer": "CHN"}, "mediator.client: 'CHN' is also the backer"),
])
def test_roles_are_sources(roles: dict, says: str) -> None:
    data = tomllib.loads(PACKAGED)
    with pytest.raises(TheaterError, match=says):
        parse_theater({**data, "mediator": roles}, "roles.toml")


def test_unknown_series_is_refused() -> None:
    with pytest.raises(TheaterError, match=r"series: 'tests_everything' is not a series of missile_tests"):
        load_theater_text(edit('series = "tests_all"', 'series = "tests_everything"'))


def test_named_series_agree_with_the_measures() -> None:
    """The theater's list of named series is the one the measures compute."""
    from dualthreat.measure import aggregates
    from dualthreat.measure.series import MISSILE_SERIES

    assert set(NAMED_SERIES["missile_tests"]) == set(MISSILE_SERIES)
    assert set(NAMED_SERIES["icews_dyad_month"]) == set(aggregates.MONTH_COUNTS)
    assert set(NAMED_SERIES["icews_dyad_year"]) == set(aggregates.YEAR_SERIES)
    assert set(NAMED_SERIES["gdelt_pairs"]) == set(aggregates.GDELT_SERIES)


def load_theater_text(text: str):  # noqa: ANN201 - Theater
    return parse_theater(tomllib.loads(text), "edited.toml")


# --------------------------------------------------------------------------------------------------
# any theater: no theater in the code, Northeast Asia unchanged, the eastern flank end to end

import ast  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

PACKAGE = Path(resources.files("dualthreat"))
FIXTURES = Path(__file__).parent / "fixtures"


def theater_codes() -> set[str]:
    """Every state a packaged theater names: patron, allies, sources, and the actors and targets of indicators."""
    codes: set[str] = set()
    for name in packaged_theaters():
        th = load_theater(name)
        codes |= set(th.states) | {c for i in (*th.indicators, *th.backing) for c in (i.actor, i.target) if c}
    return codes


def code_literals(path: Path, codes: set[str]) -> list[str]:
    """``line: literal`` for each string literal (docstrings and f-string parts included) naming a code."""
    pattern = re.compile(rf"(?<![A-Za-z])({'|'.join(sorted(codes))})(?![A-Za-z])")
    hits = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value):
            hits.append(f"{node.lineno}: {node.value[:70]!r}")
    return hits


def test_no_theater_country_code_in_the_package_code() -> None:
    codes = theater_codes()
    assert {"JPN", "KOR", "CHN", "PRK", "USA", "RUS", "BLR", "POL", "LTU"} <= codes
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if hits := code_literals(path, codes):
            found[rel] = hits
    assert not found, "country codes of a theater in the package's Python code (move them to the theater file):\n" + \
        "\n".join(f"{f}: {h}" for f, hs in found.items() for h in hs)


def test_the_code_scan_finds_a_code() -> None:
    """The scan above can fail: it sees a code in a literal, an f-string and a docstring, not in a name."""
    src = FIXTURES.parent / "_scan_probe.py"
    try:
        src.write_text('"""Docstring on KOR."""\nx = "local_CHN"\ny = f"{x} JPN"\nPRK_ = 1\nz = "KORYO"\n', "utf-8")
        hits = code_literals(src, {"KOR", "CHN", "JPN", "PRK"})
    finally:
        src.unlink()
    assert [h.split(":")[0] for h in hits] == ["1", "2", "3"]


# The threat components are maximum-likelihood fits (L-BFGS-B): rerun on the same data they can move in the
# third decimal (seen: 0.0009 on one annual value across runs), so numbers are pinned to that, and sentences are
# pinned word for word with their numbers within the same tolerance. (With the search's former looser
# tolerances, another CPU's BLAS kernels moved Japan's local China component, flat in its likelihood, by up to
# 0.018: measured 2026-12-03 on an AMD EPYC machine; converged tightly, both kernels reproduce this pin within
# 0.0005.)
ABS_TOL, REL_TOL = 5e-3, 1e-3
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _same_text(a: str, b: str, where: str) -> None:
    assert NUMBER.split(a) == NUMBER.split(b), f"{where}: {a!r} != {b!r}"
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        if "." not in x:  # years, counts: exact
            assert x == y, f"{where}: {a!r} != {b!r}"
            continue
        step = 10.0 ** -len(x.split(".")[1])  # a rounded figure may round the other way
        assert math.isclose(float(x), float(y), rel_tol=REL_TOL, abs_tol=ABS_TOL + step), f"{where}: {a!r} != {b!r}"


def _close(a, b, where: str) -> None:
    if isinstance(a, str) and isinstance(b, str):
        _same_text(a, b, where)
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{where}: keys differ: {sorted(set(a) ^ set(b))[:5]}"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{where}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL), \
            f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_northeast_asia_results_unchanged_by_the_theater_refactoring(default_store: Path) -> None:
    """The default theater's matrices, components, mediator, posture, hypotheses (verdicts, estimates, periods),
    home front, identity, triangle and report sentences as pinned (tests/fixtures/make_northeast_asia_reference.py):
    first with the code of before the theater refactoring, re-pinned since only by a commit that changes the
    model on purpose and says what moved (370aa79: ICEWS dyads read both ways; no whole-record verdict changed,
    H6 and H24 went from supported and contradicted to inconclusive in 1996-2015)."""
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_northeast_asia_reference as ref
    finally:
        sys.path.remove(str(FIXTURES))
    pinned = FIXTURES / "northeast_asia_reference" / f"{ref.data_digest()}.json"
    assert pinned.exists(), (f"no reference for this default dataset ({pinned.name}): pin one with the code of "
                             "before the refactoring, as the script's docstring says")
    expected = json.loads(pinned.read_text("utf-8"))
    # in a fresh interpreter, as the reference was computed: a process that has run other tests can differ in
    # the last digits of the fits
    code = (f"import json, sys; sys.path.insert(0, {str(FIXTURES)!r}); import make_northeast_asia_reference as r; "
            f"from dualthreat.store import Store; print(json.dumps(r.reference(Store({str(default_store)!r}))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert expected["counts"] == got["counts"]
    assert {k: v["verdict"] for k, v in expected["hypotheses"].items()} == \
        {k: v["verdict"] for k, v in got["hypotheses"].items()}
    _close(expected, got, "reference")


def test_eastern_flank_report_both_allies_over_24_months(default_store: Path, tmp_path: Path) -> None:
    """What `dualthreat run --theater eastern_flank` does, minus the slow parts: fit the second theater on the
    default dataset, test hypotheses of both kinds, write its report; both allies' components are observed in
    at least 24 months, and the report shows them side by side."""
    from dualthreat.evaluate.hypotheses import REGISTRY, evaluate_hypotheses
    from dualthreat.model import DualThreatModel
    from dualthreat.report.build import build_report
    from dualthreat.report.render import render_html
    from dualthreat.store import Store

    st, th = Store(default_store), load_theater("eastern_flank")
    model = DualThreatModel(th).fit(st)
    t = model.threats_[model.threats_.estimate == "filtered"]
    months = t[t.n_obs > 0].groupby(["ally", "level", "source"]).month.nunique()
    assert set(months.index) == set(th.components()) and months.min() >= 24, months
    picked = [h for h in REGISTRY if h.id in ("H2", "H14")]
    rows = {r["id"]: r for r in evaluate_hypotheses(st, model, registry=picked).to_records()}
    assert rows["H2"]["verdict"] == "untestable" and "great_power_ally" in rows["H2"]["evidence"]
    assert rows["H14"]["kind"] == "interval" and rows["H14"]["n"] >= 8  # about both allies: runs on the flank
    report = build_report(st, model, None, None)
    assert report.title == "dualthreat: Poland and Lithuania side by side (NATO eastern flank)"
    latest = {(r["ally"], r["level"]) for r in report.sections[0].tables[0].rows}
    assert latest == {(a, lvl) for a in ("POL", "LTU") for lvl in ("local", "systemic")}
    text = " ".join(p for s in report.sections for p in s.paragraphs)
    assert "Poland" in text and "Lithuania" in text and "Japan" not in text and "North Korea" not in text
    assert "No coded decision episodes of Poland and Lithuania" in text  # a section without its data says so
    out = tmp_path / "report-eastern_flank.html"
    out.write_text(render_html(report), "utf-8")
    assert out.stat().st_size > 10_000 and "Lithuania" in out.read_text("utf-8")


def test_run_and_report_name_their_file_by_theater() -> None:
    from dualthreat.cli.report import report_path

    assert report_path(None, None) == Path("report.html") == report_path(None, "northeast_asia")
    assert report_path(None, "eastern_flank") == Path("report-eastern_flank.html")
    assert report_path(None, "my/baltic.toml") == Path("report-baltic.html")
    assert report_path(Path("x.html"), "eastern_flank") == Path("x.html")
    for command in ("run", "report", "build", "hypotheses", "serve"):
        bad = cli(command, "--theater", "atlantis")
        assert bad.exit_code == 2 and "nosuchtheater" in bad.message, (command, bad.stderr)


def test_the_reference_comparison_can_fail() -> None:
    _close({"s": "In 2020, Japan's threat is +1.16 [-0.40, +2.73]."},
           {"s": "In 2020, Japan's threat is +1.17 [-0.40, +2.73]."}, "ok")  # a rounding flip is noise
    for changed in ("In 2020, Korea's threat is +1.16 [-0.40, +2.73].", "In 2020, Japan's threat is +1.26 [-0.40, +2.73].",
                    "In 2021, Japan's threat is +1.16 [-0.40, +2.73]."):
        with pytest.raises(AssertionError):
            _close({"s": "In 2020, Japan's threat is +1.16 [-0.40, +2.73]."}, {"s": changed}, "changed")
    with pytest.raises(AssertionError):
        _close({"x": 0.2084}, {"x": 0.2184}, "number")
