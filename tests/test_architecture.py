"""The layout holds: data flow one way (ingest -> store -> measure -> model -> evaluate/scenario -> report/web ->
cli), no import cycles, the CLI's command modules share only its options module, a small top level, and a CLI
that starts without the heavy libraries (a check of sys.modules, not a timing). See docs/architecture.md."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dualthreat"

# The foundation every layer may use: the table schemas, the theater file, country codes, shared statistics.
FOUNDATION = {"dualthreat", "dualthreat.tables", "dualthreat.theater", "dualthreat.countries", "dualthreat.stats"}
LAYERS = {"ingest": 0, "store": 1, "measure": 2, "model": 3, "evaluate": 4, "scenario": 4, "report": 5, "web": 5,
          "cli": 6}
TOP_LEVEL_MODULE_FILES = 6


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    """Every module of the package: its Python files, and the C extension modules (built from ``*.c``)."""
    return {_module_name(p): p for p in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.c")]}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``path`` imports anywhere in it (in functions and TYPE_CHECKING blocks too)."""
    me = _module_name(path)
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = me.split(".") if is_package else me.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        out.update(n for n in names if n.startswith("dualthreat") and n != me)
    return {n for n in out if n in modules or n.rsplit(".", 1)[0] in modules}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if module in FOUNDATION:
        return -1
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


GRAPH = {m: _imports(p, _modules()) if p.suffix == ".py" else set() for m, p in _modules().items()}


def test_every_module_has_a_layer() -> None:
    """A module outside the foundation and the layer packages has no place in the architecture."""
    assert [m for m in GRAPH if _layer(m) is None] == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_go_down_the_layers(module: str) -> None:
    mine = _layer(module)
    upward = sorted(i for i in GRAPH[module] if (_layer(i) if _layer(i) is not None else -1) > mine)
    assert upward == [], f"{module} (layer {mine}) imports from a higher layer: {upward}"


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: a measure module that imports the model is found."""
    fake = PACKAGE / "measure" / "fake.py"
    source = "from dualthreat.model.dualthreat import DualThreatModel\n"
    tree = ast.parse(source)
    found = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert any(_layer(f) > _layer(_module_name(fake)) for f in found)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_cli_command_modules_share_only_the_options_module() -> None:
    for module, imports in GRAPH.items():
        if module.startswith("dualthreat.cli.") and module not in ("dualthreat.cli.options", "dualthreat.cli.__main__"):
            others = sorted(i for i in imports if i.startswith("dualthreat.cli") and i != "dualthreat.cli.options")
            assert others == [], f"{module} imports other CLI modules: {others}"


def test_small_top_level() -> None:
    files = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(files) <= TOP_LEVEL_MODULE_FILES, files


# ---------------------------------------------------------------------------------------------------------
# the CLI starts without the heavy libraries: they are imported inside the commands that use them

HEAVY = ("pandas", "duckdb", "numpy", "scipy", "statsmodels", "altair", "pyarrow", "ibis", "sklearn", "fastapi",
         "uvicorn", "jinja2", "vl_convert")
# runs the CLI in a fresh interpreter as the console script does; at exit, writes which heavy libraries it loaded
STARTUP = """
import atexit, json, sys
out, before, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
heavy = {heavy!r}
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(m for m in heavy if m in sys.modules))))
if before:
    __import__(before)
from dualthreat.cli import app
if args is not None:
    app(args, prog_name="dualthreat")
"""


def _heavy_after(tmp_path: Path, args: list[str] | None, before: str = "") -> tuple[int, list[str]]:
    out = tmp_path / "modules.json"
    code = STARTUP.format(heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code, str(out), before, json.dumps(args)], capture_output=True,
                          text=True, timeout=120)
    assert out.exists(), proc.stderr[-2000:]
    return proc.returncode, json.loads(out.read_text())


@pytest.mark.parametrize("args,status", [(None, 0), (["--help"], 0), (["threats", "--help"], 0),
                                         (["events", "--help"], 0), (["threats", "--from", "2010-13"], 2),
                                         (["posture", "--ally"], 2), (["nosuch"], 2)])
def test_the_cli_starts_without_the_heavy_libraries(tmp_path: Path, args: list[str] | None, status: int) -> None:
    """Importing the CLI, --help (of the app and of a command) and argument errors load none of the heavy
    libraries (docs/architecture.md: they are imported inside the commands)."""
    code, loaded = _heavy_after(tmp_path, args)
    assert code == status
    assert loaded == []


def test_the_startup_check_sees_a_heavy_import(tmp_path: Path) -> None:
    assert _heavy_after(tmp_path, ["--help"], before="numpy")[1] == ["numpy"]
