"""The command line's help pages and usage errors (drawn by dualthreat.cli.shell instead of Typer's Rich help):
every command, option, default and exit status is there and unchanged, errors name the option and say what to do,
and the start-up in a fresh interpreter imports neither pydantic nor Typer's Rich help nor Rich's console.
Speed itself is measured by bench/run.py, never asserted here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from conftest import Run, dualthreat_command, squash
from dualthreat.cli import app, shell

BORDERS = re.compile("[│╭╮╰╯─]")


def cli(*args: str | Path) -> Run:
    """``dualthreat ARGS`` in-process, under the name the console script gives it (tests/conftest.py's cli()
    with prog_name, so that usage lines read ``dualthreat ...``)."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [str(a) for a in args], prog_name="dualthreat")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def page(text: str) -> str:
    """A help page or error without its panels' borders and whitespace (Rich-like wrapping moves words)."""
    return squash(BORDERS.sub(" ", text))


def _walk(command, path=()):  # noqa: ANN001, ANN202
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


ROOT = get_command(app)
COMMANDS = [(path, cmd) for path, cmd in _walk(ROOT)]


def _ctx(path):  # noqa: ANN001, ANN202 - the click context of the command at ``path``
    ctx = ROOT.make_context("dualthreat", [], resilient_parsing=True)
    command = ROOT
    for name in path:
        command = command.commands[name]
        ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
    return ctx


# -----------------------------------------------------------------------------------------------------------
# help


def test_every_command_and_group_is_drawn_by_the_shell() -> None:
    """shell.adopt reached every command of every module (a new module's commands too)."""
    kinds = {" ".join(p) or "dualthreat": type(c) for p, c in COMMANDS}
    wrong = {k: v.__name__ for k, v in kinds.items() if v not in (shell.Command, shell.Group)}
    assert wrong == {}
    assert len(kinds) > 25


def test_command_annotations_are_objects_not_text() -> None:
    """No command module reads its annotations as text (``from __future__ import annotations``): Typer would
    evaluate each of them twice per command at every start, for every command line (building the app took 26 ms
    that way, 9 ms without, in one process)."""
    textual = sorted(f"{cmd.callback.__module__}.{cmd.callback.__qualname__}" for _, cmd in COMMANDS
                     if cmd.callback is not None
                     for fn in [getattr(cmd.callback, "__wrapped__", cmd.callback)]
                     if any(isinstance(a, str) for a in getattr(fn, "__annotations__", {}).values()))
    assert textual == []


def test_the_app_help_lists_every_command_with_its_summary() -> None:
    run = cli("--help")
    assert run.exit_code == 0
    text = page(run.stdout)
    assert squash("Usage: dualthreat [OPTIONS] COMMAND [ARGS]...") in text
    assert "Options" in run.stdout and "Commands" in run.stdout
    for name, cmd in ROOT.commands.items():
        assert squash(name + shell.short_help(cmd)).replace("`", "") in text, name
    # markdown's `code` is drawn without its backticks
    assert "`" not in run.stdout and "Startwithdualthreatrun:" in text


def test_no_arguments_prints_the_help_and_exits_2() -> None:
    run = cli()
    assert run.exit_code == 2
    assert squash("Usage: dualthreat [OPTIONS] COMMAND") in page(run.stdout)
    assert "threats" in run.stdout


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS if p], ids=lambda p: " ".join(p))
def test_every_command_help_shows_its_arguments_options_and_defaults(path: tuple[str, ...]) -> None:
    """Each name, metavar, help text, default and [required] of Typer's help record is on the page."""
    run = cli(*path, "--help")
    assert run.exit_code == 0, run.stderr
    text = page(run.stdout)
    ctx = _ctx(path)
    command = ctx.command
    assert squash(f"Usage: dualthreat {' '.join(path)}") in text
    for para in shell.paragraphs(command.help):
        assert squash(para.replace("`", "")) in text
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or getattr(param, "hidden", False):
            continue
        long_, short, negative, metavar, help_text, extras = shell._split_record(param, record)
        assert squash(",".join(long_)) in text, (param.name, record)
        for name in (*short, *negative, metavar):
            assert squash(name) in text, (param.name, name)
        assert squash(help_text.replace("`", "") + extras) in text, (param.name, record)
    if isinstance(command, typer.core.TyperGroup):
        for name in command.list_commands(ctx):
            assert name in run.stdout


def test_help_shows_the_defaults_and_required_marks_typer_computes() -> None:
    text = page(cli("fetch", "gdelt", "--help").stdout)
    for part in ("*--start<str>First day, YYYY-MM-DD.[required]", "--version<int>", "[default: 2]",
                 "--ingest--no-ingestIngest what was fetched.[default: ingest]", "--format-f<table|csv|json>",
                 "[default: table]", "[default: 60.0]"):
        assert squash(part) in text, part
    text = page(cli("ingest", "--help").stdout)
    assert "Arguments" in text and squash("*kind<str>Whatthefileshold:indicators:") in text


