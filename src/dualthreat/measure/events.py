"""Monthly dyadic event indices, written once as Ibis expressions.

The same expressions run on DuckDB (the store, by default), on PySpark (``--engine spark``) and compile to
BigQuery SQL against GDELT's public events table (``gdelt-bq.gdeltv2.events``), where the full history lives.
On DuckDB, the SQL Ibis compiles is kept in a cache folder per set of arguments (:func:`compiled_measure`), so
that a call after the first imports neither Ibis nor its compilers.

Two inputs, both Ibis tables:

* ``events``: one row per coded event, with ``dataset``, ``event_id``, ``date``, ``month`` (``YYYY-MM``),
  ``source``, ``target`` (ISO3), ``event_code``, ``root_code``, ``quad_class``, ``goldstein``, ``is_root``,
  ``num_mentions``, ``date_added`` -- the store's ``events`` table, or :func:`gdelt_events` over raw GDELT columns;
* ``totals``: all events coded per ``dataset`` and ``month`` (``events``, ``root_events``, ``mentions``,
  ``root_mentions``) -- the store's ``event_month_totals``, or :func:`gdelt_totals`.

:func:`dyad_month_expr` gives, for every month and every ordered pair of the theater's states (zero-filled), the
number of events, events per quad class, the Goldstein sum and mean, net cooperation, their mention-weighted
variants, and the same counts as shares of all events coded in that month (GDELT's volume grew by orders of
magnitude, so raw counts mostly measure news volume; cf. ``NormEventCounts`` in the R package GDELTtools).
:func:`protests_expr` gives protest events (CAMEO root 14) by country against each target.

Choices a GDELT user must know about are explicit, with defaults, and what they drop is counted
(:func:`drop_counts`):

* ``dedup="id"`` (default): one row per ``(dataset, event_id)`` -- an event exported twice counts once (the
  latest export is kept, then the one with most mentions);
  ``"daily"``: additionally Schrodt's one-a-day filter, one event per dataset, day, source, target and CAMEO
  code (duplicate reports of one event by several articles); ``"none"``: every row.
* ``root_only=False`` (default): all events; ``True``: only GDELT's root events (``IsRootEvent``, events
  coded from a lead paragraph). ICEWS has no root flag: its events are kept either way.

Goldstein sums are computed in exact integer tenths (every Goldstein weight has one decimal), so that all
engines return identical results.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dualthreat import cache_dir, write_cache_file

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

# Ibis is imported where an expression is built, not here: `events monthly` on DuckDB runs SQL compiled once
# (see :func:`compiled_measure`), and importing Ibis and its SQL compilers costs about 1.4 s of CPU.

DEDUP = ("id", "daily", "none")
QUADS = (1, 2, 3, 4)
PROTEST_ROOT = "14"  # CAMEO root 14: PROTEST

# the columns `dualthreat events monthly` prints first (all formats) and the only ones of the table format
MONTHLY_COLUMNS = ["dataset", "month", "source", "target", "events", "quad1", "quad2", "quad3", "quad4",
                   "goldstein_sum", "goldstein_mean", "net_coop", "events_share"]


# --------------------------------------------------------------------------------------------------
# the aggregation


def events_loaded(store: Any) -> bool:
    """True when the store holds event data: both event tables exist (a store made by an older version may
    lack them) and hold rows."""
    present = {r["table_name"] for r in store.query(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN ('events', 'event_month_totals')"
    ).to_pylist()}
    if present != {"events", "event_month_totals"}:
        return False
    return store.query("SELECT count(*) AS n FROM event_month_totals").to_pylist()[0]["n"] > 0


def prepare(events: ir.Table, states: Sequence[str], *, root_only: bool = False, dedup: str = "id") -> ir.Table:
    """The events counted: both actors among ``states`` and different, deduplicated, root only if asked."""
    if dedup not in DEDUP:
        raise ValueError(f"dedup must be one of {', '.join(DEDUP)}, not {dedup!r}")
    states = list(states)
    ev = events.filter(events.source.isin(states), events.target.isin(states), events.source != events.target)
    if dedup in ("id", "daily"):
        ev = _first(ev, ["dataset", "event_id"])
    if dedup == "daily":
        ev = _first(ev, ["dataset", "date", "source", "target", "event_code"])
    if root_only:
        ev = ev.filter(ev.is_root.fill_null(True))
    return ev


def _first(ev: ir.Table, keys: list[str]) -> ir.Table:
    """One row per ``keys``: the latest export (``date_added``), then the one with most mentions; ties are
    broken on everything the aggregation reads, so that every engine keeps an equivalent row."""
    import ibis

    order = [ev.date_added.isnull(), ibis.desc(ev.date_added), ibis.desc(ev.num_mentions.fill_null(0)),
             ev.date, ev.month, ev.source, ev.target, ev.event_code, ev.root_code, ev.quad_class, ev.goldstein,
             ev.is_root.fill_null(True), ev.event_id]
    rn = ibis.row_number().over(group_by=[ev[k] for k in keys], order_by=order)
    return ev.mutate(_rn=rn).filter(lambda t: t._rn == 0).drop("_rn")


def _month_totals(totals: ir.Table, root_only: bool) -> ir.Table:
    if root_only:  # GDELT root events; ICEWS (no root flag) counts all its events
        ev, men = totals.root_events.fill_null(totals.events), totals.root_mentions.fill_null(totals.mentions)
    else:
        ev, men = totals.events, totals.mentions
    t = totals.mutate(_ev=ev, _men=men.fill_null(ev))
    return t.group_by(["dataset", "month"]).aggregate(month_events=t._ev.sum(), month_mentions=t._men.sum())


def _grid(month_totals: ir.Table, states: Sequence[str]) -> ir.Table:
    """Every (dataset, month) with events crossed with every ordered pair of different states."""
    import ibis

    arr = ibis.literal(list(states), type="array<string>")
    g = month_totals.select("dataset", "month", "month_events", "month_mentions")
    g = g.mutate(source=arr.unnest())
    g = g.mutate(target=arr.unnest())
    return g.filter(g.source != g.target)


def dyad_month_expr(events: ir.Table, totals: ir.Table, states: Sequence[str], *, root_only: bool = False,
                    dedup: str = "id") -> ir.Table:
    """The dyad-month table: one row per dataset, month and ordered pair of the theater's states."""
    import ibis

    ev = prepare(events, states, root_only=root_only, dedup=dedup)
    g10 = (ev.goldstein * 10).round().cast("int64")  # Goldstein in exact tenths
    w = ev.num_mentions.fill_null(1).cast("int64")  # mention weight (ICEWS: 1 per event)
    ev = ev.mutate(_g10=g10, _w=w, _gw=g10 * w)
    metrics: dict[str, Any] = {"events": ev.count(), "mentions": ev._w.sum(), "_g10": ev._g10.sum(),
                               "_gw": ev._gw.sum()}
    for q in QUADS:
        metrics[f"quad{q}"] = ev.count(where=ev.quad_class == q)
        metrics[f"quad{q}_m"] = ev._w.sum(where=ev.quad_class == q)
    agg = ev.group_by(["dataset", "month", "source", "target"]).aggregate(**metrics)
    grid = _grid(_month_totals(totals, root_only), states)
    j = grid.left_join(agg, ["dataset", "month", "source", "target"]).select(
        grid.dataset, grid.month, grid.source, grid.target, grid.month_events, grid.month_mentions,
        *[agg[c].fill_null(0).name(c) for c in metrics])
    out = {
        "dataset": j.dataset, "month": j.month, "source": j.source, "target": j.target,
        "events": j.events, **{f"quad{q}": j[f"quad{q}"] for q in QUADS},
        "goldstein_sum": _div(j._g10, 10),
        "goldstein_mean": ibis.ifelse(j.events > 0, _div(j._g10, j.events * 10), ibis.null("float64")),
        "net_coop": j.quad1 + j.quad2 - j.quad3 - j.quad4,
        "mentions": j.mentions, **{f"quad{q}_m": j[f"quad{q}_m"] for q in QUADS},
        "goldstein_sum_m": _div(j._gw, 10),
        "goldstein_mean_m": ibis.ifelse(j.mentions > 0, _div(j._gw, j.mentions * 10), ibis.null("float64")),
        "net_coop_m": j.quad1_m + j.quad2_m - j.quad3_m - j.quad4_m,
        "month_events": j.month_events, "month_mentions": j.month_mentions,
        "events_share": _share(j.events, j.month_events),
        **{f"quad{q}_share": _share(j[f"quad{q}"], j.month_events) for q in QUADS},
        "mentions_share": _share(j.mentions, j.month_mentions),
    }
    return j.select(**out).order_by(["dataset", "month", "source", "target"])


