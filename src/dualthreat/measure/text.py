"""Dictionary scoring of texts: how often each word list's terms occur, per 1,000 words, with an interval.

Word lists are versioned TOML files in ``dualthreat/resources/wordlists/`` (``salience_v1.toml``, ...); each
category says what it measures and lists its terms. Matching rules (the same for every list):

* case-insensitive, except the terms listed under ``case_sensitive`` (e.g. ``US``, which would otherwise match
  the pronoun "us");
* whole words: a match may not be preceded or followed by a letter, digit or underscore where the term itself
  begins or ends with one (a word-boundary test that also works for terms that begin or end with punctuation,
  such as ``U.S.`` or ``$US``);
* a space in a term matches any run of whitespace (line breaks included), an apostrophe matches ``'`` or
  ``’``, and a trailing ``*`` matches any word ending (``threat*``: threat, threats, threaten, threatening);
* every occurrence counts once: terms of a category are tried longest first at each position and matches do
  not overlap ("United States of America" is one mention, not also "America");
* the spans of a category's ``exclude`` phrases are blanked out first ("Latin America" is not a mention of the
  United States, "$US" is a currency).

Words are runs of letters, with internal apostrophes or hyphens ("people's", "self-defence"); numbers and
punctuation are not words. Rates are per 1,000 words.

Interval: the count is treated as Poisson with mean ``rate x words``, and the exact (Garwood 1936,
"Fiducial limits for the Poisson distribution", *Biometrika* 28) interval of the count, divided by the words,
gives the rate's interval. Mentions cluster (a paragraph on North Korea names it several times), so by default
the interval is widened by the dispersion of the counts over consecutive blocks of ``BLOCK_WORDS`` words of
the same text(s) (quasi-Poisson: the Pearson statistic over the blocks divided by its degrees of freedom,
floored at 1; the interval is computed for the count divided by that factor). ``dispersion=False`` gives the
plain Poisson interval.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

LEVEL = 0.90
BLOCK_WORDS = 100
WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
DEFAULT_WORDLIST = "salience_v1"


class WordlistError(ValueError):
    """A word-list file is invalid; the message names the file and key."""


@dataclass(frozen=True)
class Category:
    name: str
    measures: str
    terms: tuple[str, ...]
    case_sensitive: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @cached_property
    def matcher(self) -> _Matcher:
        return _Matcher(self.terms, self.case_sensitive)

    @cached_property
    def exclude_matcher(self) -> _Matcher | None:
        return _Matcher(self.exclude, ()) if self.exclude else None


@dataclass(frozen=True)
class Wordlist:
    name: str
    version: str
    description: str
    categories: tuple[Category, ...]
    file: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}_v{self.version}"

    def category(self, name: str) -> Category:
        for c in self.categories:
            if c.name == name:
                return c
        raise KeyError(f"word list {self.id} has no category {name!r} (it has {[c.name for c in self.categories]})")


def _term_regex(term: str) -> tuple[str, bool]:
    """The regex of one term, and whether it starts with a word character (then it needs ``(?<!\\w)``)."""
    if not term.strip():
        raise WordlistError("empty term")
    wildcard = term.endswith("*")
    core = term[:-1] if wildcard else term
    if not core.strip():
        raise WordlistError(f"term {term!r} has nothing before its wildcard")
    parts = []
    for ch in core:
        if ch.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif ch in "'’":
            parts.append("['’]")
        else:
            parts.append(re.escape(ch))
    body = "".join(parts) + (r"\w*" if wildcard else "")
    # whole words: no letter, digit or underscore may touch a term at an edge that is itself a word character
    # (so "U.S." may be followed by anything, and "US$" and "$US" still stop at their letters)
    after = r"(?!\w)" if wildcard or re.match(r"\w", core[-1]) else ""
    return body + after, bool(re.match(r"\w", core))


class _Matcher:
    """Non-overlapping occurrences of a set of terms, the longest term winning at any position.

    Terms are compiled into at most two patterns (case-insensitive and case-sensitive); within each, the terms
    that start with a word character share one ``(?<!\\w)`` test, which lets the engine skip positions inside
    words quickly. The matches of the two patterns are merged leftmost-longest."""

    def __init__(self, terms: Iterable[str], case_sensitive: Iterable[str]) -> None:
        self.patterns = [p for p in (self._compile(terms, re.IGNORECASE), self._compile(case_sensitive, 0)) if p]

    @staticmethod
    def _compile(terms: Iterable[str], flags: int) -> re.Pattern[str] | None:
        # longest first, so that at one position the longest term wins ("United States of America" over "America")
        ordered = sorted(set(terms), key=lambda t: (-len(t.rstrip("*")), t))
        if not ordered:
            return None
        compiled = [_term_regex(t) for t in ordered]
        word = [r for r, w in compiled if w]
        other = [r for r, w in compiled if not w]
        alts = ([r"(?<!\w)(?:" + "|".join(word) + ")"] if word else []) + other
        return re.compile("|".join(alts), flags)

    def find(self, text: str) -> list[re.Match[str]]:
        if len(self.patterns) == 1:
            return list(self.patterns[0].finditer(text))
        found = sorted((m for p in self.patterns for m in p.finditer(text)), key=lambda m: (m.start(), -m.end()))
        out, end = [], -1
        for m in found:
            if m.start() >= end:
                out.append(m)
                end = m.end()
        return out


def parse_wordlist(data: Mapping, file: str = "<wordlist>") -> Wordlist:
    for key in ("name", "version", "description", "category"):
        if key not in data:
            raise WordlistError(f"{file}: {key}: missing")
    cats = []
    for name, raw in data["category"].items():
        where = f"{file}: category.{name}"
        if not isinstance(raw, dict):
            raise WordlistError(f"{where}: must be a table")
        bad = set(raw) - {"measures", "terms", "case_sensitive", "exclude"}
        if bad:
            raise WordlistError(f"{where}.{sorted(bad)[0]}: unknown key")
        if not isinstance(raw.get("measures"), str) or not raw["measures"]:
            raise WordlistError(f"{where}.measures: missing (say what the list measures)")
        lists = {}
        for key in ("terms", "case_sensitive", "exclude"):
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise WordlistError(f"{where}.{key}: must be a list of non-empty strings")
            lists[key] = tuple(value)
        if not lists["terms"] and not lists["case_sensitive"]:
            raise WordlistError(f"{where}.terms: no terms")
        cats.append(Category(name, raw["measures"], lists["terms"], lists["case_sensitive"], lists["exclude"]))
    wl = Wordlist(str(data["name"]), str(data["version"]), str(data["description"]), tuple(cats), file)
    for c in wl.categories:  # compile once here, so that a bad term fails at load time
        c.matcher  # noqa: B018
        c.exclude_matcher  # noqa: B018
    return wl


@cache
def load_wordlist(name_or_path: str = DEFAULT_WORDLIST) -> Wordlist:
    """A packaged word list by name (``salience_v1``) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        text, file = path.read_text("utf-8"), str(path)
    else:
        res = resources.files("dualthreat").joinpath(f"resources/wordlists/{name_or_path}.toml")
        if not res.is_file():
            raise WordlistError(f"no word list {name_or_path!r} (packaged lists: {', '.join(packaged_wordlists())})")
        text, file = res.read_text("utf-8"), f"resources/wordlists/{name_or_path}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WordlistError(f"{file}: not valid TOML: {exc}") from None
    return parse_wordlist(data, file)


