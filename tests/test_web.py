"""The dashboard in-process (FastAPI's test client over the app on a real store): every page and API route
answers from the fitted model, bad parameters get a 4xx naming them, nothing gets a 500 or a traceback
(parameters fuzzed against the OpenAPI spec with schemathesis, paths with Hypothesis), free text is escaped,
no path reaches a file outside the app."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualthreat.store import Store
from dualthreat.web import service as service_module
from dualthreat.web.app import create_app
from dualthreat.web.service import Dashboard

from web_support import HOSTILE, HOSTILE_EPISODE, HOSTILE_URL, make_web_store

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

PAGES = {"/": "threat matrices", "/component/JPN/local/CHN": "What fed it", "/component/KOR/local/PRK?at=2010-03":
         "What fed it in 2010-03", "/indicator/jasdf_scrambles_chn": "Where its rows come from",
         "/posture": "Between the patron and China", "/triangle": "Cha", "/hypotheses": "hypotheses against",
         "/episodes": "Decisions forecast out of time", "/sources": "The store and its sources"}


@pytest.fixture(scope="module")
def dashboard(default_base, tmp_path_factory) -> Dashboard:
    path = make_web_store(default_base.path, tmp_path_factory.mktemp("web") / "web.duckdb")
    d = Dashboard(Store(path)).load()
    assert d.episodes_job.done.wait(600), "the episode forecasts did not finish"
    return d


@pytest.fixture(scope="module")
def client(dashboard, tmp_path_factory):
    from fastapi.testclient import TestClient

    # the Vega bundle is kept in the session's cache folder (conftest: $DUALTHREAT_CACHE_DIR)
    with TestClient(create_app(dashboard), base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        yield c


def _no_traceback(r) -> None:
    assert "Traceback" not in r.text and 'File "' not in r.text


# ---------------------------------------------------------------------------------------------------------
# pages and API answer from the model


@pytest.mark.parametrize("url", list(PAGES))
def test_every_page_renders(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert PAGES[url] in r.text
    # no script, style or image from elsewhere; charts drawn by the bundle this server serves
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.sub(r'<a [^>]*class="ext"[^>]*>', "", r.text))
    if 'class="vega-chart"' in r.text:
        assert '<script type="module" src="/static/vega.js">' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_matrix_is_the_models(client, dashboard):
    m = client.get("/api/matrix", params={"at": "2013-06"}).json()
    assert m["month"] == "2013-06" and len(m["cells"]) == 8
    t = dashboard.model_.threats_
    for c in m["cells"]:
        row = t[(t.estimate == "filtered") & (t.ally == c["ally"]) & (t.level == c["level"])
                & (t.source == c["source"]) & (t.month == "2013-06")].iloc[0]
        assert c["mean"] == pytest.approx(row["mean"]) and c["lower"] < c["mean"] < c["upper"]
    page = client.get("/", params={"at": "2013-06"}).text
    first = m["cells"][0]
    assert f'{first["mean"]:+.2f}' in page
    assert 'href="/component/JPN/local/CHN?at=2013-06"' in page


def test_threats_filters(client):
    rows = client.get("/api/threats", params={"ally": "KOR", "from": "2010-01", "to": "2010-12"}).json()
    assert len(rows) == 4 * 12
    assert {r["ally"] for r in rows} == {"KOR"} and {r["estimate"] for r in rows} == {"filtered"}
    assert min(r["month"] for r in rows) == "2010-01" and max(r["month"] for r in rows) == "2010-12"
    smooth = client.get("/api/threats", params={"ally": "KOR", "from": "2010-01", "to": "2010-12",
                                                "smoothed": "true"}).json()
    assert {r["estimate"] for r in smooth} == {"smoothed"}
    assert any(a["mean"] != b["mean"] for a, b in zip(rows, smooth))
    assert all(r["lower"] <= r["mean"] <= r["upper"] for r in rows + smooth)


@pytest.mark.parametrize("params", [{}, {"ally": "JPN"}, {"ally": "KOR", "from": "2010-01", "to": "2015-12"},
                                    {"smoothed": "true", "to": "1999-06"}, {"level": "local", "source": "CHN"},
                                    {"ally": "JPN", "level": "systemic", "source": "PRK", "from": "2020-01",
                                     "smoothed": "true"}, {"from": "2999-01"}])
def test_threats_answer_what_the_model_holds(client, dashboard, params):
    """The rows written once at start-up and filtered per request are the model's own selection, in its order,
    written as JSONResponse writes them."""
    from starlette.responses import JSONResponse

    smoothed = params.get("smoothed") == "true"
    t = dashboard.model_.threats(ally=params.get("ally"), start=params.get("from"), end=params.get("to"),
                                 smoothed=smoothed)
    for col in ("level", "source"):
        if col in params:
            t = t[t[col] == params[col]]
    expected = service_module.records(t, list(Dashboard.THREAT_COLUMNS))
    r = client.get("/api/threats", params=params)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.content == JSONResponse(expected).body
    assert dashboard.threats(params.get("ally"), params.get("from"), params.get("to"), smoothed,
                             params.get("level"), params.get("source")) == expected
    assert (len(expected) == 0) == (params == {"from": "2999-01"})


def test_explain_adds_up_and_names_sources(client):
    e = client.get("/api/explain", params={"ally": "JPN", "level": "local", "source": "CHN", "at": "2013-06"}).json()
    assert e["contributions"], e
    assert sum(c["contribution"] for c in e["contributions"]) == pytest.approx(e["value"]["mean"], abs=1e-6)
    scrambles = next(c for c in e["contributions"] if c["indicator"] == "jasdf_scrambles_chn")
    assert scrambles["table"] == "indicators" and scrambles["sources"]
    assert any(g["source_url"] and g["source_url"].startswith("http") for g in scrambles["sources"])
    page = client.get("/component/JPN/local/CHN", params={"at": "2013-06"}).text
    assert 'href="/indicator/jasdf_scrambles_chn"' in page and f'{scrambles["contribution"]:+.3f}' in page


def test_every_figure_of_an_indicator_links_to_its_source(client, dashboard):
    ind = client.get("/api/indicators/jasdf_scrambles_chn").json()
    stored = Store(dashboard.store.path).query(
        "SELECT count(*) AS n FROM indicators WHERE series = 'jasdf_scrambles' AND actor = 'CHN' "
        "AND target = 'JPN' AND unit = 'count'").to_pandas()["n"].iloc[0]
    assert len(ind["rows"]) == stored
    page = client.get("/indicator/jasdf_scrambles_chn").text
    for r in ind["rows"]:
        if r["source_url"].startswith("http"):
            assert f'href="{r["source_url"]}"' in page.replace("&amp;", "&")


def test_posture_hypotheses_episodes(client, dashboard):
    p = client.get("/api/posture", params={"ally": "KOR", "measure": "vote_kappa"}).json()
    assert p and {r["ally"] for r in p} == {"KOR"} and {r["subset"] for r in p} == {"all"}
    h = client.get("/api/hypotheses").json()
    assert [x["id"] for x in h] == [x["id"] for x in dashboard.hypotheses_]
    assert all(x["verdict"] in ("supported", "contradicted", "inconclusive", "untestable", "error") for x in h)
    supported = client.get("/api/hypotheses", params={"verdict": "inconclusive"}).json()
    assert supported and all(x["verdict"] == "inconclusive" for x in supported)
    ev = client.get("/api/episodes").json()
    assert ev["n"] == len(ev["episodes"]) > 0
    for e in ev["episodes"]:
        assert math.isclose(sum(e["predicted"].values()), 1.0, abs_tol=1e-3)
        assert e["p_observed"] == e["predicted"][e["observed"]]


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/threats", "/api/matrix", "/api/explain", "/api/posture", "/api/hypotheses",
                 "/api/episodes", "/api/scenario"):
        assert path in spec["paths"], path
    params = {p["name"] for p in spec["paths"]["/api/threats"]["get"]["parameters"]}
    assert {"ally", "from", "to", "smoothed"} <= params
    assert "post" in spec["paths"]["/api/scenario"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/docs/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200


def test_the_vega_bundle_is_served_by_the_app(client):
    r = client.get("/static/vega.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert b"window.vegaEmbed" in r.content


# ---------------------------------------------------------------------------------------------------------
# bad input


BAD = [
    ("/api/threats?ally=XXX", 400, "ally: 'XXX' is not an ally"),
    ("/api/threats?ally=jp", 422, "ally"),
    ("/api/threats?from=2010-13", 422, "from"),
    ("/api/threats?from=2012-01&to=2011-01", 400, "from: 2012-01 is after to=2011-01"),
    ("/api/threats?smoothed=perhaps", 422, "smoothed"),
    ("/api/threats?level=global", 400, "level: 'global' is not a level"),
    ("/api/matrix?at=1800-01", 400, "at: 1800-01 is outside the months estimated"),
    ("/api/explain?ally=JPN&level=local", 422, "source: Field required"),
    ("/api/explain?ally=JPN&level=local&source=RUS", 400, "source: 'RUS' is not a threat source"),
    ("/api/explain?ally=JPN&level=local&source=CHN&at=2999-01", 400, "outside the months estimated"),
    ("/api/posture?measure=bogus", 400, "measure: 'bogus' is not a posture measure"),
    ("/api/posture?subset=issue:zz", 400, "subset: 'issue:zz' is not a roll-call subset"),
    ("/api/hypotheses?verdict=proven", 400, "verdict: 'proven'"),
    ("/api/indicators/nope", 400, "indicator: 'nope' is not an indicator"),
    ("/api/nope", 404, "no such page"),
    ("/component/JPN/global/CHN", 400, "level: 'global' is not a level"),
    ("/component/USA/local/CHN", 400, "ally: 'USA' is not an ally"),
    ("/?at=13-2010", 400, "at: '13-2010' is not a month"),
    ("/?smoothed=maybe", 400, "smoothed: 'maybe'"),
    ("/indicator/%3Cscript%3E", 400, "is not an indicator"),
]


@pytest.mark.parametrize("url,status,message", BAD)
def test_bad_parameters_get_a_4xx_with_a_message(client, url, status, message):
    r = client.get(url)
    assert r.status_code == status, r.text[:300]
    text = r.json()["error"] if url.startswith("/api") else r.text
    assert message.replace("'", "&#39;") in text or message in text, text[:300]
    assert "<script>" not in r.text
    _no_traceback(r)


@pytest.mark.parametrize("path", ["/static/../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
                                  "/static/..%2f..%2fpyproject.toml", "/static//etc/passwd",
                                  "/static/docs/../../../../etc/passwd", "/static/%2fetc%2fpasswd",
                                  "/static/....//....//etc/passwd", "/../../etc/passwd",
                                  "/indicator/..%2f..%2fetc%2fpasswd"])
def test_no_path_reaches_files_outside_the_app(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "root:" not in r.text and "[build-system]" not in r.text


def test_a_request_for_another_host_is_refused(client):
    r = client.get("/api/status", headers={"host": "attacker.example"})
    assert r.status_code == 400


def test_free_text_from_the_data_is_escaped(client):
    for url in ("/episodes", "/indicator/jasdf_scrambles_chn"):
        html = client.get(url).text
        assert HOSTILE not in html
        assert "&lt;script&gt;window.__pwned = 1" in html
        assert f'href="{HOSTILE_URL}"' not in html and 'href="javascript:' not in html
    ev = client.get("/api/episodes").json()
    assert any(e["id"] == HOSTILE_EPISODE and e["decision"] == HOSTILE for e in ev["episodes"])


def test_an_unexpected_error_is_a_503_with_a_message_not_a_traceback(client, dashboard, monkeypatch, caplog):
    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dashboard, "threats_json", boom)  # what /api/threats answers from
    monkeypatch.setattr(dashboard, "hypotheses", boom)
    r = client.get("/api/threats")
    assert r.status_code == 503 and "could not answer" in r.json()["error"]
    _no_traceback(r)
    assert "disk on fire" not in r.text
    from dualthreat.web.pages import PageCache

    client.app.state.pages = PageCache()  # an empty page cache: the page is rendered again
    page = client.get("/hypotheses")
    assert page.status_code == 503 and "could not answer" in page.text
    _no_traceback(page)
    assert any("disk on fire" in (rec.exc_text or "") or "disk on fire" in str(rec.exc_info) for rec in caplog.records)


def test_episodes_answer_503_with_retry_after_while_computing(dashboard):
    from fastapi.testclient import TestClient

    d = Dashboard(dashboard.store)
    d.__dict__.update({k: v for k, v in dashboard.__dict__.items() if k.endswith("_") and k != "episodes_job"})
    d.episodes_job.started = 1.0  # started, not done
    with TestClient(create_app(d), base_url="http://127.0.0.1") as c:
        r = c.get("/api/episodes")
        assert r.status_code == 503 and "still being computed" in r.json()["error"]
        assert int(r.headers["retry-after"]) > 0
        page = c.get("/episodes")
        assert page.status_code == 503 and "still being computed" in page.text


# ---------------------------------------------------------------------------------------------------------
# scenarios


@pytest.mark.parametrize("body,message", [
    ({"shocks": [{"indicator": "x", "kind": "explode", "value": 1}]}, "kind"),
    ({"horizon": 0}, "horizon"),
    ({"start": "2026-13"}, "start"),
    ({"shocks": [{"indicator": "jasdf_scrambles_chn", "kind": "add", "value": "NaN"}]}, "value"),
    ({"unknown": 1}, "unknown"),
])
def test_a_malformed_scenario_request_is_a_422(client, body, message):
    r = client.post("/api/scenario", json=body)
    assert r.status_code == 422 and message in r.json()["error"], r.text


def test_an_unknown_query_parameter_is_refused_not_ignored(client):
    """`month` is not a parameter of /api/explain (`at` is): ignored, the answer would be for another month."""
    r = client.get("/api/explain", params={"ally": "KOR", "level": "local", "source": "PRK", "month": "2013-02"})
    assert r.status_code == 400
    assert r.json()["error"].startswith("month: not a parameter of /api/explain (it takes: ")
    assert "at" in r.json()["error"].split("takes: ")[1] and r.json()["detail"] == {"parameter": "month"}
    page = client.get("/component/KOR/local/PRK", params={"mnth": "2013-02"})
    assert page.status_code == 400 and "mnth: not a parameter of /component/KOR/local/PRK" in page.text
    ok = client.get("/api/explain", params={"ally": "KOR", "level": "local", "source": "PRK", "at": "2013-02"})
    assert ok.status_code == 200 and ok.json()["month"] == "2013-02"


def test_a_composed_scenario_is_checked_before_it_runs(dashboard):
    for kwargs, message in [({"start": None, "horizon": 12, "shocks": []}, "start: required"),
                            ({"start": "2026-01", "horizon": 12, "shocks": []}, "shocks: at least one"),
                            ({"start": "2026-01", "horizon": 12,
                              "shocks": [{"indicator": "nope", "kind": "add", "value": 1, "month": "2026-01"}]},
                             "shocks[0].indicator: 'nope'"),
                            ({"start": "2026-01", "horizon": 12,
                              "shocks": [{"indicator": "jasdf_scrambles_chn", "kind": "add", "value": 1}]},
                             "shocks[0].month: a month")]:
        with pytest.raises(service_module.BadParameter, match=re.escape(message)):
            dashboard.run_scenario(**kwargs)


def test_a_composed_scenario_becomes_a_scenario_file_that_cannot_be_injected():
    import tomllib

    text = service_module.scenario_toml('x"\n[evil]\nkey = 1', "2026-05", 12, [
        {"indicator": "dprk_nuclear_tests", "kind": "add_sd", "value": 3.0, "month": "2026-05"}])
    data = tomllib.loads(text)
    assert set(data) == {"name", "start", "horizon", "shock"}
    assert data["name"] == 'x"\n[evil]\nkey = 1'
    assert data["shock"] == [{"indicator": "dprk_nuclear_tests", "month": "2026-05", "add_sd": 3.0}]


def test_a_packaged_scenario_runs_through_the_api_and_the_form(client):
    packaged = client.get("/api/scenarios").json()
    assert packaged
    r = client.post("/api/scenario", json={"packaged": packaged[0]["name"]})
    assert r.status_code == 200, r.text[:300]
    result = r.json()
    assert result["threats"] and {"baseline_mean", "scenario_mean", "difference", "lower", "upper"} <= set(
        result["threats"][0])
    page = client.post("/scenarios", data={"packaged": packaged[0]["name"]})
    assert page.status_code == 200 and 'id="scenario-result"' in page.text


# ---------------------------------------------------------------------------------------------------------
# fuzzing: no parameter, path or body makes the server fail


OPERATIONS = ["GET /api/status", "GET /api/threats", "GET /api/matrix", "GET /api/explain", "GET /api/indicators",
              "GET /api/indicators/{indicator_id}", "GET /api/mediator", "GET /api/posture", "GET /api/triangle",
              "GET /api/home-front", "GET /api/hypotheses", "GET /api/episodes", "GET /api/sources",
              "GET /api/scenarios", "POST /api/scenario"]


@pytest.fixture(scope="module")
def api_schema(dashboard):
    from dualthreat.web.app import LOCAL_HOSTS

    # schemathesis calls the app as "testserver"
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(dashboard, [*LOCAL_HOSTS, "testserver"]))


def test_every_api_operation_is_fuzzed(api_schema):
    labels = {r.ok().label for r in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


WITHOUT_PARAMETERS = {"GET /api/status", "GET /api/triangle", "GET /api/episodes", "GET /api/sources",
                      "GET /api/scenarios"}  # nothing to make invalid


@pytest.mark.parametrize("label,mode", [(op, mode) for op in OPERATIONS for mode in ("positive", "negative")
                                        if mode == "positive" or op not in WITHOUT_PARAMETERS])
def test_api_fuzzed_against_its_openapi_spec(api_schema, label, mode):
    """Cases generated from the OpenAPI spec, valid ones and invalid ones: never a 5xx but the 503 of something
    not available, always a message with an error, never a traceback."""
    op = api_schema.find_operation_by_label(label)

    @given(case=op.as_strategy(schemathesis.GenerationMode(mode)))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        response = case.call()
        assert response.status_code < 500 or response.status_code == 503, (case.path, case.query, response.text)
        if response.status_code >= 400:
            assert response.json()["error"], response.text
        assert "Traceback" not in response.text

    check()


@given(path=st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
                             max_size=12),
                     min_size=1, max_size=4),
       params=st.dictionaries(st.sampled_from(["at", "smoothed", "ally", "from", "to", "x"]),
                              st.text(max_size=12), max_size=3))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_pages_fuzzed(client, path, params):
    from urllib.parse import quote

    prefix = ["", "component", "indicator", "static", "api"][len(path[0]) % 5]
    url = "/" + "/".join(quote(p, safe="") for p in ([prefix] if prefix else []) + path)
    r = client.get(url, params=params)
    assert r.status_code < 500 or r.status_code == 503, (url, params, r.status_code)
    assert "Traceback" not in r.text and "<script>alert" not in r.text


# ---------------------------------------------------------------------------------------------------------
# the command


def test_serve_warns_off_the_loopback_and_hands_uvicorn_the_app(default_store, monkeypatch):
    import uvicorn

    from conftest import cli

    calls = {}
    monkeypatch.setattr(Dashboard, "load", lambda self, say=None: self)
    monkeypatch.setattr("dualthreat.web.bundle.vega_bundle", lambda: b"")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(kw, app=app))
    run = cli("serve", "--store", default_store, "--host", "0.0.0.0", "--port", "8123")
    assert run.exit_code == 0, run.stderr
    assert "warning: listening on 0.0.0.0" in run.stderr
    assert calls["host"] == "0.0.0.0" and calls["port"] == 8123
    run = cli("serve", "--store", default_store)
    assert run.exit_code == 0 and "warning" not in run.stderr and calls["host"] == "127.0.0.1"
    assert "http://127.0.0.1:8000/" in run.stderr


def test_serve_refuses_a_missing_store_and_an_unknown_theater(tmp_path, default_store):
    from conftest import cli

    run = cli("serve", "--store", tmp_path / "none.duckdb")
    assert run.exit_code == 1 and "no store at" in run.stderr
    run = cli("serve", "--store", default_store, "--theater", "atlantis")
    assert run.exit_code == 2 and "atlantis:nosuchtheater;packagedtheaters:" in run.message