def _div(num: ir.IntegerValue, den: ir.IntegerValue | int) -> ir.FloatingValue:
    """Integer over integer as one IEEE double division (the same on every engine; no decimal arithmetic)."""
    import ibis
    import ibis.expr.types as ir

    den_f = den.cast("float64") if isinstance(den, ir.Value) else ibis.literal(float(den), type="float64")
    return num.cast("float64") / den_f


def _share(part: ir.IntegerValue, whole: ir.IntegerValue) -> ir.FloatingValue:
    import ibis

    return ibis.ifelse(whole > 0, _div(part, whole), ibis.null("float64"))


def protests_expr(events: ir.Table, totals: ir.Table, states: Sequence[str], *, root_only: bool = False,
                 dedup: str = "id") -> ir.Table:
    """Protest events (CAMEO root 14) by the people or groups of ``source`` against ``target``, per month."""
    ev = prepare(events, states, root_only=root_only, dedup=dedup)
    ev = ev.filter(ev.root_code == PROTEST_ROOT)
    ev = ev.mutate(_w=ev.num_mentions.fill_null(1).cast("int64"))
    agg = ev.group_by(["dataset", "month", "source", "target"]).aggregate(protests=ev.count(),
                                                                        protests_m=ev._w.sum())
    grid = _grid(_month_totals(totals, root_only), states)
    j = grid.left_join(agg, ["dataset", "month", "source", "target"]).select(
        grid.dataset, grid.month, grid.source, grid.target, grid.month_events,
        agg.protests.fill_null(0).name("protests"), agg.protests_m.fill_null(0).name("protests_m"))
    return j.mutate(protests_share=_share(j.protests, j.month_events)).order_by(
        ["dataset", "month", "source", "target"])


