"""Abbreviations the archive defines: "Terminal Services (TS)" makes "ts"
a user's word for "terminal services".

Index time: :func:`definitions` finds an article's abbreviation definitions
with the Schwartz-Hearst algorithm (Schwartz & Hearst 2003, "A simple
algorithm for identifying abbreviation definitions in biomedical text"): a
short form in parentheses after its long form ("Visual FoxPro (VFP)"), or
the reverse where the parenthesis holds more words than the word before it
("TS (Terminal Services)"); the long form is found by matching the short
form's characters right to left in the words before it, its first character
at the start of a word. :func:`definition_terms` gives them in analysed form,
``short=long`` (``ts=termin servic``): the ``abbrev`` field
(:data:`kbsearch.terms.ABBREV_FIELD`), whose document frequencies Whoosh
keeps through incremental runs, merges and deletions.

Query time: :func:`expand` gives a query word that the archive defines often
enough, one way far more often than any other, and rarely uses otherwise,
its long form as an alternative (a phrase, see
:meth:`kbsearch.engine.Engine.postings`) at a weight below 1: an expansion
never outweighs the word typed. Nothing here is a table: every definition is
mined from the articles.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, replace

from . import terms
from .analysis import STOP_WORDS, analyze_spans

__all__ = ["Definition", "definitions", "definition_terms", "expand", "long_form_of", "MIN_DEFINITIONS",
           "DOMINANCE", "MIN_DEFINED_SHARE"]

# A short form is expanded only when at least this many articles define it,
MIN_DEFINITIONS = 3
# ... one long form (analysed) is at least this share of its definitions,
DOMINANCE = 0.6
# ... and the articles that define it are at least this share of those that
# use it (the short form as a word in ``body``): "CAN" (Controller Area
# Network) is mostly the word "can". Measured on the archive: see
# docs/ranking.md.
MIN_DEFINED_SHARE = 0.01

# Where a long form cannot reach back past: the end of a sentence or
# clause, another parenthesis.
_BOUNDARY_RE = re.compile(r"[()\[\]{};:!?]|\.\s|\n\s*\n|\s-{1,2}\s")
_PAREN_RE = re.compile(r"\(([^()\n]{1,60})\)")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Definition:
    """One abbreviation definition as the article writes it."""

    short: str
    long: str


def _valid_short(s: str) -> bool:
    """A short form: 2-10 characters, at most two words, a letter among
    them, starting with a letter or digit, and a capital (the KB's prose
    puts plenty of lower-case words in parentheses)."""
    return (2 <= len(s) <= 10 and len(s.split()) <= 2 and s[0].isalnum()
            and any(c.isalpha() for c in s) and any(c.isupper() for c in s))


def _best_long_form(short: str, long: str) -> str | None:
    """Schwartz-Hearst: the shortest end of ``long`` in which the characters
    of ``short`` appear in order, matched right to left, the first one at
    the start of a word; None when they do not."""
    s = len(short) - 1
    i = len(long) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (long[i].lower() != c or (s == 0 and i > 0 and long[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = long.rfind(" ", 0, i + 1) + 1
    return long[start:]


def _pair(short: str, before: str) -> Definition | None:
    """The definition of ``short`` by the words of ``before`` that end
    right before it, if Schwartz-Hearst finds one."""
    short = short.strip()
    if not _valid_short(short):
        return None
    n = sum(c.isalnum() for c in short)
    limit = min(n + 5, n * 2)
    words = before.split()[-limit:]
    if not words:
        return None
    best = _best_long_form(short, " ".join(words))
    if best is None:
        return None
    best_words = best.split()
    low, lshort = best.lower(), short.lower()
    if (len(best) <= len(short) or len(best_words) > limit or low.endswith(lshort)
            or lshort in (w.lower() for w in best_words)):
        return None
    if best_words[0].lower() in STOP_WORDS:
        return None
    return Definition(short, best)


def definitions(text: str) -> list[Definition]:
    """The abbreviation definitions in ``text``, in order (one a short form
    and long form written the same way)."""
    out: dict[tuple[str, str], Definition] = {}
    for m in _PAREN_RE.finditer(text):
        inside = _SPACE_RE.sub(" ", m.group(1)).strip()
        head = text[max(0, m.start() - 400):m.start()]
        cut = None
        for b in _BOUNDARY_RE.finditer(head):
            cut = b.end()
        before = _SPACE_RE.sub(" ", head[cut or 0:]).strip()
        if not inside or not before:
            continue
        for sep in (";", ","):
            inside = inside.split(sep)[0].strip()
        if len(inside.split()) <= 2 and len(inside) < len(before):
            d = _pair(inside, before)
        else:
            # The reverse: "TS (Terminal Services)", the short form the word
            # before the parenthesis.
            short = before.split()[-1] if before.split() else ""
            short = short.strip(",.\"'")
            d = _pair(short, inside) if short and len(inside.split()) > 1 else None
            if d is not None and not d.long == inside.strip(",.\"'"):
                # the whole parenthesis must be the long form
                d = None
        if d is not None:
            out.setdefault((d.short, d.long), d)
    return list(out.values())


def _analysed(text: str) -> list[str]:
    return [t for _, t, _, _ in analyze_spans(text)]


def definition_terms(text: str) -> list[str]:
    """The ``abbrev`` terms of ``text``: each definition as ``short=long``
    in analysed form (``ts=termin servic``), a short form of one term and a
    long form of more than one term or of another term."""
    out: list[str] = []
    for d in definitions(text):
        short = _analysed(d.short)
        long = _analysed(d.long)
        if len(short) != 1 or not long or long == short:
            continue
        term = f"{short[0]}={' '.join(long)}"
        if term not in out:
            out.append(term)
    return out


def long_form_of(eng, short: str) -> str | None:
    """The long form (analysed, words separated by spaces) the archive gives
    the analysed query word ``short``, when it is a short form the rule of
    the module docstring expands; else None."""
    cache = _cache(eng)
    if short in cache:
        return cache[short]
    got = None
    if short not in STOP_WORDS and eng.has_field(terms.ABBREV_FIELD):
        counts = eng.prefix_frequencies(terms.ABBREV_FIELD, short + terms.ABBREV_SEP)
        total = sum(counts.values())
        if total >= MIN_DEFINITIONS:
            long, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
            used = eng.doc_frequency("body", short)
            if n >= DOMINANCE * total and total >= MIN_DEFINED_SHARE * used:
                got = long.partition(terms.ABBREV_SEP)[2]
    cache[short] = got
    return got


_CACHES: "weakref.WeakKeyDictionary[object, dict[str, str | None]]" = weakref.WeakKeyDictionary()


def _cache(eng) -> dict[str, str | None]:
    """The long forms looked up so far, per open index."""
    got = _CACHES.get(eng)
    if got is None:
        got = _CACHES[eng] = {}
    return got


def expand(eng, qterms: list, weight: float, as_typed: Iterable[tuple[int, int]] = ()) -> list:
    """``qterms`` (:class:`kbsearch.thesaurus.QueryTerm`) with each short
    form's long form added as an alternative at ``weight`` (0: none), unless
    the query has the long form's words already; words starting inside the
    ``as_typed`` ranges (quoted) are left alone."""
    if weight <= 0:
        return qterms
    ranges = list(as_typed)
    typed = {q.term for q in qterms}
    out = []
    for q in qterms:
        long = None if any(a <= q.start < b for a, b in ranges) else long_form_of(eng, q.term)
        # "Certificate Authority (CA)": the query says the long form already
        if long is not None and not typed.issuperset(long.split()) and all(a != long for a, _ in q.alternatives):
            q = replace(q, alternatives=q.alternatives + ((long, weight),))
        out.append(q)
    return out
