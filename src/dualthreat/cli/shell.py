"""How the command line looks and starts: its help pages and usage errors, drawn as Typer's Rich help draws them
(coloured panels of arguments, options and commands, the error in a red panel), without the parts of Typer and
Rich that cost most of the start-up.

Measured with ``python -X importtime`` (bench/RESULTS.md, "Start-up"): Typer's Rich help (``typer.rich_utils``)
imports ``rich.markdown`` (markdown-it), ``rich.traceback``, ``rich.pretty`` and ``rich.columns`` whatever the
markup mode; ``rich.console``, ``rich.table`` and ``rich.panel`` alone take about a third of what importing Typer
and Rich takes; and Typer coerces every parameter it processes through a pydantic ``TypeAdapter``, built on first
use, even for an option left unset (the root group's unset ``--install-completion`` is enough to import pydantic
for any subcommand). Here:

* :class:`Group` and :class:`Command` (every command of the app: :func:`adopt`) write their help with
  :func:`render_help` and their usage errors with :func:`render_error`: plain text with ANSI colours (the styles
  of Typer's Rich help), laid out here (:class:`Styled`, :func:`table`, :func:`panel`). They read the
  parameters through click's public ``get_help_record``, so names, metavars, defaults and ``[required]`` are
  Typer's own. ``TYPER_USE_RICH=0`` still gives click's plain help and errors, as Typer documents.
* :class:`DeferredCoercion` answers an unset parameter (``None``), a text parameter given as text and a default
  of the parameter's own type without building the adapter, and hands every other value to Typer's own
  coercion, built as Typer builds it (so its values and messages are Typer's). It sits in the parameter's
  ``_runtime_param`` slot, a private attribute of Typer's ``_TyperParameter``; ``tests/test_cli_startup.py``
  fails if Typer stops reading it (pydantic would be imported again) or changes what it expects of it.

Help text is read as Typer's ``markdown`` mode reads the app's texts: paragraphs separated by a blank line
(rewrapped to the terminal), and `code` in backticks (bold, without the backticks); nothing else is markup.
"""

from __future__ import annotations

import enum
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from typer import core as typer_core
from typer._click import exceptions as click_exceptions

STYLE_OPTION = "bold cyan"
STYLE_SWITCH = "bold green"
STYLE_NEGATIVE = "bold magenta"
STYLE_METAVAR = "bold yellow"
STYLE_USAGE = "yellow"
STYLE_USAGE_COMMAND = "bold"
STYLE_REQUIRED = "red"
STYLE_EXTRA = "dim"
STYLE_CODE = "bold"
STYLE_PANEL_BORDER = "dim"
STYLE_ERROR_BORDER = "red"
STYLE_SUGGESTION = "dim"

_CODE = re.compile(r"`([^`\n]+)`")
_OPTION_WORD = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
_EXTRAS = re.compile(r"^(.*?)((?:\s+\[[^\[\]]*\])+)\s*$", re.DOTALL)  # "help  [default: x]  [required]"


def _rich() -> bool:
    """Typer's switch: ``TYPER_USE_RICH=0`` gives click's plain help and error messages."""
    return typer_core.HAS_RICH


# ---------------------------------------------------------------------------------------------------------
# styled text, panels and tables (ANSI escape codes, as Rich writes them; no Rich import: see the docstring)

_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35",
        "cyan": "36"}