def drop_counts(events: ir.Table, states: Sequence[str], *, root_only: bool = False, dedup: str = "id",
                execute: Callable[[ir.Scalar], Any] | None = None) -> dict[str, int]:
    """What each choice drops from the theater's events: duplicate ids, one-a-day duplicates, non-root events.
    All counts are one query (``execute`` runs it and gives its one row; default: on its backend)."""
    names, expr = drop_counts_expr(events, states, root_only=root_only, dedup=dedup)
    return dropped(names, (execute or (lambda e: e.to_pyarrow().to_pylist()[0].values()))(expr))


def drop_counts_expr(events: ir.Table, states: Sequence[str], *, root_only: bool = False, dedup: str = "id"
                     ) -> tuple[list[str], ir.Table]:
    """The stages of :func:`drop_counts` and one query counting the events left after each (one row).

    :func:`_first` keeps one row per distinct value of its keys (``ROW_NUMBER`` is 0 once in each partition, and
    a partition is a distinct value, NULL included, as for ``DISTINCT``), so the rows it leaves are counted as
    the distinct keys of its input: its window runs only where a later stage reads the rows it keeps."""
    if dedup not in DEDUP:
        raise ValueError(f"dedup must be one of {', '.join(DEDUP)}, not {dedup!r}")
    states = list(states)
    base = events.filter(events.source.isin(states), events.target.isin(states), events.source != events.target)
    steps: list[tuple[str, list[str] | None]] = []
    if dedup in ("id", "daily"):
        steps.append(("duplicate_event_id", ["dataset", "event_id"]))
    if dedup == "daily":
        steps.append(("one_a_day", ["dataset", "date", "source", "target", "event_code"]))
    if root_only:
        steps.append(("not_root", None))
    stages: list[tuple[str, ir.Table]] = [("theater_events", base)]
    cur = base
    for i, (name, keys) in enumerate(steps):
        if keys is None:
            cur = cur.filter(cur.is_root.fill_null(True))
        elif i == len(steps) - 1:  # nothing reads its rows: count its partitions
            stages.append((name, cur.select(*keys).distinct()))
            break
        else:
            cur = _first(cur, keys)
        stages.append((name, cur))
    counts = [t.count().name(f"n{i}").as_table() for i, (_, t) in enumerate(stages)]
    expr = counts[0]
    for c in counts[1:]:
        expr = expr.cross_join(c)
    return [name for name, _ in stages], expr


