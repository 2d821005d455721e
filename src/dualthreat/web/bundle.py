"""The Vega-Lite JavaScript the dashboard serves itself (never from a CDN): the bundle the report inlines
(:func:`dualthreat.report.render.vega_bundle`, kept in the cache folder), read once per server process."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_bundle: bytes | None = None


def vega_bundle() -> bytes:
    """The bundle (vega, vega-lite, vega-embed as one ES module that sets ``window.vegaEmbed``), as bytes."""
    global _bundle
    with _lock:
        if _bundle is None:
            from dualthreat.report.render import vega_bundle as bundle

            _bundle = bundle().encode("utf-8")
        return _bundle
