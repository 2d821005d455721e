#!/usr/bin/env python3
"""Build the default dataset under data/ from the raw public files in ../shared/data.

    python scripts/build_default_dataset.py [--shared ../shared] [--out data]

Every table goes through the same readers as `dualthreat ingest`, so the default dataset obeys the same
checks; each reader's rejections are printed. Large global tables are cut to what the framework uses
(stated per table below). Writes one zstd Parquet file per canonical table, `MANIFEST.csv` (rows and
SHA-256 of each file, checked by `dualthreat build`) and `src/dualthreat/resources/countries.csv`.
Re-running it on the same inputs gives the same tables.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def build_countries(shared: Path) -> None:
    """countries.csv: COW states with ISO3 where the ideal-point file pairs them, plus GeoNames ISO codes."""
    raw = shared / "data" / "raw"
    iso_of_cow: dict[int, tuple[str, str]] = {}
    with open(raw / "un_ideal_points" / "IdealpointsJuly2025.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["iso3c"]:
                iso_of_cow.setdefault(int(row["ccode"]), (row["iso3c"], row["countryname"]))
    # One code per state: where the file gives two COW states the same code (255 Germany and 260 German
    # Federal Republic both DEU; 678 and 680, the two Yemens, both YAR), the lower COW code keeps it.
    claimed: set[str] = set()
    for ccode in sorted(iso_of_cow):
        code, name = iso_of_cow[ccode]
        if code in claimed:
            del iso_of_cow[ccode]
        claimed.add(code)
    geo: dict[str, tuple[str, str]] = {}
    with open(raw / "gdelt" / "lookups" / "countryInfo.txt", encoding="utf-8") as fh:
        lines = [ln for ln in fh if not ln.startswith("#") or ln.startswith("#ISO")]
        for row in csv.DictReader([ln.lstrip("#") for ln in lines], delimiter="\t"):
            geo[row["ISO3"]] = (row["ISO"], row["Country"])
    rows: dict[tuple[str, str], dict[str, str]] = {}
    with open(raw / "peacesciencer" / "cow_states.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ccode = int(row["ccode"])
            if ccode in iso_of_cow:
                code, name = iso_of_cow[ccode]
            else:
                code, name = f"COW{ccode}", row["statenme"]
            iso2, geo_name = geo.get(code, ("", ""))
            rows.setdefault((code, str(ccode)), {"code": code, "iso2": iso2, "ccode": str(ccode),
                                                 "name": geo_name or name, "iso": "1" if code in geo else "0"})
    for ccode, (code, name) in iso_of_cow.items():  # states in the UN data but not in COW's 2016 list
        if not any(r["ccode"] == str(ccode) for r in rows.values()):
            iso2, geo_name = geo.get(code, ("", ""))
            rows[(code, str(ccode))] = {"code": code, "iso2": iso2, "ccode": str(ccode), "name": geo_name or name,
                                        "iso": "1" if code in geo else "0"}
    have = {r["code"] for r in rows.values()}
    for code, (iso2, name) in geo.items():
        if code not in have:
            rows[(code, "")] = {"code": code, "iso2": iso2, "ccode": "", "name": name, "iso": "1"}
    out = ROOT / "src" / "dualthreat" / "resources" / "countries.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["code", "iso2", "ccode", "name", "iso"], lineterminator="\n")
        w.writeheader()
        # ISO rows first, so that by-ccode lookups prefer the ISO code
        for r in sorted(rows.values(), key=lambda r: (r["iso"] != "1", r["code"], r["ccode"])):
            w.writerow(r)
    print(f"countries.csv: {len(rows)} rows")
    # COW letter codes (ROK, GMY, ...) of the ICEWS dyad-month file: the state list's (stateabb, ccode) pairs
    abb: dict[str, str] = {}
    with open(raw / "peacesciencer" / "cow_states.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            abb.setdefault(row["stateabb"], row["ccode"])
    with open(out.with_name("cow_abbreviations.csv"), "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["stateabb", "ccode"])
        w.writerows(sorted(abb.items()))
    print(f"cow_abbreviations.csv: {len(abb)} rows")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    args = ap.parse_args()
    shared: Path = args.shared.resolve()
    out_dir: Path = args.out.resolve()
    os.chdir(ROOT)  # stored source_file paths are relative to the project
    if not (shared / "data" / "raw").is_dir():
        print(f"error: {shared}/data/raw not found; pass --shared PATH", file=sys.stderr)
        return 2
    build_countries(shared)

    from dualthreat import ingest
    from dualthreat.tables import TABLES
    from dualthreat.theater import load_theater

    theater_states = set(load_theater().states)
    # Event aggregates keep the dyads among the states of two theaters: Northeast Asia and, as a second
    # theater, NATO's eastern flank (all dyads within the union of both sets).
    dyad_states = sorted({"USA", "JPN", "KOR", "CHN", "PRK"}
                         | {"POL", "LTU", "LVA", "EST", "RUS", "BLR", "DEU", "UKR"})
    raw, cur = shared / "data" / "raw", shared / "data" / "curated"
    additions = ROOT / "data" / "additions"
    sources: list[tuple[str, Path, str | None]] = [
        # (kind, path, filter) ; filter "theater" keeps rows that involve only the theater's states
        *[("indicators", p, None) for p in sorted(cur.glob("*.csv"))],
        *[("indicators", p, None) for p in sorted(additions.glob("*.csv"))],
        ("episodes", shared / "data" / "episodes" / "calibration.csv", None),
        ("votes", raw / "unvotes" / "un_votes_5countries.csv", "theater"),
        ("votes", raw / "unvotes" / "un_roll_calls.csv", None),
        ("votes", raw / "unvotes" / "un_roll_call_issues.csv", None),
        ("ideal-points", raw / "un_ideal_points" / "IdealpointsJuly2025.csv", None),
        ("missiles", raw / "cns_nk_missile_tests" / "tests_flat.en.csv", None),
        ("missiles", raw / "cns_nk_missile_tests" / "missiles.en.csv", None),
        ("speeches", raw / "ungdc" / "speeches", None),
        ("pew", raw / "pew_global_attitudes" / "pew_favorability_by_country_wave.csv", None),
        ("sipri", raw / "sipri_owid" / "military-spending-as-a-share-of-gdp-sipri.csv", None),
        ("capabilities", raw / "peacesciencer" / "cow_nmc.csv", None),
        ("alliances", raw / "peacesciencer" / "atop_alliance_5countries.csv", "theater"),
        ("rivalries", raw / "peacesciencer" / "tss_rivalries.csv", None),
        ("territorial-threat", raw / "peacesciencer" / "terrthreat.csv", None),
        # filter "dyads": both states among dyad_states; the coverage (months, days) is kept whole
        ("icews-dyad-month", raw / "icews_dyadmonth" / "icews_dyad_month_1990_2013.parquet", "dyads"),
        ("icews-dyad-year", raw / "icews_dyadyear_netify" / "icews_dyad_year_2002_2014.parquet", "dyads"),
        ("gdelt-pairs", raw / "gdelt_country_pairs" / "gdelt2_country_pair_daily_2018_2024.parquet", "dyads"),
    ]
    by_table: dict[str, list[pa.Table]] = {}
    for kind, path, keep in sources:
        result = ingest.read(kind, path)
        rows = result.rows
        if keep == "theater":
            cols = [c for c in ("iso3", "iso3_a", "iso3_b") if c in rows.column_names]
            mask = None
            for c in cols:
                m = pa.compute.is_in(rows[c], value_set=pa.array(sorted(theater_states)))
                mask = m if mask is None else pa.compute.and_(mask, m)
            rows = rows.filter(mask)
        elif keep == "dyads":
            ends = [c for c in ("source", "target", "a", "b") if c in rows.column_names]
            mask = pa.compute.and_(*(pa.compute.is_in(rows[c], value_set=pa.array(dyad_states)) for c in ends))
            rows = rows.filter(mask)
        print(f"{kind:18} {result.file}: {result.rows_in} in = {result.loaded} loaded + {result.rejected} rejected"
              + (f"; kept {rows.num_rows} of the {'theater' if keep == 'theater' else 'dyads'}' states" if keep else ""))
        for r in result.rejections[:5]:
            print(f"    rejected {r.file}:{r.line} [{r.field}] {r.reason}")
        if result.rejected > 5:
            print(f"    ... and {result.rejected - 5} more")
        by_table.setdefault(result.table, []).append(rows)
        for companion in getattr(result, "companions", ()):  # coverage of the whole file
            print(f"{'':18} {companion.table}: {companion.loaded} rows")
            by_table.setdefault(companion.table, []).append(companion.rows)

    out = out_dir
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, parts in by_table.items():
        table = pa.concat_tables(parts).cast(TABLES[name].arrow_schema())
        path = out / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd", compression_level=9)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest.append({"table": name, "file": path.name, "rows": table.num_rows, "sha256": digest})
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {table.num_rows} rows")
    with open(out / "MANIFEST.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["table", "file", "rows", "sha256"], lineterminator="\n")
        w.writeheader()
        w.writerows(manifest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
