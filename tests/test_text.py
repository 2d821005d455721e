"""The dictionary scorer on small texts with known counts, rates and intervals; the word-list files."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import chi2

from dualthreat.measure.text import (
    WordlistError,
    count_text,
    dispersion,
    load_wordlist,
    matches,
    packaged_wordlists,
    parse_wordlist,
    poisson_interval,
    rate,
    score_text,
    score_texts,
    words,
)

TEXT = (
    "The U.S. and the United States of America met in Washington. Latin America objected; Japan gave $US 10 "
    "million and US$5 million. Threats, threatening words and a provocation! North Korea, the DPRK and the "
    "Democratic People's Republic of Korea. Indo-China refugees; China and the South China Sea. Let us go. USA."
)


def counts(text: str) -> dict[str, int]:
    s = score_text(text, "salience_v1", dispersion_adjusted=False)
    return dict(zip(s.category, s["count"]))


def test_known_counts_in_a_small_text():
    c = counts(TEXT)
    # U.S., United States of America (one mention, not also "America"), Washington, USA; not Latin America,
    # $US, US$ or the pronoun "us"
    assert c["united_states"] == 4
    # North Korea, DPRK, Democratic People's Republic of Korea (once, not also "Korea")
    assert c["north_korea"] == 3
    # China, South China Sea; not Indo-China
    assert c["china"] == 2
    # Threats, threatening, provocation
    assert c["threat"] == 3
    assert c["missile_nuclear"] == 0 and c["alliance"] == 0


def test_word_count_and_rate_per_thousand_words():
    # words are runs of letters with internal apostrophes or hyphens: numbers and punctuation are not words
    assert [m.group(0) for m in words("People's self-defence: 1,000 U.S. troops!")] == \
        ["People's", "self-defence", "U", "S", "troops"]
    text = " ".join(["China"] * 3 + ["word"] * 997)
    s = score_text(text, "salience_v1", dispersion_adjusted=False).set_index("category")
    assert s.loc["china", "words"] == 1000 and s.loc["china", "count"] == 3
    assert s.loc["china", "rate"] == pytest.approx(3.0)
    assert s.loc["threat", "rate"] == 0.0


def test_matching_is_case_insensitive_except_for_listed_acronyms():
    assert counts("CHINA, china and China")["china"] == 3
    assert counts("they told us, and US officials")["united_states"] == 1  # "us" is a pronoun, "US" a state
    assert counts("the dprk")["north_korea"] == 0  # DPRK is case-sensitive


def test_whole_words_line_breaks_curly_apostrophes_and_wildcards():
    assert counts("Chinatown and Sino-Japanese")["china"] == 0
    assert counts("the United\nStates and the United   States")["united_states"] == 2
    assert counts("the Democratic People’s Republic of Korea")["north_korea"] == 1
    assert counts("threat threats threaten threatened threatening")["threat"] == 5
    assert counts("ballistic missiles and a nuclear test; nuclear testing")["missile_nuclear"] == 4


def test_exclusions_are_removed_before_counting():
    assert counts("Central American and South American states, the Americas")["united_states"] == 0
    assert counts("Indo-China and Indo-Chinese refugees")["china"] == 0


def test_poisson_interval_is_garwoods_exact_interval():
    assert poisson_interval(0) == pytest.approx((0.0, chi2.ppf(0.95, 2) / 2))  # upper = -ln(0.05) = 2.9957
    assert poisson_interval(0)[1] == pytest.approx(2.995732, abs=1e-6)
    lo, hi = poisson_interval(5)
    assert lo == pytest.approx(chi2.ppf(0.05, 10) / 2) and hi == pytest.approx(chi2.ppf(0.95, 12) / 2)
    assert lo == pytest.approx(1.9701, abs=1e-4) and hi == pytest.approx(10.5130, abs=1e-4)
    # 5 mentions in 2,000 words: 2.5 per 1,000, interval [0.985, 5.256]
    r, rlo, rhi = rate(5, 2000)
    assert (r, rlo, rhi) == pytest.approx((2.5, 0.98505, 5.25652), abs=1e-4)


def test_clustered_mentions_widen_the_interval():
    filler = ["word"] * 99
    spread = " ".join((["China"] + filler) * 10)  # one mention in each block of 100 words
    clustered = " ".join(["China"] * 10 + ["word"] * 990)  # all ten in the first block
    s, c = score_text(spread, "salience_v1").set_index("category"), score_text(clustered, "salience_v1").set_index(
        "category")
    assert s.loc["china", "count"] == c.loc["china", "count"] == 10
    assert s.loc["china", "rate"] == c.loc["china", "rate"] == pytest.approx(10.0)
    assert s.loc["china", "dispersion"] == 1.0
    assert c.loc["china", "dispersion"] == pytest.approx(10.0)  # Pearson X2 = 90 over 9 degrees of freedom
    assert c.loc["china", "upper"] - c.loc["china", "lower"] > 2 * (s.loc["china", "upper"] - s.loc["china", "lower"])
    assert c.loc["china", "lower"] < 10 < c.loc["china", "upper"]


def test_dispersion_cannot_fall_below_one_and_needs_two_blocks():
    import numpy as np

    assert dispersion(np.array([2.0, 2.0, 2.0]), np.array([100.0, 100.0, 100.0])) == 1.0
    assert dispersion(np.array([3.0]), np.array([100.0])) == 1.0


def test_block_counts_add_up():
    wl = load_wordlist("salience_v1")
    tc = count_text(" ".join(["China"] + ["word"] * 149 + ["Beijing"]), wl)
    assert tc.words == 151
    assert list(tc.block_words) == [100, 51]
    assert list(tc.blocks["china"]) == [1, 1]


def test_score_texts_pools_the_texts_of_a_group():
    df = pd.DataFrame({"iso3": ["KOR", "KOR", "JPN"], "year": [2017, 2017, 2017],
                       "text": ["North Korea tested a missile.", "Pyongyang again.", "China."]})
    out = score_texts(df, ["iso3", "year"], "salience_v1", dispersion_adjusted=False)
    kor = out[(out.iso3 == "KOR") & (out.category == "north_korea")].iloc[0]
    assert kor["count"] == 2 and kor["words"] == 7 and kor["texts"] == 2
    assert kor["rate"] == pytest.approx(2000 / 7)
    assert set(out.wordlist) == {"salience_v1"}
    assert list(out.columns[:2]) == ["iso3", "year"]


def test_packaged_word_lists_are_versioned_and_say_what_they_measure():
    assert "salience_v1" in packaged_wordlists()
    wl = load_wordlist("salience_v1")
    assert (wl.name, wl.version, wl.id) == ("salience", "1", "salience_v1")
    assert [c.name for c in wl.categories] == ["china", "north_korea", "united_states", "threat",
                                               "missile_nuclear", "alliance"]
    assert all(c.measures for c in wl.categories)


def test_a_word_list_file_can_be_given_by_path(tmp_path):
    f = tmp_path / "mine_v3.toml"
    f.write_text('name = "mine"\nversion = "3"\ndescription = "test"\n[category.navy]\nmeasures = "navies"\n'
                 'terms = ["navy", "naval"]\n', "utf-8")
    wl = load_wordlist(str(f))
    assert wl.id == "mine_v3"
    assert [m.group(0) for m in matches("The Navy and naval forces", wl.category("navy"))] == ["Navy", "naval"]


@pytest.mark.parametrize("data, message", [
    ({"name": "x", "version": "1", "description": "d", "category": {"a": {"terms": ["t"]}}}, "measures"),
    ({"name": "x", "version": "1", "category": {}}, "description"),
    ({"name": "x", "version": "1", "description": "d", "category": {"a": {"measures": "m", "terms": []}}},
     "no terms"),
    ({"name": "x", "version": "1", "description": "d", "category": {"a": {"measures": "m", "terms": ["*"]}}},
     "wildcard"),
    ({"name": "x", "version": "1", "description": "d",
      "category": {"a": {"measures": "m", "terms": ["t"], "typo": []}}}, "unknown key"),
])
def test_invalid_word_lists_are_refused_with_the_key_named(data, message):
    with pytest.raises(WordlistError, match=message):
        parse_wordlist(data, "bad.toml")


def test_unknown_packaged_list_is_refused():
    with pytest.raises(WordlistError, match="no word list"):
        load_wordlist("nonexistent_v9")