def use_colour(stream: Any) -> bool:  # noqa: ANN401 - a text stream
    """Whether to colour what goes to ``stream``, by the rules Rich and Typer follow: ``NO_COLOR`` never,
    ``FORCE_COLOR``, ``PY_COLORS`` or ``GITHUB_ACTIONS`` always, a dumb terminal never, else a terminal only."""
    env = os.environ
    if env.get("NO_COLOR") or env.get("_TYPER_FORCE_DISABLE_TERMINAL"):
        return False
    if env.get("FORCE_COLOR") or env.get("PY_COLORS") or env.get("GITHUB_ACTIONS"):
        return True
    if env.get("TERM", "").lower() in ("dumb", "unknown"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def page_width() -> int:
    """Typer's ``TERMINAL_WIDTH`` if set, else the terminal's width (``COLUMNS`` first), else 80."""
    width = os.environ.get("TERMINAL_WIDTH", "")
    if width.isdigit() and int(width) > 0:
        return int(width)
    import shutil

    return max(shutil.get_terminal_size((80, 24)).columns, 40)


class Styled:
    """Text with a style per character ("bold cyan", "dim", ...), wrapped at word boundaries and written with
    ANSI escape codes (or without, for a stream that is not coloured)."""

    __slots__ = ("text", "styles")

    def __init__(self, text: str = "", style: str = "") -> None:
        self.text = ""
        self.styles: list[str] = []
        if text:
            self.add(text, style)

    def add(self, text: str, style: str = "") -> Styled:
        self.text += text
        self.styles += [style] * len(text)
        return self

    def extend(self, other: Styled) -> Styled:
        self.text += other.text
        self.styles += other.styles
        return self

    def stylize(self, pattern: re.Pattern[str], style: str, group: int = 0) -> Styled:
        for m in pattern.finditer(self.text):
            for i in range(m.start(group), m.end(group)):
                self.styles[i] = style
        return self

    def __len__(self) -> int:
        return len(self.text)

    def _slice(self, a: int, b: int) -> Styled:
        out = Styled()
        out.text, out.styles = self.text[a:b], self.styles[a:b]
        return out

    def wrap(self, width: int) -> list[Styled]:
        """Lines of at most ``width`` characters, words kept whole unless longer than a line."""
        width = max(width, 1)
        lines: list[list[tuple[int, int]]] = []
        cur: list[tuple[int, int]] = []
        used = 0
        for m in re.finditer(r"\S+", self.text):
            a, b = m.start(), m.end()
            while b - a > width:
                if cur:
                    lines.append(cur)
                    cur, used = [], 0
                lines.append([(a, a + width)])
                a += width
            if cur and used + 1 + (b - a) > width:
                lines.append(cur)
                cur, used = [], 0
            used += (b - a) + (1 if cur else 0)
            cur.append((a, b))
        if cur:
            lines.append(cur)
        out = []
        for words in lines:
            line = Styled()
            for i, (a, b) in enumerate(words):
                if i:
                    line.add(" ")
                line.extend(self._slice(a, b))
            out.append(line)
        return out or [Styled()]

    def render(self, colour: bool) -> str:
        if not colour:
            return self.text
        out, i, n = [], 0, len(self.text)
        while i < n:
            j = i
            while j < n and self.styles[j] == self.styles[i]:
                j += 1
            codes = ";".join(_SGR[w] for w in self.styles[i].split() if w in _SGR)
            out.append(f"\x1b[{codes}m{self.text[i:j]}\x1b[0m" if codes else self.text[i:j])
            i = j
        return "".join(out)


def styled(text: str, style: str = "") -> Styled:
    """``text`` with `code` in bold and the backticks dropped."""
    out = Styled()
    pos = 0
    for m in _CODE.finditer(text):
        out.add(text[pos:m.start()], style)
        out.add(m.group(1), f"{style} {STYLE_CODE}".strip())
        pos = m.end()
    return out.add(text[pos:], style)


Cell = list[Styled]  # a table cell: blocks, each wrapped on its own lines


def table(rows: Sequence[Sequence[Cell]], width: int) -> list[Styled]:
    """Rows of cells laid out as Rich lays out Typer's tables: every column but the last as wide as its widest
    cell (columns empty in every row dropped), two spaces between columns, the last column wrapped in what is
    left (under the others when that is less than 24 characters)."""
    if not rows:
        return []
    ncols = len(rows[0])
    keep = [c for c in range(ncols - 1) if any(sum(len(b) for b in r[c]) for r in rows)]
    widths = {c: max(max((len(b) for b in r[c]), default=0) for r in rows) for c in keep}
    lead = sum(widths.values()) + 2 * len(keep)
    below = width - lead < 24
    out: list[Styled] = []
    for r in rows:
        line = Styled()
        for c in keep:
            cell = r[c][0] if r[c] else Styled()
            line.extend(cell).add(" " * (widths[c] - len(cell) + 2))
        indent = 4 if below else lead
        help_lines = [ln for block in r[-1] for ln in block.wrap(width - indent)]
        if below:
            out.append(line)
            out += [Styled(" " * indent).extend(ln) for ln in help_lines if len(ln)]
            continue
        out.append(line.extend(help_lines[0]) if help_lines else line)
        out += [Styled(" " * lead).extend(ln) for ln in help_lines[1:]]
    return out


def panel(title: str, lines: Sequence[Styled], width: int, border: str) -> list[Styled]:
    """``lines`` in a box with rounded corners and ``title`` on its top edge, ``width`` characters wide."""
    inner = width - 4
    head = f" {title} "
    out = [Styled("╭─", border).add(head, border).add("─" * max(width - 3 - len(head), 0) + "╮", border)]
    for ln in lines:
        for part in ([ln] if len(ln) <= inner else ln.wrap(inner)):
            out.append(Styled("│ ", border).extend(part).add(" " * (inner - len(part))).add(" │", border))
    out.append(Styled("╰" + "─" * (width - 2) + "╯", border))
    return out


# ---------------------------------------------------------------------------------------------------------
# the help page


def paragraphs(text: str | None) -> list[str]:
    """A help text's paragraphs (separated by a blank line), each on one line."""
    out = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip() and ln.strip() != "\b"]
        if lines:
            out.append(" ".join(lines))
    return out


