"""dualthreat: the dual threat framework of Japanese and South Korean alliance thinking, made computable."""

import os
from pathlib import Path

__version__ = "0.1.0"

#: where dualthreat keeps files it can rebuild (compiled SQL of the event measures, the dashboard's script bundle)
CACHE_ENV = "DUALTHREAT_CACHE_DIR"


def cache_dir() -> Path:
    """``$DUALTHREAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/dualthreat``, else ``~/.cache/dualthreat``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dualthreat"