def packaged_wordlists() -> list[str]:
    folder = resources.files("dualthreat").joinpath("resources/wordlists")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


# ------------------------------------------------------------------------------------------------------------
def words(text: str) -> list[re.Match[str]]:
    """The words of a text (see module notes)."""
    return list(WORD_RE.finditer(text))


def _blank(text: str, matcher: _Matcher | None) -> str:
    if matcher is None:
        return text
    found = matcher.find(text)
    if not found:
        return text
    parts, pos = [], 0
    for m in found:
        parts.append(text[pos:m.start()])
        parts.append(" " * (m.end() - m.start()))
        pos = m.end()
    parts.append(text[pos:])
    return "".join(parts)


def matches(text: str, category: Category) -> list[re.Match[str]]:
    """The occurrences of a category's terms in ``text`` (exclusions removed)."""
    return category.matcher.find(_blank(text, category.exclude_matcher))


@dataclass(frozen=True)
class TextCounts:
    """Counts of one text: words, and per category the total and the counts in each block of words."""

    words: int
    counts: dict[str, int]
    blocks: dict[str, np.ndarray]  # per category, counts per block
    block_words: np.ndarray  # words per block


def count_text(text: str, wordlist: Wordlist, block_words: int = BLOCK_WORDS) -> TextCounts:
    ws = words(text)
    starts = [m.start() for m in ws]
    n_blocks = max(1, -(-len(ws) // block_words))
    bw = np.full(n_blocks, block_words, dtype=float)
    bw[-1] = len(ws) - block_words * (n_blocks - 1) if ws else 0
    counts, blocks = {}, {}
    for c in wordlist.categories:
        found = matches(text, c)
        b = np.zeros(n_blocks)
        for m in found:
            i = max(bisect.bisect_right(starts, m.start()) - 1, 0)
            b[min(i // block_words, n_blocks - 1)] += 1
        counts[c.name] = len(found)
        blocks[c.name] = b
    return TextCounts(len(ws), counts, blocks, bw)


def poisson_interval(count: float, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson mean given an observed count (non-integer counts allowed)."""
    from scipy.stats import chi2

    alpha = 1 - level
    lo = 0.0 if count <= 0 else float(chi2.ppf(alpha / 2, 2 * count) / 2)
    hi = float(chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2)
    return lo, hi


def dispersion(block_counts: np.ndarray, block_words: np.ndarray) -> float:
    """Pearson dispersion of block counts around a constant rate (floored at 1; 1 if it cannot be estimated)."""
    keep = block_words > 0
    c, n = block_counts[keep], block_words[keep]
    if len(c) < 2 or c.sum() == 0:
        return 1.0
    expected = c.sum() * n / n.sum()
    phi = float(((c - expected) ** 2 / expected).sum() / (len(c) - 1))
    return max(1.0, phi)


def rate(count: int, n_words: int, phi: float = 1.0, level: float = LEVEL) -> tuple[float, float, float]:
    """Rate per 1,000 words and its interval (quasi-Poisson with dispersion ``phi``)."""
    if n_words <= 0:
        return float("nan"), float("nan"), float("nan")
    lo, hi = poisson_interval(count / phi, level)
    scale = 1000 * phi / n_words
    return 1000 * count / n_words, lo * scale, hi * scale


def score_text(text: str, wordlist: Wordlist | str = DEFAULT_WORDLIST, dispersion_adjusted: bool = True,
               level: float = LEVEL) -> pd.DataFrame:
    """One row per category: ``count``, ``words``, ``rate`` per 1,000 words, ``lower``/``upper``, ``dispersion``."""
    wl = load_wordlist(wordlist) if isinstance(wordlist, str) else wordlist
    tc = count_text(text, wl)
    return _rows(wl, [tc], dispersion_adjusted, level)


def _rows(wl: Wordlist, parts: list[TextCounts], dispersion_adjusted: bool, level: float) -> pd.DataFrame:
    n_words = sum(p.words for p in parts)
    bw = np.concatenate([p.block_words for p in parts]) if parts else np.zeros(0)
    rows = []
    for c in wl.categories:
        count = sum(p.counts[c.name] for p in parts)
        phi = dispersion(np.concatenate([p.blocks[c.name] for p in parts]), bw) if dispersion_adjusted else 1.0
        r, lo, hi = rate(count, n_words, phi, level)
        rows.append({"category": c.name, "count": count, "words": n_words, "rate": r, "lower": lo, "upper": hi,
                     "dispersion": phi, "wordlist": wl.id})
    return pd.DataFrame(rows)


def score_texts(texts: pd.DataFrame, by: list[str], wordlist: Wordlist | str = DEFAULT_WORDLIST,
                text_column: str = "text", dispersion_adjusted: bool = True, level: float = LEVEL) -> pd.DataFrame:
    """Score a table of texts, pooling the texts of each group ``by`` (e.g. ``["iso3", "year"]``): counts and
    words are summed over the group's texts; one row per group and category, plus ``texts`` (how many)."""
    wl = load_wordlist(wordlist) if isinstance(wordlist, str) else wordlist
    frames = []
    for key, g in texts.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        parts = [count_text(t or "", wl) for t in g[text_column]]
        out = _rows(wl, parts, dispersion_adjusted, level)
        for col, val in zip(by, key):
            out.insert(list(by).index(col), col, val)
        out["texts"] = len(g)
        frames.append(out)
    cols = [*by, "category", "count", "words", "rate", "lower", "upper", "dispersion", "texts", "wordlist"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
