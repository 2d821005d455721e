"""The comparative report, opened in headless Chromium (Debian's package, driven by Playwright): every section
shows, every chart renders, the console is clean, no request leaves the file, and free text is escaped."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from dualthreat.evaluate.hypotheses import evaluate_hypotheses
from dualthreat.model import DualThreatModel
from dualthreat.report.build import build_report
from dualthreat.report.render import render_html, render_markdown
from dualthreat.store import Store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / ".ci" / "output"
HOSTILE = '<script>window.__pwned = 1; alert("x")</script><img src=x onerror="window.__pwned=2">'
SECTIONS = ["threats", "alliance", "domestic", "triangle", "identity", "scenarios", "hypotheses", "sources",
            "methods"]


def _browser_or_skip() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed: .ci/run must install it")
        pytest.skip("chromium not installed (apt-get install chromium); CI installs it")


@pytest.fixture(scope="module")
def report_path(tmp_path_factory, default_base) -> Path:
    """A report of the default dataset, with one episode whose text is hostile HTML."""
    d = tmp_path_factory.mktemp("report")
    path = default_base.copy(d / "store.duckdb")
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO episodes (episode_id, date, date_precision, actor, counterpart, domain, decision, "
                "outcome, direction, dataset) VALUES ('X999', DATE '2015-06-01', 'day', 'KOR', 'USA', "
                "'alliance_scope', ?, 'test', 'toward_us', 'test')", [HOSTILE])
    con.close()
    st = Store(path)
    model = DualThreatModel().fit(st)
    report = build_report(st, model, evaluate_hypotheses(st, model), None)
    out = d / "report.html"
    out.write_text(render_html(report), "utf-8")
    return out


def test_the_report_is_self_contained(report_path):
    html = report_path.read_text("utf-8")
    import re

    # nothing is loaded from elsewhere: no external scripts, styles, images or fonts (URLs shown as text are fine)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link " not in html and not re.search(r"url\(\s*['\"]?https?:", html)
    assert HOSTILE not in html  # escaped
    assert "&lt;script&gt;window.__pwned" in html


def test_report_in_headless_chromium(report_path):
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    errors, requests, dialogs = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(report_path.as_uri())
        page.wait_for_function("document.body.dataset.chartsRendered !== undefined", timeout=90_000)
        n_charts = page.locator(".vega-chart").count()
        assert n_charts >= 5
        assert page.evaluate("document.body.dataset.chartsFailed") == "0"
        assert int(page.evaluate("document.body.dataset.chartsRendered")) == n_charts
        # every chart drew marks
        for i in range(n_charts):
            chart = page.locator(".vega-chart").nth(i)
            assert chart.locator("svg .mark-line, svg .mark-area, svg .mark-symbol, svg .mark-rule").count() > 0, \
                chart.get_attribute("data-chart")
        for section in SECTIONS:
            assert page.locator(f"section#{section} h2").is_visible(), section
        # the hostile episode text shows as text and did not run
        assert page.evaluate("window.__pwned === undefined")
        assert not dialogs
        assert page.get_by_text("window.__pwned = 1", exact=False).count() >= 1
        # the milestone chart: one rule per dated event the store holds on the components they feed
        from dualthreat.measure.milestones import dated_events
        from dualthreat.theater import load_theater

        n_events = len(dated_events(Store(report_path.parent / "store.duckdb"), load_theater()))
        milestones = page.locator('.vega-chart[data-chart="milestones"]')
        rules = milestones.locator("svg .mark-rule.role-mark line")
        inputs = milestones.locator('svg .mark-rule.role-mark line[stroke="#d9822b"]')  # a main input starts/ends
        assert milestones.count() == 1 and rules.count() - inputs.count() == n_events > 30 and inputs.count() >= 4
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
        page.locator("section#threats").screenshot(path=str(ARTIFACTS / "report-threats.png"))
        assert page.locator("section#scenarios .vega-chart svg").count() >= 5  # one chart per packaged scenario
        page.locator("section#scenarios").screenshot(path=str(ARTIFACTS / "report-scenarios.png"))
        browser.close()
    assert not errors, errors
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), \
        [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]


def test_markdown_report_with_svg_charts(report_path, tmp_path):
    st = Store(report_path.parent / "store.duckdb")
    report = build_report(st, DualThreatModel().fit(st), None, None)
    files = render_markdown(report, tmp_path / "report.md")
    md = files[0].read_text("utf-8")
    assert md.startswith("# dualthreat")
    svgs = [f for f in files if f.suffix == ".svg"]
    assert len(svgs) >= 5 and all(f.read_text("utf-8").lstrip().startswith("<svg") for f in svgs)
    for f in svgs:
        assert f"report_files/{f.name}" in md


def test_the_milestones_are_the_stored_dated_events_on_their_components(default_base):
    """The six nuclear tests mark both allies' local North Korea component, the Cheonan sinking and the
    Yeonpyeong shelling Korea's, each with the URL it was read from; a theater with no dated-event indicator
    gets none (and its report no milestone chart)."""
    from dualthreat.measure.milestones import dated_events
    from dualthreat.theater import load_theater

    st = Store(default_base.path)
    e = dated_events(st, load_theater())
    tests = ["2006-10-09", "2009-05-25", "2013-02-12", "2016-01-06", "2016-09-09", "2017-09-03"]
    for ally in ("JPN", "KOR"):
        mine = e[(e.ally == ally) & (e.level == "local") & (e.source == "PRK")]
        assert mine[mine.series == "dprk_nuclear_test"].date.tolist() == tests
    kor = e[(e.ally == "KOR") & (e.series == "dprk_provocation_rok")]
    assert {"2010-03-26", "2010-11-23"} <= set(kor.date)
    assert e.source_url.str.startswith("http").all() and not e.duplicated(["ally", "level", "source", "series",
                                                                            "date"]).any()
    assert dated_events(st, load_theater("eastern_flank")).empty


def test_the_summary_names_each_allys_driver_and_where_it_stands_in_its_own_record(default_base):
    """The summary does not repeat the threat section: for each ally it gives the threat the paper says drives
    its alliance policy (Japan: local China; South Korea: the mediator) and the share of its earlier months
    below the latest value, which is recomputed here from the model's own table."""
    import re

    from dualthreat.report.build import summary_paragraphs, threat_section

    model = DualThreatModel(with_posture=False).fit(Store(default_base.path))
    summary = summary_paragraphs(model)
    threats, latest = threat_section(model)
    assert len(summary) == 2 and not set(summary) & set(threats.paragraphs)
    assert summary[0].startswith("Japan: the paper's driver of its alliance policy, the local threat from China")
    assert summary[1].startswith("South Korea: the paper's driver of its alliance policy, the North Korean threat")
    month = latest.month.iloc[0]
    t = model.threats_
    jpn = t[(t.estimate == "filtered") & (t.coverage == "data") & (t.ally == "JPN") & (t.level == "local")
            & (t.source == "CHN")]
    now = float(jpn.loc[jpn.month == month, "mean"].iloc[0])
    earlier = jpn.loc[jpn.month < month, "mean"]
    share = f"{(earlier < now).mean():.0%}"
    assert f"{now:+.2f}" in summary[0] and month in summary[0]
    assert (f"above {share} of its months since {jpn.month.min()}" in summary[0]
            or (share == "100%" and f"its highest since {jpn.month.min()}" in summary[0])), summary[0]
    assert re.search(r"\(filtered, 90% band\)", summary[1])


def test_the_vega_bundle_is_built_in_a_child_process_and_kept(tmp_path):
    """The bundle the report inlines is vl-convert's, built outside this process (its V8 engine stays out of
    the main job's memory), kept in the cache folder with its SHA-256, and rebuilt if the file is damaged."""
    import subprocess
    import sys

    env = {**os.environ, "DUALTHREAT_CACHE_DIR": str(tmp_path)}
    code = ("import sys; from dualthreat.report.render import vega_bundle; b = vega_bundle(); "
            "print(len(b), 'vl_convert' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    size, imported = first.stdout.split()
    assert int(size) > 100_000 and imported == "False"
    [js] = tmp_path.glob("vega-embed-vl*.js")
    import vl_convert

    from dualthreat.report.render import VEGA_LITE_VERSION

    assert js.read_text("utf-8") == vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    js.write_text("damaged", "utf-8")
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert again.stdout.split()[0] == size and js.read_text("utf-8") != "damaged"