def short_help(command: Any) -> str:  # noqa: ANN401 - a click command
    """What the commands panel says of a command: its short help, else the first paragraph of its help."""
    if command.short_help:
        return command.short_help
    first = paragraphs(command.help)
    return first[0] if first else ""


def _split_record(param: Any, record: tuple[str, str]) -> tuple[list[str], list[str], list[str], str, str, str]:
    """A parameter's help record (click's public ``get_help_record``: names and metavar, help and extras) as
    long names, short names, negative names, metavar, help and extras ("[default: x]", "[required]")."""
    names, help_text = record
    secondary = set(getattr(param, "secondary_opts", ()))
    own = set(getattr(param, "opts", ())) | secondary
    tokens = names.replace(",", " ").split()
    long_: list[str] = []
    short: list[str] = []
    negative: list[str] = []
    metavar: list[str] = []
    if param.param_type_name == "argument":
        long_ = tokens[:1] or [param.name or ""]
        metavar = tokens[1:]
    else:
        for tok in tokens:
            if tok == "/":
                continue
            if tok in own:
                (negative if tok in secondary else long_ if tok.startswith("--") else short).append(tok)
            else:
                metavar.append(tok)
    m = _EXTRAS.match(help_text or "")
    text, extras = (m.group(1), m.group(2)) if m else (help_text or "", "")
    return long_, short, negative, " ".join(metavar), text.strip(), " ".join(re.findall(r"\[[^\[\]]*\]", extras))


Row = tuple[Any, tuple[str, str]]  # a parameter and its help record


def _params_panels(ctx: Any, params: Iterable[Any]) -> list[tuple[str, list[Row]]]:  # noqa: ANN401
    """The parameters to show, by panel: Arguments, then Options, then any ``rich_help_panel`` of their own."""
    panels: dict[str, list[Row]] = {"Arguments": [], "Options": []}
    for p in params:
        if getattr(p, "hidden", False):
            continue
        record = p.get_help_record(ctx)
        if record is None:
            continue
        default = "Arguments" if p.param_type_name == "argument" else "Options"
        panels.setdefault(getattr(p, "rich_help_panel", None) or default, []).append((p, record))
    return [(title, rows) for title, rows in panels.items() if rows]


def _params_rows(rows: Sequence[Row]) -> list[list[Cell]]:
    out = []
    for p, record in rows:
        long_, short, negative, metavar, text, extras = _split_record(p, record)
        help_cell = [styled(text)] if text else []
        if extras:
            help_cell.append(Styled(extras, STYLE_REQUIRED if extras == "[required]" else STYLE_EXTRA))
        out.append([[Styled("*" if p.required else "", STYLE_REQUIRED)], [Styled(",".join(long_), STYLE_OPTION)],
                    [Styled(",".join(negative), STYLE_NEGATIVE)], [Styled(",".join(short), STYLE_SWITCH)],
                    [Styled(metavar, STYLE_METAVAR)], help_cell])
    return out


def _commands_rows(ctx: Any, group: Any) -> list[list[Cell]]:  # noqa: ANN401
    rows = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is not None and not cmd.hidden:
            text = short_help(cmd)
            rows.append([[Styled(name, STYLE_OPTION)],
                         [styled(("(deprecated) " if cmd.deprecated else "") + text)] if text else []])
    return rows


