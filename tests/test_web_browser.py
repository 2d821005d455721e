"""The dashboard in a real browser: ``dualthreat serve`` runs as its own uvicorn process on a free port of
127.0.0.1 and headless Chromium (Debian's package, driven by Playwright, as in tests/test_report.py) opens every
page: each renders, each chart draws marks, the console stays clean, no request leaves 127.0.0.1, hostile text
does not run, the API documentation renders offline, and a scenario submitted through the form shows its result
(once the scenario layer is there; until then the page says it is not)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ENV_VARS, dualthreat_command
from test_report import ARTIFACTS, CHROMIUM, _browser_or_skip
from web_support import make_web_store, free_port


PAGES = ["/", "/?at=2013-06&smoothed=true", "/component/JPN/local/CHN", "/component/KOR/local/PRK?at=2010-03",
         "/indicator/jasdf_scrambles_chn", "/posture", "/triangle", "/hypotheses", "/episodes", "/sources"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
START_TIMEOUT = 900  # seconds: the fit at start-up (about 20 s on a free machine), and the episode forecasts


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture(scope="module")
def server(default_base, tmp_path_factory):
    """``dualthreat serve`` on a free port, until it answers and its episode forecasts are ready."""
    _browser_or_skip()
    folder = tmp_path_factory.mktemp("serve")
    store = make_web_store(default_base.path, folder / "web.duckdb")
    port = free_port()
    log = (folder / "server.log").open("w")
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.getbasetemp() / "xdg-cache")
    proc = subprocess.Popen([*dualthreat_command(), "serve", "--store", str(store), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dualthreat serve exited ({proc.returncode}):\n{(folder / 'server.log').read_text()}")
            try:
                code, status = _get(base + "/api/status")
                if code == 200 and status["episodes"] in ("ready", "failed"):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dualthreat serve did not get ready in {START_TIMEOUT} s")
            time.sleep(1)
        assert status["episodes"] == "ready", (folder / "server.log").read_text()
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    text = (folder / "server.log").read_text()
    assert "Traceback" not in text, text


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page with its console errors, page errors, requests and dialogs recorded."""

    def __init__(self, browser, base: str) -> None:
        self.base = base
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.errors, self.requests, self.dialogs = [], [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, path: str) -> int:
        response = self.page.goto(self.base + path)
        return response.status

    def charts_drawn(self) -> int:
        n = self.page.locator(".vega-chart").count()
        if n:
            self.page.wait_for_function("document.body.dataset.chartsRendered !== undefined", timeout=120_000)
            assert self.page.evaluate("document.body.dataset.chartsFailed") == "0"
            assert int(self.page.evaluate("document.body.dataset.chartsRendered")) == n
            for i in range(n):
                chart = self.page.locator(".vega-chart").nth(i)
                marks = chart.locator("svg .mark-line, svg .mark-area, svg .mark-symbol, svg .mark-rule, "
                                      "svg .mark-rect")
                assert marks.count() > 0, chart.get_attribute("data-chart")
        return n

    def foreign_requests(self) -> list[str]:
        local = self.base + "/"
        return [u for u in self.requests if not u.startswith((local, "data:", "blob:", "about:"))]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_its_charts(server, browser, path):
    w = Watched(browser, server)
    assert w.open(path) == 200
    assert w.page.locator("main section h2").first.is_visible()
    w.charts_drawn()
    assert w.page.evaluate("window.__pwned === undefined") and not w.dialogs
    assert not w.errors, w.errors
    assert not w.foreign_requests(), w.foreign_requests()
    w.page.close()


def test_the_overview_shows_both_matrices_and_links_each_cell(server, browser):
    w = Watched(browser, server)
    w.open("/")
    assert w.charts_drawn() >= 1
    assert w.page.locator("table.matrix").count() == 2
    assert w.page.locator("table.matrix td.cell a").count() == 8
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=False)
    w.page.locator("table.matrix td.cell a").first.click()
    w.page.wait_for_url("**/component/**")
    assert w.charts_drawn() == 2  # the series and the contributions
    assert w.page.locator("table.contributions tbody tr").count() >= 1
    w.page.screenshot(path=str(ARTIFACTS / "dashboard-component.png"), full_page=False)
    assert not w.errors and not w.foreign_requests()
    w.page.close()


def test_hostile_text_shows_as_text_and_does_not_run(server, browser):
    w = Watched(browser, server)
    for path in ("/episodes", "/indicator/jasdf_scrambles_chn"):
        w.open(path)
        w.charts_drawn()
        assert w.page.get_by_text("window.__pwned = 1", exact=False).count() >= 1
        assert w.page.locator('a[href^="javascript:"]').count() == 0
    assert w.page.evaluate("window.__pwned === undefined") and not w.dialogs
    assert not w.errors, w.errors
    w.page.close()


def test_the_api_documentation_renders_offline(server, browser):
    w = Watched(browser, server)
    assert w.open("/docs") == 200
    w.page.wait_for_selector(".opblock", timeout=60_000)
    assert w.page.locator(".opblock").count() >= 7
    assert w.page.get_by_text("/api/threats").count() >= 1
    assert not w.errors, w.errors
    assert not w.foreign_requests(), w.foreign_requests()
    w.page.close()


def test_a_bad_parameter_shows_its_message(server, browser):
    w = Watched(browser, server)
    assert w.open("/component/JPN/global/CHN") == 400
    assert w.page.get_by_text("level: 'global' is not a level").count() == 1
    assert all("400" in e for e in w.errors), w.errors  # only Chromium's note of the status
    w.page.close()


def test_a_scenario_submitted_through_the_form_shows_its_result(server, browser):
    w = Watched(browser, server)
    assert w.open("/scenarios") == 200
    form = w.page.locator("#packaged-form")
    form.locator("select[name=packaged]").select_option(index=0)
    form.locator("button[type=submit]").click()
    w.page.wait_for_selector("#scenario-result", timeout=300_000)
    assert w.charts_drawn() >= 1
    for ally in ("JPN", "KOR"):
        assert w.page.locator(f'.ally-result[data-ally="{ally}"] table.scenario-threats tbody tr').count() >= 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "dashboard-scenario.png"), full_page=True)
    assert not w.errors, w.errors
    assert not w.foreign_requests()
    w.page.close()


def test_the_server_listens_only_on_the_loopback(server):
    """The listening socket of the port is bound to 127.0.0.1 (read from the kernel's table, no traffic sent)."""
    tcp = Path("/proc/net/tcp")
    if not tcp.exists():
        pytest.skip("no /proc/net/tcp on this system")
    port = int(server.rsplit(":", 1)[1])
    listening = [line.split()[1] for line in tcp.read_text().splitlines()[1:]
                 if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port]
    assert listening == [f"0100007F:{port:04X}"], listening