def dropped(stages: Sequence[str], row: Sequence[Any]) -> dict[str, int]:
    """What each stage dropped, from the counts of :func:`drop_counts_expr`'s query (``row``)."""
    values = [int(v) for v in row]
    out = {"theater_events": values[0], "duplicate_event_id": 0, "one_a_day": 0, "not_root": 0}
    for name, before, after in zip(stages[1:], values, values[1:]):
        out[name] = before - after
    out["counted"] = values[-1]
    return out


# --------------------------------------------------------------------------------------------------
# raw GDELT columns (BigQuery's gdelt-bq.gdeltv2.events, or GDELT files loaded as they are)


def gdelt_schema() -> ibis.Schema:
    """The schema of GDELT 2.0's events table as published on BigQuery (``gdelt-bq.gdeltv2.events``)."""
    import ibis

    from dualthreat.ingest.events import GDELT2_COLUMNS

    types = {"INTEGER": "int64", "FLOAT": "float64", "STRING": "string"}
    return ibis.schema({c: types[t] for c, t in GDELT2_COLUMNS})


def gdelt_bigquery_table(name: str = "events", database: str = "gdeltv2", catalog: str = "gdelt-bq") -> ir.Table:
    """An unbound Ibis table for GDELT's public BigQuery events table (nothing is contacted)."""
    import ibis

    return ibis.table(gdelt_schema(), name=name, database=database, catalog=catalog)


def _gdelt_country(raw: ir.Table, i: int, states: Sequence[str]) -> ir.StringValue:
    import ibis

    from dualthreat.ingest.cameo import cameo_countries

    to_state = {c: iso for c, iso in cameo_countries().items() if iso in states}
    field = raw[f"Actor{i}CountryCode"].strip()
    prefix = raw[f"Actor{i}Code"].lstrip().substr(0, 3)
    code = ibis.ifelse(field.fill_null("") != "", field, prefix)
    return code.substitute(to_state, else_=ibis.null("string"))


def gdelt_events(raw: ir.Table, states: Sequence[str], dataset: str = "gdelt2") -> ir.Table:
    """Raw GDELT event columns as the ``events`` input of :func:`dyad_month_expr` (same country rules as the
    reader: the country field, else a CAMEO country code opening the actor code; CAMEO codes to ISO3)."""
    import ibis

    day = raw.SQLDATE.cast("string")
    return raw.select(
        dataset=ibis.literal(dataset),
        event_id=raw.GLOBALEVENTID,
        date=raw.SQLDATE,
        month=day.substr(0, 4) + "-" + day.substr(4, 2),
        source=_gdelt_country(raw, 1, states),
        target=_gdelt_country(raw, 2, states),
        event_code=raw.EventCode,
        root_code=raw.EventRootCode,
        quad_class=raw.QuadClass,
        goldstein=raw.GoldsteinScale,
        is_root=raw.IsRootEvent == 1,
        num_mentions=raw.NumMentions,
        date_added=raw.DATEADDED,
    )