def render_help(command: Any, ctx: Any, colour: bool | None = None, width: int | None = None) -> str:  # noqa: ANN401
    """The help page of ``command`` (a click command or group) in ``ctx``: usage, help text, a panel of its
    arguments, of its options and, for a group, of its commands, coloured for stdout unless ``colour`` says."""
    colour = use_colour(sys.stdout) if colour is None else colour
    width = width or page_width()
    lines: list[Styled] = [Styled()]
    usage = Styled("Usage: ", STYLE_USAGE).add(ctx.command_path, STYLE_USAGE_COMMAND)
    usage.add(" " + " ".join(command.collect_usage_pieces(ctx)))
    lines += [Styled(" ").extend(ln) for ln in usage.wrap(width - 1)] + [Styled()]
    texts = (["(deprecated)"] if command.deprecated else []) + paragraphs(command.help)
    for para in texts:
        lines += [Styled(" ").extend(ln) for ln in styled(para).wrap(width - 2)] + [Styled()]
    for title, rows in _params_panels(ctx, command.get_params(ctx)):
        lines += panel(title, table(_params_rows(rows), width - 4), width, STYLE_PANEL_BORDER)
    if hasattr(command, "list_commands"):
        rows = _commands_rows(ctx, command)
        if rows:
            lines += panel("Commands", table(rows, width - 4), width, STYLE_PANEL_BORDER)
    for para in paragraphs(command.epilog):
        lines += [Styled(" ").extend(ln) for ln in styled(para).wrap(width - 2)]
    return "\n".join(ln.render(colour) for ln in lines) + "\n"


# ---------------------------------------------------------------------------------------------------------
# errors


def render_error(exc: click_exceptions.ClickException, colour: bool = False, width: int | None = None) -> str:
    """A usage error as Typer shows one: the usage line, how to get help, and the message in a red panel."""
    width = width or page_width()
    lines: list[Styled] = []
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        lines += Styled(ctx.get_usage(), STYLE_USAGE_COMMAND).wrap(width)
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(Styled("Try ", STYLE_SUGGESTION).add(f"'{ctx.command_path} {ctx.help_option_names[0]}'",
                                                             "blue").add(" for help.", STYLE_SUGGESTION))
    message = Styled(exc.format_message()).stylize(_OPTION_WORD, STYLE_OPTION, 1)
    lines += panel("Error", message.wrap(width - 4), width, STYLE_ERROR_BORDER)
    return "\n".join(ln.render(colour) for ln in lines) + "\n"


def show_error(exc: click_exceptions.ClickException) -> None:
    """Write a usage error on stderr (the no-arguments help of a group on stdout, as Typer does)."""
    if isinstance(exc, click_exceptions.NoArgsIsHelpError):
        sys.stdout.write(exc.format_message() + "\n")
        sys.stdout.flush()
        return
    sys.stderr.write(render_error(exc, use_colour(sys.stderr)))
    sys.stderr.flush()


def _run(command: Any, super_main: Any, args: Any, prog_name: Any, complete_var: Any,  # noqa: ANN401
         standalone_mode: bool, extra: dict[str, Any]) -> Any:  # noqa: ANN401
    """``main`` of a :class:`Group` or :class:`Command`: Typer's, with the usage errors shown by
    :func:`show_error`. Typer's is run non-standalone, where it raises usage errors and returns the code of a
    ``typer.Exit``; the command's own result is dropped (:meth:`Command.invoke`), so that, as in standalone mode,
    only ``typer.Exit`` sets the exit status."""
    if not standalone_mode or not _rich():
        return super_main(args=args, prog_name=prog_name, complete_var=complete_var,
                          standalone_mode=standalone_mode, **extra)
    command._drop_result = True
    try:
        code = super_main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
    except click_exceptions.ClickException as exc:
        show_error(exc)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write(Styled("Aborted.", "red").render(use_colour(sys.stderr)) + "\n")
        sys.exit(1)
    finally:
        command._drop_result = False
    sys.exit(code or 0)


# ---------------------------------------------------------------------------------------------------------
# coercion without pydantic where Typer's would change nothing


class DeferredCoercion:
    """Stands in a Typer parameter's ``_runtime_param`` slot until a value needs Typer's own coercion.

    ``None`` (an option left unset) is answered as Typer's ``RuntimeParam.coerce`` answers it (``None``, or
    ``()`` for a list), and a value Typer's adapter would return unchanged (:func:`_unchanged`) is returned;
    anything else builds Typer's coercion (``typer._coercion.build_runtime_param``, as Typer would have on
    first use), which then replaces this object, so its values and error messages are Typer's."""

    __slots__ = ("param",)

    def __init__(self, param: Any) -> None:  # noqa: ANN401 - a TyperOption or TyperArgument
        self.param = param

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:  # noqa: ANN401
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        if not multi and _unchanged(param.type_descriptor, value):
            return value
        from typer._coercion import build_runtime_param

        real = build_runtime_param(param.type_descriptor)
        param._runtime_param = real
        return real.coerce(value, param=param, ctx=ctx)


