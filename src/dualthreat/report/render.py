"""Renderers: one self-contained HTML file (Vega-Lite and its JavaScript inlined, no request leaves the
file), or Markdown with SVG charts beside it. Free text from the data is escaped (Jinja2 autoescape)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

from markupsafe import Markup

from dualthreat import cache_dir, write_cache_file
from dualthreat.report.build import Report

VEGA_LITE_VERSION = "6.4"

_BUILD_BUNDLE = ("import sys, vl_convert; "
                 "sys.stdout.buffer.write(vl_convert.javascript_bundle(vl_version=sys.argv[1]).encode('utf-8'))")


def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one ES module (vl-convert's ``javascript_bundle``), the script the
    report inlines and the dashboard serves. Kept in :func:`dualthreat.cache_dir` (named by the vl-convert and
    Vega-Lite versions, with its SHA-256 beside it); on a miss it is built in a child process, because vl-convert
    starts a V8 engine for it that would stay in this process (about 120 MiB of resident memory, 1.6 s)."""
    version = metadata.version("vl-convert-python")
    cached = cache_dir() / f"vega-embed-vl{VEGA_LITE_VERSION}-vlc{version}.js"
    digest = cached.with_suffix(".sha256")
    try:
        data = cached.read_bytes()
        if hashlib.sha256(data).hexdigest() == digest.read_text().strip():
            return data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    # -P: not the working folder first on the path; the path of this process, so that the child finds what it does
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run([sys.executable or "python3", "-P", "-c", _BUILD_BUNDLE, VEGA_LITE_VERSION],
                              capture_output=True, env=env, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"vl-convert could not build the Vega-Lite bundle: {exc}") from exc
    if done.returncode:
        raise RuntimeError("vl-convert could not build the Vega-Lite bundle: "
                           f"{done.stderr.decode('utf-8', 'replace').strip()[-500:]}")
    data = done.stdout
    if write_cache_file(cached, data):
        write_cache_file(digest, hashlib.sha256(data).hexdigest().encode("ascii"))
    return data.decode("utf-8")


def _json_safe(text: str) -> str:
    """JSON that cannot close the <script> element it is inlined in ("<\\/" is the same string in JSON)."""
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def _js_safe(code: str) -> str:
    """JavaScript that cannot close its <script> element: only "</script" and "<!--" are rewritten, so that
    regular-expression literals such as /</g keep their meaning."""
    import re

    return re.sub(r"<(/script|!--)", lambda m: "<\\" + m.group(1), code, flags=re.I)


def render_html(report: Report) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(
        resources.files("dualthreat").joinpath("report/templates/report.html.j2").read_text("utf-8"))
    specs = []
    sections = []
    for s in report.sections:
        cs = []
        for cid, caption, chart in s.charts:
            spec = chart.to_dict()
            specs.append({"id": cid, "json": Markup(_json_safe(json.dumps(spec, ensure_ascii=False)))})
            cs.append({"id": cid, "caption": caption})
        sections.append({"id": s.id, "title": s.title, "paragraphs": s.paragraphs, "charts": cs,
                         "tables": [{"title": t.title, "columns": t.columns, "rows": t.rows} for t in s.tables]})
    bundle = Markup(_js_safe(vega_bundle()))
    view = {"title": report.title, "generated": report.generated, "summary": report.summary, "sections": sections}
    return template.render(report=view, chart_specs=specs, vega_bundle=bundle)


def _md_cell(value: object) -> str:
    text = "—" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, out: Path) -> list[Path]:
    """Write ``out`` (Markdown) and its charts as SVG files in ``<out stem>_files/``; return the files."""
    import vl_convert

    files_dir = out.with_name(out.stem + "_files")
    files_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"# {report.title}", "", f"_Generated {report.generated}._", "", "## Summary", ""]
    lines += [p + "\n" for p in report.summary]
    written = []
    for s in report.sections:
        lines += [f"## {s.title}", ""]
        lines += [p + "\n" for p in s.paragraphs]
        for cid, caption, chart in s.charts:
            svg = files_dir / f"{cid}.svg"
            svg.write_text(vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=VEGA_LITE_VERSION), "utf-8")
            written.append(svg)
            lines += [f"![{caption}]({files_dir.name}/{svg.name})", ""]
        for t in s.tables:
            lines += [f"**{t.title}**", "", "| " + " | ".join(t.columns) + " |",
                      "|" + "---|" * len(t.columns)]
            lines += ["| " + " | ".join(_md_cell(r.get(c)) for c in t.columns) + " |" for r in t.rows]
            lines.append("")
    out.write_text("\n".join(lines), "utf-8")
    return [out, *written]
