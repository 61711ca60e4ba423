"""PhraseTable finds exactly what the equivalent compiled alternation finds."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from app.semantic.load import semantic_model
from app.understand.lexicon import build_lexicon
from app.understand.phrases import PhraseTable
from tests.test_timeparse import ROWS


def _regex_spans(phrases: list[str], text: str) -> list[tuple[int, int]]:
    alts = sorted(dict.fromkeys(p for p in phrases if p), key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in alts)
    rx = re.compile(rf"(?<![\w$€£])(?:{body})(?![\w])", re.IGNORECASE)
    return [m.span() for m in rx.finditer(text)]


def _same(phrases: list[str], text: str) -> None:
    assert list(PhraseTable(phrases).spans(text)) == _regex_spans(phrases, text), text


def test_longest_phrase_wins_and_a_space_matches_spaces_and_hyphens() -> None:
    table = PhraseTable(["net revenue", "net", "amount due (ar)", "amount due"])
    text = "Net-revenue, net  revenue growth, NET, amount due (AR), amount due, $net, net_x"
    assert [text[s:e] for s, e in table.spans(text)] == [
        "Net-revenue",
        "net  revenue",
        "NET",
        "amount due (AR)",
        "amount due",
    ]


def test_phrases_outside_the_trie_fall_back_to_the_regex() -> None:
    for phrases in (["café"], ["Net"], ["a  b"], ["ſ"]):
        _same(phrases, "Café, net, e-mail, e mail, a  b, a b, A-b, s, S, ſ")
    assert PhraseTable(["café"])._regex is not None
    assert PhraseTable(["€", "£ gbp"])._regex is None  # characters without case stay in the trie


def test_a_hyphen_in_a_phrase_matches_like_a_space_and_keeps_the_trie() -> None:
    table = PhraseTable(["e-mail", "roll-forward"])
    assert table._regex is None
    assert list(table.spans("e-mail, e mail, roll forward, roll-forward, email")) == [
        (0, 6),
        (8, 14),
        (16, 28),
        (30, 42),
    ]


def test_characters_outside_ascii_fold_as_the_regex_folds_them() -> None:
    for ch in ("\u212a", "\u017f", "\u0130", "\u0131", "é", "\u00a0"):
        _same(["k", "s", "i", "a b"], f"{ch} a{ch}b {ch}s")
    assert list(PhraseTable(["kpi"]).spans("\u212aPI")) == [(0, 3)]  # the Kelvin sign


_LETTERS = st.sampled_from([*"abks1(€", "ab", "ks"])
_PHRASES = st.lists(
    st.lists(_LETTERS, min_size=1, max_size=3)
    .map("".join)
    .flatmap(lambda w: st.sampled_from([w, f"{w} {w[::-1]}", f"{w} ab"])),
    min_size=1,
    max_size=6,
)
_TEXT = st.lists(
    st.sampled_from([*"abkKsS1( -_$£€.", "\u212a", "\u017f", "\u0130", "\u00a0", "\t", "é"]),
    max_size=30,
).map("".join)


@given(_PHRASES, _TEXT)
def test_same_spans_as_the_regex_on_random_text(phrases: list[str], text: str) -> None:
    _same(phrases, text)


def test_same_spans_as_the_regex_with_the_lexicon_phrases() -> None:
    lex = build_lexicon(semantic_model(), {"plan": {"pro monthly": "Pro monthly"}})
    tables = (
        [*lex.metric_words, *lex.ambiguous_words],
        list(lex.dimension_words),
        list(lex.value_words),
        list(lex.list_words),
    )
    texts = [
        "Gross volume by country last month",
        "MRR and net-revenue per plan, amount due (AR) in the US or CA",
        "refunds  vs   disputes by card brand; Pro monthly churn",
        *(p.values[0] for p in ROWS),
    ]
    for phrases in tables:
        for text in texts:
            _same(phrases, text)
