"""The store the dashboard's tests serve: the default dataset, with the decision episodes cut to the first
``EPISODES`` by date (so that the out-of-time forecasts take seconds, not minutes) and hostile free text in the
places the pages show it: an episode's decision and source, a curated figure's source title and URL. The
hostile figure repeats a stored row's value for the same period, so the fit is what the real row gives."""

from __future__ import annotations

import socket
from pathlib import Path

import duckdb

EPISODES = 14  # 10 earlier episodes are needed before one is scored (episodes.MIN_TRAIN)
HOSTILE = '<script>window.__pwned = 1; alert("x")</script><img src=x onerror="window.__pwned=2">'
HOSTILE_URL = "javascript:window.__pwned=3"
HOSTILE_EPISODE = "X999"


def make_web_store(base_path: Path, dest: Path) -> Path:
    import shutil

    shutil.copyfile(base_path, dest)
    con = duckdb.connect(str(dest))
    try:
        keep = [r[0] for r in con.execute("SELECT episode_id FROM episodes ORDER BY date, episode_id LIMIT ?",
                                          [EPISODES]).fetchall()]
        con.execute(f"DELETE FROM episodes WHERE episode_id NOT IN ({', '.join('?' * len(keep))})", keep)
        con.execute("INSERT INTO episodes (episode_id, date, date_precision, actor, counterpart, domain, decision, "
                    "outcome, direction, source_title, dataset, source_file, source_line, source_url) VALUES "
                    "(?, DATE '2010-06-01', 'day', 'KOR', 'USA', 'alliance_scope', ?, 'test', 'toward_us', ?, "
                    "'test', 'test.csv', 1, ?)", [HOSTILE_EPISODE, HOSTILE, HOSTILE, HOSTILE_URL])
        con.execute("INSERT INTO indicators SELECT series, actor, target, period_type, period, start_date, end_date, "
                    "value, unit, status, ?, source_date, note, dataset, 'hostile.csv', 1, ? FROM indicators "
                    "WHERE series = 'jasdf_scrambles' AND actor = 'CHN' AND target = 'JPN' AND status = 'firm' "
                    "ORDER BY end_date DESC LIMIT 1",
                    [HOSTILE, HOSTILE_URL])
    finally:
        con.close()
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
