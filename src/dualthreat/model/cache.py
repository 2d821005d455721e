"""Fit an estimator once per state of the data: ``fit_cached(DualThreatModel(), store)``.

The fitted estimator is pickled into the store's cache (:mod:`dualthreat.store.cache`) under a key made of its
class, its parameters (``repr`` of each ``__init__`` argument; the default theater is resolved first), a digest
of the package's own code (so that an edited model never answers from an old fit) and the store's data version. A later call with the same parameters on the same data gets the same
object back without refitting; any load that adds rows, another parameter, or another version refits.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import pickle
from pathlib import Path
from typing import Any, TypeVar

from dualthreat import __version__
from dualthreat.store import Store
from dualthreat.store import cache as store_cache
from dualthreat.theater import load_theater

Estimator = TypeVar("Estimator")


@functools.cache
def code_digest() -> str:
    """SHA-256 of the package's Python files and packaged resources (theaters, word lists)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml", ".csv") and p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(estimator: Any) -> str:
    """A digest of the estimator's class, its ``__init__`` parameters and the package's code."""
    params = inspect.signature(type(estimator).__init__).parameters
    parts = [type(estimator).__module__, type(estimator).__qualname__, code_digest()]
    for name in params:
        if name == "self":
            continue
        value = getattr(estimator, name, None)
        if name == "theater" and value is None:
            value = load_theater()
        parts.append(f"{name}={value!r}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def fit_cached(estimator: Estimator, store: Store, refresh: bool = False, **fit_params: Any) -> Estimator:
    """``estimator.fit(store, **fit_params)``, or the same fit from the store's cache; the result is cached when it
    can be. ``fit_params`` may change how the fit is computed (what it shares with others), never its result."""
    key = cache_key(estimator)
    if not refresh:
        blob = store_cache.read(store, key)
        if blob is not None:
            try:
                return pickle.loads(blob)
            except Exception:  # noqa: BLE001 - an unreadable entry is refitted, never fatal
                pass
    version = store_cache.data_version(store) if store.exists() else None  # the data the fit reads
    fitted = estimator.fit(store, **fit_params)  # type: ignore[attr-defined]
    if version is not None:  # not cached if a load changed the data while it was fitted
        store_cache.write_many(store, {key: pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)}, version)
    return fitted
