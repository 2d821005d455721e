"""The scenarios shipped with the package (``scenario/packaged/*.toml``), from the paper's own questions."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from dualthreat.scenario.spec import Scenario
from dualthreat.theater import DEFAULT_THEATER, Theater, load_theater


def _folder() -> Path:
    return Path(str(resources.files("dualthreat").joinpath("scenario/packaged")))


def packaged_path(name: str) -> Path | None:
    """The file of the packaged scenario ``name`` (its file name without ``.toml``), or None."""
    path = _folder() / f"{name}.toml"
    return path if path.is_file() else None


def packaged(theater: Theater | None = None) -> dict[str, Scenario]:
    """The packaged scenarios written for ``theater`` (their ``theater`` key; default: the packaged default
    theater), by name, parsed and validated against it."""
    theater = theater or load_theater()
    out = {}
    for path in sorted(_folder().glob("*.toml")):
        with path.open("rb") as fh:
            named = tomllib.load(fh).get("theater", DEFAULT_THEATER)
        if named == theater.key:
            out[path.stem] = Scenario.from_file(path, theater)
    return out