def _unchanged(desc: Any, value: Any) -> bool:  # noqa: ANN401 - Typer's TypeDescriptor
    """Whether Typer's coercion of one ``value`` (not a list) would return it as it is, known without building
    it: text for a ``str`` parameter, a member of the parameter's own enum (a default), an ``int`` or ``float``
    of the parameter's type within its ``min``/``max`` (a default). Never with a ``parser`` or a file type."""
    info = desc.parameter_info
    ann = desc.annotation
    if info.parser is not None or desc.file_annotation is not None or not isinstance(ann, type):
        return False
    if ann is str:
        return type(value) is str
    if issubclass(ann, enum.Enum):
        return type(value) is ann
    if ann in (int, float) and type(value) is ann:
        return (info.min is None or value >= info.min) and (info.max is None or value <= info.max)
    return False


def defer_coercion(params: Iterable[Any]) -> None:  # noqa: ANN401
    """Put a :class:`DeferredCoercion` in the slot of each Typer parameter whose coercion is not built yet."""
    for p in params:
        if isinstance(p, (typer_core.TyperOption, typer_core.TyperArgument)) and p._runtime_param is None:
            p._runtime_param = DeferredCoercion(p)


# ---------------------------------------------------------------------------------------------------------
# the command classes


def _parse_args(command: Any, super_parse: Any, ctx: Any, args: list[str]) -> list[str]:  # noqa: ANN401
    """Typer's ``parse_args``, with :class:`DeferredCoercion` in each parameter's slot first, and the command's
    context given to a usage error raised without one (click's parser raises "Option '--ally' requires an
    argument." so), so that it too is shown with the command's usage and how to get its help."""
    defer_coercion(command.get_params(ctx))
    try:
        return super_parse(ctx, args)
    except click_exceptions.UsageError as exc:
        if exc.ctx is None:
            exc.ctx = ctx
        raise


class _Drawn:
    """What :class:`Command` and :class:`Group` add to Typer's classes: help and usage errors drawn here, the
    deferred coercion, and the exit status of click's standalone mode."""

    _drop_result = False

    def format_help(self, ctx: Any, formatter: Any) -> None:  # noqa: ANN401
        if not _rich():
            return super().format_help(ctx, formatter)  # type: ignore[misc]
        formatter.write(render_help(self, ctx))
        return None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # noqa: ANN401
        return _parse_args(self, super().parse_args, ctx, args)  # type: ignore[misc]

    def invoke(self, ctx: Any) -> Any:  # noqa: ANN401
        result = super().invoke(ctx)  # type: ignore[misc]
        return None if self._drop_result else result

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,  # noqa: ANN401
             standalone_mode: bool = True, **extra: Any) -> Any:  # noqa: ANN401
        return _run(self, super().main, args, prog_name, complete_var, standalone_mode, extra)  # type: ignore[misc]


class Command(_Drawn, typer_core.TyperCommand):
    """A command whose help and usage errors are drawn by this module."""


class Group(_Drawn, typer_core.TyperGroup):
    """A group whose help and usage errors are drawn by this module."""


def adopt(app: typer.Typer) -> typer.Typer:
    """Make every command and group registered under ``app`` (its modules' apps too) a :class:`Command` or
    :class:`Group`, as ``cls=`` on each ``app.command()`` and ``typer.Typer()`` would; a class of another kind
    given explicitly is kept. Returns ``app``."""
    from typer.models import DefaultPlaceholder

    if isinstance(app.info.cls, DefaultPlaceholder) or app.info.cls is None:
        app.info.cls = Group
    for info in app.registered_commands:
        if info.cls is None or info.cls is typer_core.TyperCommand:  # app.command() stores TyperCommand by default
            info.cls = Command
    for group in app.registered_groups:
        if isinstance(group.cls, DefaultPlaceholder) or group.cls is None:
            group.cls = Group
        if group.typer_instance is not None:
            adopt(group.typer_instance)
    return app