def gdelt_totals(raw: ir.Table, dataset: str = "gdelt2") -> ir.Table:
    """All events of the raw GDELT table by month (the ``totals`` input of :func:`dyad_month_expr`)."""
    import ibis

    day = raw.SQLDATE.cast("string")
    t = raw.mutate(_month=day.substr(0, 4) + "-" + day.substr(4, 2), _root=raw.IsRootEvent == 1)
    return t.group_by(month=t._month).aggregate(
        events=t.count(), root_events=t.count(where=t._root), mentions=t.NumMentions.sum(),
        root_mentions=t.NumMentions.sum(where=t._root)).mutate(dataset=ibis.literal(dataset))


# --------------------------------------------------------------------------------------------------
# running on an engine


@dataclass
class Result:
    """Rows of a measure, with what the choices dropped and the engine that computed them."""

    table: Any  # pyarrow.Table
    dropped: dict[str, int] = field(default_factory=dict)
    engine: str = "duckdb"

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)


_IBIS_TYPES = {"VARCHAR": "string", "BIGINT": "int64", "INTEGER": "int32", "DOUBLE": "float64", "DATE": "date",
               "BOOLEAN": "boolean"}


def store_table(name: str) -> ir.Table:
    """An unbound Ibis table with the schema of one of the store's canonical tables."""
    import ibis

    from dualthreat.tables import TABLES

    return ibis.table({c: _IBIS_TYPES[t] for c, t in TABLES[name].all_columns}, name=name)


def _store_tables(store: Path, engine: str, tmp: Path) -> tuple[Any, ir.Table, ir.Table]:
    """The store's event tables on a Spark session (the DuckDB engine runs compiled SQL instead)."""
    import ibis

    if engine == "spark":
        import duckdb

        src = duckdb.connect(str(store), read_only=True)
        try:
            for table in ("events", "event_month_totals"):
                target = str(tmp / f"{table}.parquet").replace("'", "''")
                src.execute(f"COPY (SELECT * FROM {table}) TO '{target}' (FORMAT parquet)")
        finally:
            src.close()
        spark = spark_session()
        con = ibis.pyspark.connect(spark)
        views = {}
        for table in ("events", "event_month_totals"):
            view = f"dualthreat_{table}_{os.getpid()}"
            spark.read.parquet(str(tmp / f"{table}.parquet")).createOrReplaceTempView(view)
            views[table] = con.table(view)
        return con, views["events"], views["event_month_totals"]
    raise ValueError(f"unknown engine {engine!r} (duckdb or spark)")


_SPARK = None


def spark_session() -> Any:
    """A local Spark session (``local[*]``, UTC, no UI), created once per process."""
    global _SPARK
    if _SPARK is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise RuntimeError("the spark engine needs pyspark: pip install 'dualthreat[spark]' "
                               "(and Java 17)") from None
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support", category=FutureWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module="pyspark")
        _SPARK = (SparkSession.builder.master(os.environ.get("DUALTHREAT_SPARK_MASTER", "local[*]"))
                  .appName("dualthreat").config("spark.ui.enabled", "false")
                  .config("spark.ui.showConsoleProgress", "false")
                  .config("spark.sql.shuffle.partitions", os.environ.get("DUALTHREAT_SPARK_PARTITIONS", "4"))
                  .config("spark.sql.session.timeZone", "UTC")
                  .config("spark.driver.memory", "1g").getOrCreate())
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


# --------------------------------------------------------------------------------------------------
# the DuckDB SQL of a measure, compiled by Ibis once and kept in a cache folder


