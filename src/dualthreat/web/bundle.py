"""The Vega-Lite JavaScript the dashboard serves itself (never from a CDN): the same bundle the report inlines,
from vl-convert. Building it takes vl-convert several seconds, so it is built once and kept in a cache file
(``$XDG_CACHE_HOME/dualthreat/``, named by the vl-convert and Vega-Lite versions)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from dualthreat import cache_dir
from dualthreat.report.render import VEGA_LITE_VERSION

_lock = threading.Lock()
_bundle: bytes | None = None


def _cache_file() -> Path:
    import vl_convert

    version = getattr(vl_convert, "__version__", "unknown")
    return cache_dir() / f"vega-embed-vl{VEGA_LITE_VERSION}-vlc{version}.js"


def vega_bundle() -> bytes:
    """The bundle (vega, vega-lite, vega-embed as one ES module that sets ``window.vegaEmbed``)."""
    global _bundle
    with _lock:
        if _bundle is not None:
            return _bundle
        cached = _cache_file()
        digest = cached.with_suffix(".sha256")
        if cached.exists() and digest.exists() and \
                hashlib.sha256(cached.read_bytes()).hexdigest() == digest.read_text().strip():
            _bundle = cached.read_bytes()
            return _bundle
        import vl_convert

        _bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION).encode("utf-8")
        try:  # a cache that cannot be written only costs the next start-up a few seconds
            cached.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=cached.parent, delete=False) as f:
                f.write(_bundle)
            os.replace(f.name, cached)
            digest.write_text(hashlib.sha256(_bundle).hexdigest())
        except OSError:
            pass
        return _bundle
