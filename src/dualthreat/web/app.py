"""The dashboard's application: ``create_app(dashboard)`` returns a FastAPI app serving the pages
(:mod:`dualthreat.web.pages`), the JSON API (:mod:`dualthreat.web.api`, documented at ``/docs``), the
stylesheet, the charts' script and the Vega-Lite bundle, all from the app itself.

Errors: a bad parameter is answered 400 (422 when the request does not match the API's schema) with a
message, something not there yet 503 with a message (and ``Retry-After`` when it will be), and any other
exception is logged and answered 503 with a message, never a 500 or a traceback. Pages get an HTML page,
``/api`` a JSON object ``{"error": ..., "detail": ...}``. Every response carries a Content-Security-Policy
that lets the page load nothing but this server; requests naming another host are refused (DNS rebinding).
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from dualthreat import __version__
from dualthreat.web.bundle import vega_bundle
from dualthreat.web.service import BadParameter, Dashboard, Unavailable

log = logging.getLogger("dualthreat.web")

LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
# 'unsafe-eval': Vega compiles its expressions with the Function constructor; styles: vega-embed's own
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY")]


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/openapi.json"


def error_response(request: Request, status: int, message: str, detail: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The one shape of every error: JSON under /api, an HTML page elsewhere (the message escaped)."""
    if _wants_json(request):
        return JSONResponse({"error": message, "detail": detail}, status_code=status, headers=headers)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html.j2", {"status": status, "message": message,
                                                                 "page": None, "charts": []}, status_code=status, headers=headers)


class Guard:
    """ASGI middleware: security headers on every response; an exception that escaped every handler is
    logged and answered 503 with a message (a response already started is ended as it is)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        docs = scope.get("path") in ("/docs", "/redoc")

        async def send_with_headers(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                headers.append((b"content-security-policy", (DOCS_CSP if docs else CSP).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:  # noqa: BLE001 - the point: no request ever gets a 500 or a traceback
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                return
            message = "the server could not answer this request (the error is in the server's log)"
            if scope.get("path", "").startswith("/api"):
                response: Response = JSONResponse({"error": message, "detail": None}, status_code=503)
            else:
                response = HTMLResponse(f"<!DOCTYPE html><title>503</title><h1>503</h1><p>{message}</p>",
                                        status_code=503)
            await response(scope, receive, send_with_headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
        value = e.get("input")
        shown = "" if value is None or isinstance(value, (dict, list)) else f" (got {str(value)[:80]!r})"
        parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}{shown}")
    return "; ".join(parts) or "invalid request"


def create_app(dashboard: Dashboard, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The dashboard app over a loaded :class:`Dashboard`."""
    from dualthreat.web import api, pages

    app = FastAPI(
        title="dualthreat dashboard API", version=__version__, docs_url=None, redoc_url=None,
        description="The dual threat framework of Japanese and South Korean alliance thinking, fitted once at "
                    "start-up and answered from memory: threat components with 90% bands, what fed them, "
                    "posture, hypotheses, out-of-time episode forecasts and scenarios. Months are YYYY-MM. "
                    "Bad parameters are answered 400 or 422 with a message; results still being computed, "
                    "503 with a message and Retry-After.",
    )
    app.state.dashboard = dashboard
    app.state.templates = pages.templates()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOCAL_HOSTS)
    app.add_middleware(Guard)

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, exc: BadParameter) -> Response:
        return error_response(request, 400, str(exc), {"parameter": exc.name})

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return error_response(request, 503, str(exc), None, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, _validation_message(exc),
                              json.loads(json.dumps(exc.errors(), default=str)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "no such page or resource", 405: "method not allowed here"}.get(exc.status_code,
                                                                                      str(exc.detail))
        return error_response(request, exc.status_code, message, None, getattr(exc, "headers", None))

    @app.get("/static/vega.js", include_in_schema=False)
    def vega() -> Response:
        return Response(vega_bundle(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    # the documentation's script and style, from the fastapi-offline package (not a CDN)
    offline = resources.files("fastapi_offline").joinpath("static")
    app.mount("/static/docs", StaticFiles(directory=str(offline)), name="docs-static")
    static = resources.files("dualthreat.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title,
                                   swagger_js_url="/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/static/docs/swagger-ui.css",
                                   swagger_favicon_url="/static/docs/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True})

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=app.title,
                              redoc_js_url="/static/docs/redoc.standalone.js",
                              redoc_favicon_url="/static/docs/favicon.png", with_google_fonts=False)

    app.include_router(api.router, dependencies=[Depends(known_parameters)])
    app.include_router(pages.router, dependencies=[Depends(known_parameters)])
    return app


def known_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not take (``/api/explain?month=...`` for ``at``): ignored, it
    would answer another question than the one asked."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed: set[str] = set()
    todo = [dependant]
    while todo:  # the route's own query parameters and those of its dependencies
        d = todo.pop()
        allowed |= {p.alias for p in d.query_params}
        todo += d.dependencies
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no query parameters"
        raise BadParameter(unknown[0], f"not a parameter of {request.url.path} (it takes: {takes})")