@dataclass(frozen=True)
class CompiledMeasure:
    """A measure compiled to DuckDB SQL: its table (``table``, cast to ``schema``) and the counts of what the
    choices drop (``drops``, one row of counts after each of ``stages``)."""

    table: str
    drops: str
    stages: list[str]
    schema: Any  # pyarrow.Schema


def _compile_key(measure: str, states: Sequence[str], root_only: bool, dedup: str) -> str:
    """What the SQL depends on: the arguments, this module's code, the store's event schemas, and the installed
    Ibis and sqlglot (the path, size and time of their files, which change with any reinstall)."""
    import hashlib
    import importlib.util

    from dualthreat.tables import TABLES

    h = hashlib.sha256(repr((measure, tuple(states), bool(root_only), dedup)).encode())
    h.update(Path(__file__).read_bytes())
    h.update(repr([TABLES[t].all_columns for t in ("events", "event_month_totals")]).encode())
    for package in ("ibis", "sqlglot"):
        spec = importlib.util.find_spec(package)
        origin = Path(spec.origin) if spec and spec.origin else None
        stat = origin.stat() if origin else None
        h.update(repr((str(origin), stat and (stat.st_size, stat.st_mtime_ns))).encode())
    return h.hexdigest()


def compiled_measure(measure: str, states: Sequence[str], *, root_only: bool = False, dedup: str = "id"
                     ) -> CompiledMeasure:
    """The DuckDB SQL of ``measure`` (:func:`dyad_month_expr` or :func:`protests_expr` over the store's tables)
    and of its :func:`drop_counts`, as Ibis compiles them. Compiled once per set of arguments and kept as JSON in
    :func:`cache_dir` (importing Ibis and its SQL compilers, and compiling, cost about 1.7 s of CPU); an entry
    that cannot be read is compiled again, and a folder that cannot be written is only not used."""
    import base64
    import json

    import pyarrow as pa

    if dedup not in DEDUP:
        raise ValueError(f"dedup must be one of {', '.join(DEDUP)}, not {dedup!r}")
    path = cache_dir() / "sql" / f"{_compile_key(measure, states, root_only, dedup)}.json"
    try:
        entry = json.loads(path.read_text("utf-8"))
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(entry["schema"])))
        return CompiledMeasure(entry["table"], entry["drops"], list(entry["stages"]), schema)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        pass
    import ibis

    events, totals = store_table("events"), store_table("event_month_totals")
    fn = dyad_month_expr if measure == "monthly" else protests_expr
    expr = fn(events, totals, states, root_only=root_only, dedup=dedup)
    stages, drops = drop_counts_expr(events, states, root_only=root_only, dedup=dedup)
    out = CompiledMeasure(ibis.to_sql(expr, dialect="duckdb"), ibis.to_sql(drops, dialect="duckdb"), stages,
                          expr.schema().to_pyarrow())
    entry = {"measure": measure, "states": list(states), "root_only": root_only, "dedup": dedup,
             "table": out.table, "drops": out.drops, "stages": out.stages,
             "schema": base64.b64encode(out.schema.serialize().to_pybytes()).decode("ascii")}
    write_cache_file(path, json.dumps(entry).encode("utf-8"))
    return out


