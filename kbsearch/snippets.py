"""Pick the best-matching passage of an article and mark the query terms in it.

Cheap by design (it runs for every hit shown): passages are sentences of the
body, only those that contain a query term's stem as a substring are
analysed, and the winner is the one with the most distinct query terms,
symptom descriptions first on ties. The title is never a passage (the hit
shows it already), nor are the paragraphs that cite other articles; a
passage is cut at a word, and "Dr. Watson" is not two sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .analysis import analyze_list, analyze_spans
from .article import Article, reference_runs

_PASSAGE_SPLIT = re.compile(r"(?<=[.!?:])\s+(?=[A-Z\"'(])|\n\s*\n")
# Words whose full stop ends no sentence ("Dr. Watson", "e.g. Word").
_ABBREVIATION = re.compile(r"(?:^|\W)(?:Dr|Mr|Mrs|Ms|St|No|vs|etc|approx|Inc|Ltd|Corp|Co|e\.g|i\.e|cf|Fig|Vol)\.$",
                           re.IGNORECASE)
_WS = re.compile(r"\s+")


@dataclass
class Snippet:
    """One line of text and the ``(start, end)`` spans of query terms in it."""

    text: str
    spans: list[tuple[int, int]]


def snippet_sections(art: Article) -> list[tuple[str, str]]:
    """The ``(name, text)`` parts of ``art`` a snippet may come from: its
    sections and preamble, without its title and without the paragraphs
    that cite other articles (what they say is about those)."""
    out = [(s.name, text) for s in art.sections for text, ref in reference_runs(s.text) if not ref]
    if art.preamble:
        out.append(("preamble", art.preamble))
    return out


def _passages(text: str) -> list[str]:
    """``text`` split into sentences and paragraphs, an abbreviation's full
    stop ("Dr.") joined back to what follows it."""
    out: list[str] = []
    for piece in _PASSAGE_SPLIT.split(text):
        if out and _ABBREVIATION.search(out[-1].rstrip()) and not out[-1].endswith("\n"):
            out[-1] = out[-1].rstrip() + " " + piece.lstrip()
        else:
            out.append(piece)
    return out


def make_snippet(sections: list[tuple[str, str]], terms: set[str], width: int = 160,
                 weights: dict[str, float] | None = None) -> Snippet:
    """Best passage of ``sections`` ((name, text) pairs) for query ``terms``
    (analysed): the one with the most of them, each counted at its weight
    (1 unless ``weights`` says less: a part of a typed word, such as "pack"
    of "sp3", counts its share of it)."""
    best = None  # (score, order, passage)
    order = 0
    probes = [t[:4] for t in terms if t]
    for name, text in sections:
        for raw in _passages(text):
            passage = _WS.sub(" ", raw).strip()
            if not passage:
                continue
            order += 1
            low = passage.lower()
            if probes and not any(p in low for p in probes):
                if best is None:
                    best = (0.0, order, passage)
                continue
            found = terms.intersection(t for _, t in analyze_list(passage, split_compounds=False))
            score = (sum(weights.get(t, 1.0) for t in found) if weights else len(found)) \
                + (0.5 if name in ("symptoms", "title") and found else 0.0)
            if best is None or score > best[0]:
                best = (score, order, passage)
    if best is None:
        return Snippet("", [])
    return _window(best[2], terms, width)


def _window(passage: str, terms: set[str], width: int) -> Snippet:
    spans = [(a, b) for _, t, a, b in analyze_spans(passage) if t in terms]
    start = 0
    if len(passage) > width and spans:
        # Centre the window on the first match, keeping some context before it.
        start = max(0, min(spans[0][0] - width // 4, len(passage) - width))
        space = passage.rfind(" ", 0, start + 1)
        start = space + 1 if start and space >= 0 else start
    text = passage[start:start + width]
    if start + width < len(passage):
        cut = text.rfind(" ")
        text = (text[:cut] if cut > width // 2 else text) + " …"
    prefix = "… " if start else ""
    shift = len(prefix) - start
    spans = [(a + shift, b + shift) for a, b in spans if a >= start and b - start <= len(text)]
    # Merge overlapping spans (a joined token and its parts).
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return Snippet(prefix + text, merged)
