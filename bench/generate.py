#!/usr/bin/env python3
"""Generate SYNTHETIC GDELT 2.0 event export files for the benchmark.

    .venv/bin/python bench/generate.py --rows 1000000 --out bench/data/1M [--rows-per-file 250000] [--seed 7]
        [--theater-share 0.2]

The files have GDELT 2.0's 61 tab-separated columns, no header, and realistic mixes: actor country codes
weighted roughly as in GDELT 2.0 (about 40% of actors without a country, the United States the most frequent
state, Japan, the two Koreas and China at around 1-3% each, a share of domestic dyads), CAMEO event codes
weighted by root roughly as in GDELT (consult, statements and appeals most frequent), the GDELT Goldstein
weight and quad class of each code (from the packaged CAMEO table), skewed mention counts, tone, geography,
DATEADDED and a URL. About 0.1% of the lines are malformed, in five ways: truncated, an extra field, an
invalid SQLDATE, a non-numeric GoldsteinScale, and bytes that are not UTF-8.

With the natural mix about 1.4% of the lines are events between two different states of the packaged theater
(USA, JPN, KOR, CHN, PRK). ``--theater-share S`` raises that to about S: a share of the lines (drawn by hash, as
every value) get two different theater states as actors, the rest keep the natural mix, so that the whole file
holds about S of such events (e.g. 0.2 for a file like a theater-filtered GDELT extract padded with other
events).

Nothing here is real: every file is named ``synthetic-*.export.CSV``, every URL points to
``news.synthetic.invalid``, and the output folder gets a ``SYNTHETIC.txt`` saying so. Generation is
deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# Actor country codes and weights (per mille of actors), approximating GDELT 2.0's actor mix. "" = no country.
COUNTRIES = {
    "": 400, "USA": 120, "GBR": 25, "RUS": 22, "CHN": 22, "IND": 20, "ISR": 13, "FRA": 12, "DEU": 10,
    "AUS": 10, "CAN": 10, "PAK": 9, "IRN": 9, "TUR": 9, "SYR": 8, "JPN": 10, "KOR": 7, "PRK": 6, "UKR": 8,
    "AFG": 7, "NGA": 7, "ZAF": 6, "PHL": 6, "EGY": 6, "IRQ": 6, "SAU": 5, "MEX": 5, "BRA": 5, "ITA": 5,
    "ESP": 4, "TWN": 4, "VNM": 3, "IDN": 4, "MYS": 3, "KEN": 3, "EUR": 4, "ASA": 2, "AFR": 2, "MEA": 2,
    "LBN": 3, "PSE": 3, "YEM": 3, "VEN": 3, "GRC": 2, "POL": 2, "NLD": 2, "BEL": 2, "SWE": 2, "IRL": 2,
    "NZL": 2, "SGP": 2, "THA": 2, "BGD": 2, "LKA": 2, "MMR": 2, "NPL": 1, "ZWE": 2, "ETH": 2, "SDN": 2,
    "SOM": 2, "LBY": 2, "QAT": 1, "ARE": 1, "JOR": 1, "CUB": 1, "COL": 1, "ARG": 1, "CHL": 1, "PER": 1,
}
ROLES = {"": 300, "GOV": 250, "MIL": 60, "BUS": 60, "CVL": 40, "MED": 40, "COP": 40, "LEG": 30, "JUD": 20,
         "EDU": 20, "OPP": 20, "CRM": 15, "HLH": 10, "LAB": 10, "REF": 5, "SPY": 5, "REB": 5, "ELI": 10}
# Event root weights (per mille), approximating GDELT 2.0's event-root frequencies.
ROOTS = {"01": 95, "02": 75, "03": 80, "04": 200, "05": 75, "06": 25, "07": 25, "08": 25, "09": 20,
         "10": 30, "11": 70, "12": 30, "13": 20, "14": 20, "15": 10, "16": 20, "17": 50, "18": 40, "19": 45, "20": 1}
FIPS = {"USA": "US", "CHN": "CH", "JPN": "JA", "KOR": "KS", "PRK": "KN", "GBR": "UK", "RUS": "RS", "IND": "IN"}
MALFORMED_PER_MILLE = 1
THEATER = ("USA", "JPN", "KOR", "CHN", "PRK")  # the packaged theater's states (bench/run.py checks them)


def natural_theater_share() -> float:
    """The share of lines between two different theater states under the natural mix (actor 2 repeats
    actor 1's draw 12% of the time: no event then)."""
    total = sum(COUNTRIES.values())
    p = {c: COUNTRIES[c] / total for c in THEATER}
    return 0.88 * sum(p[a] * p[b] for a in THEATER for b in THEATER if a != b)


def _pool(weights: dict[str, int]) -> str:
    """A DuckDB list literal where each value appears as often as its weight."""
    items = [v for v, w in weights.items() for _ in range(w)]
    return "[" + ",".join("'" + v.replace("'", "''") + "'" for v in items) + "]"


def _events() -> list[tuple[str, str, int, float]]:
    text = resources.files("dualthreat").joinpath("resources/cameo_events.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [(r["code"], r["root"], int(r["quad_class"]), float(r["goldstein"])) for r in rows if len(r["code"]) >= 3]


def _event_pool() -> tuple[str, str]:
    """(codes list literal, goldstein map) with codes weighted by their root's weight."""
    by_root: dict[str, list[tuple[str, float]]] = {}
    for code, root, _quad, gold in _events():
        by_root.setdefault(root, []).append((code, gold))
    items = []
    for root, weight in ROOTS.items():
        codes = by_root[root]
        for i in range(weight * 4):  # 4 draws per weight unit, spread over the root's codes (first ones favoured)
            items.append(codes[(i * i) % len(codes)])
    codes_lit = "[" + ",".join(f"'{c}'" for c, _ in items) + "]"
    gold_lit = "MAP {" + ",".join(f"'{c}': {g}" for c, g in {c: g for c, g in items}.items()) + "}"
    return codes_lit, gold_lit


def generate(rows: int, out: Path, rows_per_file: int, seed: int, start: dt.date, days: int,
             theater_share: float | None = None) -> list[Path]:
    import duckdb

    # lines forced to a theater dyad, per million, so that with the natural ones the share is theater_share
    base = natural_theater_share()
    forced = 0 if theater_share is None else round(1e6 * max(0.0, (theater_share - base) / (1 - base)))

    out.mkdir(parents=True, exist_ok=True)
    (out / "SYNTHETIC.txt").write_text(
        "SYNTHETIC DATA. These files imitate the layout of GDELT 2.0 event exports (61 tab-separated columns)\n"
        f"but every value was generated by bench/generate.py (seed {seed}); none of it is real GDELT data.\n"
        f"rows={rows} rows_per_file={rows_per_file} start={start} days={days} theater_share={theater_share}\n",
        encoding="utf-8")
    codes_lit, gold_lit = _event_pool()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    countries, roles = _pool(COUNTRIES), _pool(ROLES)
    theater = "[" + ",".join(f"'{c}'" for c in THEATER) + "]"
    fips = "MAP {" + ",".join(f"'{k}': '{v}'" for k, v in FIPS.items()) + "}"
    # One query makes the lines of one file; deterministic: every random draw is a hash of the row number.
    query = f"""
    WITH base AS (
      SELECT i,
        (hash(i, {seed}, 1) % 4294967296)::BIGINT AS h1, (hash(i, {seed}, 2) % 4294967296)::BIGINT AS h2, (hash(i, {seed}, 3) % 4294967296)::BIGINT AS h3, (hash(i, {seed}, 4) % 4294967296)::BIGINT AS h4,
        (hash(i, {seed}, 5) % 4294967296)::BIGINT AS h5, (hash(i, {seed}, 6) % 4294967296)::BIGINT AS h6, (hash(i, {seed}, 7) % 4294967296)::BIGINT AS h7, (hash(i, {seed}, 8) % 4294967296)::BIGINT AS h8,
        (hash(i, {seed}, 9) % 4294967296)::BIGINT AS h9
      FROM range($lo, $hi) t(i)
    ), drawn0 AS (
      SELECT i, h1, h2, h3, h4, h5, h6, h7, h8, h9, h9 % 1000000 < {forced} AS forced,
        DATE '{start}' + CAST(floor(i * {days}::DOUBLE / {rows}) AS INTEGER) AS added_day,
        CAST(floor(i * {days}::DOUBLE * 86400 / {rows}) AS BIGINT) % 86400 AS added_sec,
        {countries}[1 + h1 % {sum(COUNTRIES.values())}] AS c1,
        CASE WHEN h2 % 100 < 12 THEN NULL ELSE {countries}[1 + h2 % {sum(COUNTRIES.values())}] END AS c2_draw,
        {roles}[1 + h3 % {sum(ROLES.values())}] AS r1,
        {roles}[1 + h4 % {sum(ROLES.values())}] AS r2,
        {codes_lit}[1 + h5 % {4 * sum(ROOTS.values())}] AS code
      FROM base
    ), drawn AS (
      -- a forced line: two different theater states (actor 2 a draw among the four others)
      SELECT * REPLACE (
        CASE WHEN forced THEN {theater}[1 + h9 // 1000000 % 5] ELSE c1 END AS c1,
        CASE WHEN forced THEN {theater}[1 + (h9 // 1000000 % 5 + 1 + h9 // 5000000 % 4) % 5] ELSE c2_draw END
          AS c2_draw)
      FROM drawn0
    ), ev AS (
      SELECT *,
        coalesce(c2_draw, c1) AS c2,
        CASE WHEN h6 % 10 = 0 THEN added_day - CAST(1 + h6 % 30 AS INTEGER) ELSE added_day END AS day,
        CAST(1 + floor(-ln((h7 % 100000 + 1) / 100001.0) * 3) AS INTEGER) AS mentions,
        (((h8 % 1000) + (h8 // 1000 % 1000) + (h8 // 1000000 % 1000)) / 1000.0 - 1.5) * 5 - 1.8 AS tone
      FROM drawn
    ), cols AS (
      SELECT i, h1, h2, h3, h4, h5, h6, h7,
        (900000000 + i)::VARCHAR AS id, strftime(day, '%Y%m%d') AS sqldate, strftime(day, '%Y%m') AS monthyear,
        year(day)::VARCHAR AS yr, printf('%.4f', year(day) + dayofyear(day) / 365.0) AS frac,
        -- 1% of actors with a country carry it only in the actor code (country field left empty)
        CASE WHEN c1 = '' THEN r1 ELSE c1 || r1 END AS a1code, c1, h1 % 100 = 7 AND c1 <> '' AS a1hide,
        CASE WHEN c2 = '' THEN r2 ELSE c2 || r2 END AS a2code, c2, h3 % 100 = 7 AND c2 <> '' AS a2hide,
        r1, r2, code, substr(code, 1, 3) AS base, substr(code, 1, 2) AS root,
        CASE WHEN substr(code, 1, 2) <= '05' THEN 1 WHEN substr(code, 1, 2) <= '08' THEN 2
             WHEN substr(code, 1, 2) <= '13' THEN 3 ELSE 4 END AS quad,
        {gold_lit}[code] AS gold, mentions, 1 + mentions // 3 AS sources, greatest(1, mentions - h7 % 2) AS articles,
        tone, h2 % 10 < 4 AS root_event, strftime(added_day, '%Y%m%d') || printf('%02d%02d00', added_sec // 3600,
        (added_sec // 60) % 60 // 15 * 15) AS dateadded
      FROM ev
    ), lines AS (
      SELECT i, h5, concat_ws(chr(9),
        id, sqldate, monthyear, yr, frac,
        a1code, CASE WHEN c1 = '' THEN '' ELSE upper(c1) || ' ACTOR' END, CASE WHEN a1hide THEN '' ELSE c1 END,
        '', '', '', '', r1, '', '',
        a2code, CASE WHEN c2 = '' THEN '' ELSE upper(c2) || ' ACTOR' END, CASE WHEN a2hide THEN '' ELSE c2 END,
        '', '', '', '', r2, '', '',
        CASE WHEN root_event THEN '1' ELSE '0' END, code, base, root, quad::VARCHAR, gold::VARCHAR,
        mentions::VARCHAR, sources::VARCHAR, articles::VARCHAR, printf('%.14f', tone),
        -- geography: actor 1, actor 2, action (type, name, FIPS country, ADM1, ADM2, lat, long, feature id)
        '1', c1 || ' (synthetic place)', coalesce({fips}[c1], 'XX'), coalesce({fips}[c1], 'XX'), '',
        printf('%.4f', (h1 % 18000) / 100.0 - 90), printf('%.4f', (h2 % 36000) / 100.0 - 180), (h1 % 99999)::VARCHAR,
        '1', c2 || ' (synthetic place)', coalesce({fips}[c2], 'XX'), coalesce({fips}[c2], 'XX'), '',
        printf('%.4f', (h3 % 18000) / 100.0 - 90), printf('%.4f', (h4 % 36000) / 100.0 - 180), (h3 % 99999)::VARCHAR,
        '4', 'Synthetic City, Synthetic Province', coalesce({fips}[c1], 'XX'), coalesce({fips}[c1], 'XX') || '01',
        (h5 % 90000 + 10000)::VARCHAR, printf('%.5f', (h5 % 18000) / 100.0 - 90),
        printf('%.5f', (h6 % 36000) / 100.0 - 180), '-' || (h6 % 9999999)::VARCHAR,
        dateadded, 'https://news.synthetic.invalid/' || substr(dateadded, 1, 8) || '/story-' || i::VARCHAR || '.html'
      ) AS line
      FROM cols
    )
    SELECT CASE
      WHEN h5 % 1000 >= {MALFORMED_PER_MILLE} THEN line
      WHEN i % 5 = 0 THEN substr(line, 1, length(line) // 2)                          -- truncated line
      WHEN i % 5 = 1 THEN line || chr(9) || 'EXTRA'                                    -- one field too many
      WHEN i % 5 = 2 THEN regexp_replace(line, '^([^\\t]*)\\t[^\\t]*', '\\1' || chr(9) || '2019-13-45')  -- invalid SQLDATE
      WHEN i % 5 = 3 THEN regexp_replace(line, '^(([^\\t]*\\t){{30}})[^\\t]*', '\\1n/a')     -- bad GoldsteinScale
      ELSE '@@NOT-UTF8@@' || line                                                      -- bytes that are not UTF-8
    END AS line
    FROM lines ORDER BY i
    """
    files = []
    n_files = (rows + rows_per_file - 1) // rows_per_file
    for k in range(n_files):
        lo, hi = k * rows_per_file, min(rows, (k + 1) * rows_per_file)
        reader = con.sql(query, params={"lo": lo, "hi": hi}).to_arrow_reader(200_000)
        first = None
        tmp = out / f".part-{k:05d}"
        with open(tmp, "wb") as fh:
            for batch in reader:
                lines = batch.column(0).to_pylist()
                if first is None:
                    first = lines[0].split("\t")[59] if lines[0].count("\t") >= 60 else f"{k:014d}"
                data = ("\n".join(lines) + "\n").encode("utf-8").replace(b"@@NOT-UTF8@@", b"\xff\xfe")
                fh.write(data)
        path = out / f"synthetic-{k:05d}-{first}.export.CSV"
        tmp.replace(path)
        files.append(path)
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--rows-per-file", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2018, 1, 1))
    ap.add_argument("--days", type=int, default=4 * 365)
    ap.add_argument("--theater-share", type=float, default=None,
                    help="about this share of the lines are events between two different theater states "
                         f"(default: the natural mix, about {natural_theater_share():.1%})")
    args = ap.parse_args()
    if args.theater_share is not None and not 0 <= args.theater_share <= 1:
        ap.error("--theater-share must be between 0 and 1")
    t0 = time.perf_counter()
    files = generate(args.rows, args.out, args.rows_per_file, args.seed, args.start, args.days, args.theater_share)
    size = sum(f.stat().st_size for f in files)
    print(f"wrote {len(files)} synthetic files, {args.rows:,} rows, {size / 2**20:,.0f} MiB to {args.out} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
