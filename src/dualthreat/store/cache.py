"""Fitted results kept in the store, so that commands after ``dualthreat run`` answer without refitting.

An entry is keyed by what it was computed from: the store's *data version* (a SHA-256 over the log of loads,
so any load that adds rows gives a new version) and a key that the caller derives from its parameters. Every
load that adds rows empties the cache in its own transaction (:meth:`dualthreat.store.Store.load`), so a stale entry can
never be read. Entries are opaque compressed bytes to this layer; :mod:`dualthreat.model.cache` puts fitted
estimators in them. A cache is an optimisation: when the store cannot be written (another process holds it),
nothing is cached and nothing fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib

import duckdb

from dualthreat.store import CACHE_SQL, Store, StoreError


_LOADS = "SELECT load_id, sha256, table_name, added FROM _loads WHERE added > 0 ORDER BY load_id, table_name, sha256"


def _digest(rows: list[tuple]) -> str:
    digest = hashlib.sha256()
    for load_id, sha256, table_name, added in rows:
        digest.update(f"{load_id}|{sha256}|{table_name}|{added}\n".encode())
    return digest.hexdigest()


def data_version(store: Store) -> str:
    """SHA-256 of the store's load log: the loads that added rows (file hashes, tables, rows added), in order."""
    rows = store.query(_LOADS).to_pylist()
    return _digest([(r["load_id"], r["sha256"], r["table_name"], r["added"]) for r in rows])


def read(store: Store, key: str) -> bytes | None:
    """The bytes cached under ``key`` for the store's current data, or None."""
    return read_many(store, [key]).get(key)


def read_many(store: Store, keys: list[str]) -> dict[str, bytes]:
    """The entries cached under any of ``keys`` for the store's current data (one query, however many keys);
    a key with no entry is absent from the result."""
    if not store.exists() or not keys:
        return {}
    try:
        version = data_version(store)
        present = store.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '_fit_cache'")
        if not present.column("n")[0].as_py():
            return {}
        got = store.query("SELECT key, blob FROM _fit_cache WHERE data_version = ? AND list_contains(?, key)",
                          [version, list(dict.fromkeys(keys))])
    except (StoreError, duckdb.Error):
        return {}
    return {k: zlib.decompress(b) for k, b in zip(got.column("key").to_pylist(), got.column("blob").to_pylist())}


def write_many(store: Store, entries: dict[str, bytes], version: str | None = None) -> bool:
    """Cache every ``key: blob`` of ``entries`` for the current data in one transaction (all or none); False
    (and nothing written) if the store is busy, or if ``version`` is given and the data are no longer that
    version (entries computed from data that a load has changed since). Entries of older versions are dropped."""
    if store.is_open:
        return False
    if not entries:
        return True
    try:
        con = store.connect()
    except StoreError:
        return False
    try:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        packed = {k: zlib.compress(b, 1) for k, b in entries.items()}
        con.execute("BEGIN")
        current = _digest(con.execute(_LOADS).fetchall())  # read in the transaction that writes
        if version is not None and current != version:
            con.execute("ROLLBACK")
            return False
        con.execute(CACHE_SQL)
        con.execute("DELETE FROM _fit_cache WHERE data_version <> ? OR list_contains(?, key)",
                    [current, list(packed)])
        con.executemany("INSERT INTO _fit_cache VALUES (?, ?, ?, ?, ?)",
                        [[k, current, now, len(b), b] for k, b in packed.items()])
        con.execute("COMMIT")
        return True
    except duckdb.Error:
        con.execute("ROLLBACK")
        return False
    finally:
        con.close()
