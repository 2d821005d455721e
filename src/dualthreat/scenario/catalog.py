"""The scenarios shipped with the package (``scenario/packaged/*.toml``), from the paper's own questions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from dualthreat.scenario.spec import Scenario
from dualthreat.theater import Theater


def _folder() -> Path:
    return Path(str(resources.files("dualthreat").joinpath("scenario/packaged")))


def packaged_path(name: str) -> Path | None:
    """The file of the packaged scenario ``name`` (its file name without ``.toml``), or None."""
    path = _folder() / f"{name}.toml"
    return path if path.is_file() else None


def packaged(theater: Theater | None = None) -> dict[str, Scenario]:
    """Every packaged scenario, by name, parsed and validated."""
    return {p.stem: Scenario.from_file(p, theater) for p in sorted(_folder().glob("*.toml"))}
