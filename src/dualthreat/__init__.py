"""dualthreat: the dual threat framework of Japanese and South Korean alliance thinking, made computable."""

import os
import tempfile
from pathlib import Path

__version__ = "0.1.0"

#: where dualthreat keeps files it can rebuild (compiled SQL of the event measures, the dashboard's script bundle)
CACHE_ENV = "DUALTHREAT_CACHE_DIR"


def cache_dir() -> Path:
    """``$DUALTHREAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/dualthreat``, else ``~/.cache/dualthreat``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dualthreat"


def write_cache_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (in :func:`cache_dir`) whole: a temporary file beside it, then renamed, so that a
    reader sees no file or a whole one. False, with nothing left behind, if it cannot be written: a cache that
    cannot be written only costs the next call a rebuild."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)
