"""Two words typed apart that the archive writes as one: "mind maze" is
MindMaze, "front page" FrontPage, "data base" database.

A query's adjacent plain words whose concatenation is a word at least
:data:`MIN_ARTICLES` articles use get that word as an alternative of each
(at the ``compounds`` weight of :class:`kbsearch.ranking.RankingConfig`).
Standing for both, the one word also puts them side by side for the phrase
factor. Nothing here is a table: the index says which joined words exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from . import engine, terms
from .analysis import STOP_WORDS, stem
from .thesaurus import QueryTerm

# Fewest articles that must write the joined word: rarer ones are typos or
# names run together, not the archive's spelling.
MIN_ARTICLES = 3
# ... and at least this share of the articles that have the rarer of the two
# words: "addressbook" (an identifier) is not how the archive writes
# "address book".
MIN_SHARE = 0.1


def join(eng: engine.Engine, qterms: list[QueryTerm], text: str, weight: float,
         as_typed: Iterable[tuple[int, int]] = ()) -> list[QueryTerm]:
    """``qterms`` (analysed from ``text``) with the joined word of each two
    adjacent plain words added to both as an alternative at ``weight`` (0:
    none); words starting inside the ``as_typed`` ranges (quoted) are left
    alone."""
    if weight <= 0 or len(qterms) < 2:
        return qterms
    ranges = list(as_typed)
    out = list(qterms)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if b.position != a.position + 1 or (a.start, a.end) == (b.start, b.end):
            continue  # not side by side, or the parts of one typed word ("nt4")
        if any(lo <= q.start < hi for q in (a, b) for lo, hi in ranges):
            continue
        first, second = text[a.start:a.end].lower(), text[b.start:b.end].lower()
        if not (first.isalpha() and second.isalpha()) or first in STOP_WORDS or second in STOP_WORDS:
            continue
        joined = stem(first + second)
        body = terms.TEXT_FIELDS[0]
        n = eng.doc_frequency(body, joined)
        if joined in (a.term, b.term) or n < MIN_ARTICLES \
                or n < MIN_SHARE * min(eng.doc_frequency(body, a.term), eng.doc_frequency(body, b.term)):
            continue
        for j in (i, i + 1):
            q = out[j]
            if all(t != joined for t, _ in q.alternatives):
                out[j] = replace(q, alternatives=q.alternatives + ((joined, weight),))
    return out