def test_help_lines_fit_the_width_and_colours_only_when_asked() -> None:
    ctx = _ctx(("events", "monthly"))
    for width in (40, 60, 100, 160):
        plain = shell.render_help(ctx.command, ctx, colour=False, width=width)
        assert max(len(line) for line in plain.splitlines()) <= width, width
        assert "\x1b[" not in plain
    coloured = shell.render_help(ctx.command, ctx, colour=True, width=100)
    assert "\x1b[1;36m--engine\x1b[0m" in coloured  # options bold cyan, as Typer's Rich help
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == shell.render_help(ctx.command, ctx, colour=False, width=100)


def test_colour_follows_the_terminal_and_the_usual_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    for var in ("NO_COLOR", "FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "_TYPER_FORCE_DISABLE_TERMINAL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert shell.use_colour(Tty()) and not shell.use_colour(open(os.devnull, "w"))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not shell.use_colour(Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert shell.use_colour(open(os.devnull, "w"))


# -----------------------------------------------------------------------------------------------------------
# errors: the option, what is wrong, what to do next; exit status 2


ERRORS = [
    (["threats", "--from", "2010-13"],
     ["Usage: dualthreat threats [OPTIONS]", "Try 'dualthreat threats --help' for help.",
      "Invalid value for '--from': '2010-13' is not a month (YYYY-MM, e.g. 2010-09)"]),
    (["threats", "--explain", "June"], ["Invalid value for '--explain': 'June' is not a month (YYYY-MM"]),
    (["triangle", "--from", "20x0"], ["Invalid value for '--from': '20x0' is not a year or a month (YYYY or YYYY-MM"]),
    (["fetch", "gdelt", "--start", "2016-02-30", "--end", "2016-03-01"],
     ["Invalid value for '--start': '2016-02-30' is not a date (YYYY-MM-DD"]),
    (["nosuch"], ["Usage: dualthreat [OPTIONS] COMMAND [ARGS]...", "Try 'dualthreat --help' for help.",
                  "No such command 'nosuch'."]),
    (["threts"], ["No such command 'threts'. Did you mean 'threats'"]),
    (["posture", "--ally"], ["Usage: dualthreat posture [OPTIONS]", "Try 'dualthreat posture --help' for help.",
                             "Option '--ally' requires an argument."]),
    (["threats", "--format", "xml"],
     ["Invalid value for '--format' / '-f'", "'xml' is not one of 'table', 'csv', 'json'."]),
    (["scenario", "run", "x", "--draws", "1"], ["Invalid value for '--draws'", "greater than or equal to 2"]),
    (["fetch", "gdelt"], ["Try 'dualthreat fetch gdelt --help' for help.", "Missing option '--start'."]),
    (["threats", "extra"], ["Got unexpected extra argument(s) (extra)"]),
    (["threats", "--nosuch"], ["No such option: --nosuch"]),
    (["ingest"], ["Missing argument 'kind'."]),
    (["data"], ["Usage: dualthreat data"]),  # a group without its command: its help, on stdout
]


@pytest.mark.parametrize("args,says", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_usage_errors_name_the_option_and_what_to_do(args: list[str], says: list[str]) -> None:
    run = cli(*args)
    assert run.exit_code == 2, (run.stdout, run.stderr)
    text = page(run.stdout if args == ["data"] else run.stderr)
    for part in says:
        assert squash(part) in text, (part, run.stderr)
    if args != ["data"]:
        assert "Error" in run.stderr and run.stdout == ""


def test_an_error_inside_a_command_keeps_its_exit_status(tmp_path: Path) -> None:
    """typer.Exit from a command (fail(), status 1 or 2) still leaves with that status."""
    run = cli("data", "list", "--store", tmp_path / "none.duckdb")
    assert run.exit_code == 1 and "error:" in run.stderr
    run = cli("ingest", "nosuchkind", tmp_path)
    assert run.exit_code == 2 and "unknown kind 'nosuchkind'" in run.stderr


def test_only_typer_exit_sets_the_exit_status() -> None:
    """As in click's standalone mode: a command's return value is not its exit status, typer.Exit's code is, and a
    usage error is 2 (the shell runs Typer non-standalone to draw the errors itself)."""
    from typer.testing import CliRunner

    small = typer.Typer()

    @small.command()
    def three() -> int:
        return 3

    @small.command()
    def leave(code: int = 0) -> None:
        raise typer.Exit(code)

    shell.adopt(small)
    runner = CliRunner()
    assert runner.invoke(small, ["three"]).exit_code == 0
    assert [runner.invoke(small, ["leave", "--code", c]).exit_code for c in ("0", "1", "4")] == [0, 1, 4]
    bad = runner.invoke(small, ["leave", "--code", "x"])
    assert bad.exit_code == 2 and "Invalid value for '--code'" in bad.stderr
    assert isinstance(get_command(small), shell.Group)


def test_commands_still_get_typers_values(tmp_path: Path) -> None:
    """Values the deferred coercion leaves to Typer (an enum from text, a path) arrive as Typer makes them."""
    run = cli("theater", "list", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert "northeast_asia" in [r["name"] for r in run.json()]
    run = cli("theater", "--format", "csv")
    assert run.exit_code == 0 and run.stdout.startswith("component,indicator,")


# -----------------------------------------------------------------------------------------------------------
# the deferred coercion gives Typer's values


def _samples(param):  # noqa: ANN001, ANN202
    yield None
    if param.default is not None and not callable(param.default):
        yield param.default
    desc = param.type_descriptor
    if desc.annotation is str and not (param.multiple or param.nargs == -1):
        yield "2010-09"
    if isinstance(desc.annotation, type) and desc.annotation in (int, float):
        yield desc.annotation(5)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "dualthreat")
def test_the_deferred_coercion_returns_what_typers_returns(path: tuple[str, ...]) -> None:
    from typer._coercion import build_runtime_param

    ctx = _ctx(path)
    for param in ctx.command.get_params(ctx):
        if not isinstance(param, (typer.core.TyperOption, typer.core.TyperArgument)):
            continue
        for value in _samples(param):
            typers = build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=ctx)
            mine = shell.DeferredCoercion(param).coerce(value, param=param, ctx=ctx)
            assert (type(mine), mine) == (type(typers), typers), (param.name, value)


def test_the_deferred_coercion_hands_other_values_to_typer() -> None:
    ctx = _ctx(("threats",))
    fmt = next(p for p in ctx.command.get_params(ctx) if p.name == "fmt")
    fmt._runtime_param = None
    shell.defer_coercion([fmt])
    assert isinstance(fmt._runtime_param, shell.DeferredCoercion)
    assert fmt.process_value(ctx, "json").value == "json"  # text to the enum: Typer's own coercion
    assert not isinstance(fmt._runtime_param, shell.DeferredCoercion)  # which now stands in the slot
    with pytest.raises(typer.BadParameter, match="'xml' is not one of"):
        fmt.process_value(ctx, "xml")


# -----------------------------------------------------------------------------------------------------------
# start-up in a fresh interpreter: what is not imported (a check of sys.modules, not a timing)

AVOIDED = ("pydantic", "pydantic_core", "typer.rich_utils", "rich.markdown", "markdown_it", "rich.console",
           "rich.traceback")


STARTS = [(["--help"], 0), (["threats", "--help"], 0), (["events", "monthly", "--help"], 0),
          (["threats", "--from", "2010-13"], 2), (["nosuch"], 2), (["posture", "--ally"], 2), (["fetch", "gdelt"], 2),
          (["threats", "extra"], 2), ([], 2)]


@pytest.mark.parametrize("args,status", STARTS, ids=[" ".join(a) or "(no arguments)" for a, _ in STARTS])
def test_help_and_errors_import_neither_pydantic_nor_richs_console(tmp_path: Path, args: list[str],
                                                                   status: int) -> None:
    out = tmp_path / "modules.json"
    code = (f"import atexit, json, sys\natexit.register(lambda: open({str(out)!r}, 'w').write(json.dumps("
            f"sorted(m for m in {AVOIDED!r} if m in sys.modules))))\n"
            "from dualthreat.cli import app\napp(sys.argv[1:], prog_name='dualthreat')\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == status, proc.stderr[-2000:]
    assert json.loads(out.read_text()) == []


def test_the_console_script_and_typers_plain_switch() -> None:
    """The installed script: the same help and errors; with TYPER_USE_RICH=0, click's plain ones (still the
    same statuses and messages)."""
    env = {**os.environ, "COLUMNS": "100"}
    run = subprocess.run([*dualthreat_command(), "threats", "--from", "2010-13"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 2 and "╭─ Error" in run.stderr
    assert squash("'2010-13' is not a month (YYYY-MM, e.g. 2010-09)") in page(run.stderr)
    plain = {**env, "TYPER_USE_RICH": "0"}
    run = subprocess.run([*dualthreat_command(), "--help"], capture_output=True, text=True, env=plain, timeout=120)
    assert run.returncode == 0 and "Commands:" in run.stdout and "╭" not in run.stdout
    run = subprocess.run([*dualthreat_command(), "threats", "--from", "2010-13"], capture_output=True, text=True,
                         env=plain, timeout=120)
    assert run.returncode == 2 and "╭" not in run.stderr
    assert "Invalid value for '--from': '2010-13' is not a month (YYYY-MM, e.g. 2010-09)" in run.stderr