def run_measure(measure: str, store: Any, *, engine: str = "duckdb", states: Sequence[str] | None = None,
                root_only: bool = False, dedup: str = "id") -> Result:
    """Compute ``monthly`` (:func:`dyad_month_expr`) or ``protests`` (:func:`protests_expr`) from the store's
    ``events`` and ``event_month_totals`` on ``engine`` (``duckdb`` or ``spark``). ``store``: a store file's
    path, or a :class:`~dualthreat.store.Store` (on DuckDB read through its own connection: a store as of a
    date, :class:`~dualthreat.measure.vintage.AsOfStore`, has its views and no file)."""
    if measure not in ("monthly", "protests"):
        raise ValueError(f"unknown measure {measure!r} (monthly or protests)")
    if states is None:
        from dualthreat.theater import theater_states

        states = theater_states()
    if engine == "duckdb":
        # The expressions, compiled by Ibis to DuckDB SQL (once: see compiled_measure), run on a plain
        # read-only DuckDB connection to the store (quicker to open than an Ibis backend; the SQL is the same).
        import duckdb

        sql = compiled_measure(measure, states, root_only=root_only, dedup=dedup)
        con = (store.connect(read_only=True) if hasattr(store, "connect")
               else duckdb.connect(str(store), read_only=True))
        try:
            table = con.sql(sql.table).to_arrow_table().cast(sql.schema)
            counts = dropped(sql.stages, con.sql(sql.drops).fetchall()[0])
        finally:
            con.close()
        return Result(table, counts, engine)
    fn = dyad_month_expr if measure == "monthly" else protests_expr
    with tempfile.TemporaryDirectory(prefix="dualthreat-measure-") as tmp:
        con, events, totals = _store_tables(_path(store), engine, Path(tmp))
        expr = fn(events, totals, states, root_only=root_only, dedup=dedup)
        table = expr.to_pyarrow().cast(expr.schema().to_pyarrow())
        counts = drop_counts(events, states, root_only=root_only, dedup=dedup,
                             execute=lambda e: e.to_pyarrow().to_pylist()[0].values())
    return Result(table, counts, engine)


# --------------------------------------------------------------------------------------------------
# the Python API used by the model (a Store in, a pandas DataFrame out)


def _path(store: Any) -> Path:
    return Path(getattr(store, "path", store))


def dyad_month(store: Any, *, engine: str = "duckdb", states: Sequence[str] | None = None, root_only: bool = False,
               dedup: str = "id") -> Any:
    """The dyad-month table of the store (see :func:`dyad_month_expr`) as a pandas DataFrame: ``dataset``,
    ``month``, ``source``, ``target``, ``events``, ``quad1``..``quad4``, ``goldstein_sum``, ``goldstein_mean``,
    ``net_coop``, the mention-weighted ``*_m`` columns and the ``*_share`` columns."""
    return run_measure("monthly", store, engine=engine, states=states, root_only=root_only,
                       dedup=dedup).table.to_pandas()


def protests(store: Any, *, engine: str = "duckdb", states: Sequence[str] | None = None, root_only: bool = False,
             dedup: str = "id") -> Any:
    """Protest events (CAMEO root 14) by source against target per month (see :func:`protests_expr`)."""
    return run_measure("protests", store, engine=engine, states=states, root_only=root_only,
                       dedup=dedup).table.to_pandas()


def protest_counts(store: Any, actors: Sequence[str], target: str, *, root_only: bool = False,
                   dedup: str = "id") -> Any:
    """Protest events by each of ``actors`` against ``target`` per year: ``ally``, ``target``, ``year``,
    ``events`` (protests), ``share`` (of all events coded that year in the dataset) and ``dataset``."""
    import pandas as pd

    states = tuple(dict.fromkeys([*actors, target]))
    p = protests(store, states=states, root_only=root_only, dedup=dedup)
    p = p[p.source.isin(actors) & (p.target == target)].copy()
    if p.empty:
        return pd.DataFrame(columns=["ally", "target", "year", "events", "share", "dataset"])
    p["year"] = p.month.str[:4].astype(int)
    # the month totals repeat on every pair: take them once per dataset and month
    totals = p.drop_duplicates(["dataset", "month", "source"]).groupby(["dataset", "source", "year"]).month_events.sum()
    g = p.groupby(["dataset", "source", "year"]).protests.sum()
    out = pd.DataFrame({"events": g, "total": totals}).reset_index()
    out["share"] = out.events / out.total.where(out.total > 0)
    out = out.rename(columns={"source": "ally"}).assign(target=target)
    return out[["ally", "target", "year", "events", "share", "dataset"]]
