"""What the index says about a query's words: the evidence factors are made of.

Each query word's postings and its alternatives' (the KB's words for it),
combined into one body weight per document; the topics citing articles give;
where words stand in a document, its messages and its lead. Nothing here
weighs evidence against other evidence: that is :mod:`.factors`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from .. import engine, terms
from ..analysis import analyze, stem
from ..article import SYMPTOM_SECTIONS, Article, Section, parse_article
from ..thesaurus import QueryTerm
from .config import RankingConfig


@dataclass
class Evidence:
    """One query word over the whole index: its postings and its
    alternatives', combined into one body weight per document (an
    alternative counts as the word, times its weight; the topics citing
    articles give count too), and how many documents have any of them."""

    term: str
    postings: list[tuple[str, engine.Postings, float]]
    ids: np.ndarray
    weights: np.ndarray
    df: int
    idf: float
    anchored: dict[int, float]
    # The term's share of the word the user typed (:func:`typed_words`).
    share: float = 1.0

    def weight_of(self, docnum: int) -> float:
        i = int(np.searchsorted(self.ids, docnum))
        return float(self.weights[i]) if i < len(self.ids) and self.ids[i] == docnum else 0.0

    @property
    def words(self) -> set[str]:
        """The word and its alternatives, those the index has."""
        return {t for t, _, _ in self.postings}

    def positions(self, docnum: int) -> set[int]:
        out: set[int] = set()
        if len(self.postings) > 1:  # most candidates lack most alternatives: one look-up says which
            i = int(self.ids.searchsorted(docnum))
            if i >= len(self.ids) or self.ids[i] != docnum:
                return out
        for _, p, _ in self.postings:
            out.update(p.positions(docnum))
        return out


def idf(eng: engine.Engine, df: int) -> float:
    """BM25's idf. Posting lists still hold deleted documents until a merge,
    so the document count that goes with their df includes deletions."""
    return float(np.log(1.0 + (max(1, eng.doc_count_all) - df + 0.5) / (df + 0.5)))


def bm25(eng: engine.Engine, cfg: RankingConfig, idf_: float, weight: float, length: float) -> float:
    """One word's BM25 share in a document of body ``length``."""
    norm = cfg.k1 * (1 - cfg.b + cfg.b * length / eng.avg_field_length("body"))
    return float(idf_ * weight * (cfg.k1 + 1) / (weight + norm))


def _evidence(eng: engine.Engine, cfg: RankingConfig, qt: QueryTerm, excluded: np.ndarray) -> Evidence | None:
    """The combined evidence for ``qt``; None when neither it nor any of its
    alternatives is in the index."""
    words = [(qt.term, 1.0)] + [a for a in qt.alternatives if a[0] != qt.term]
    found = [(t, p, w) for t, w in words if (p := eng.postings("body", t)) is not None]
    if not found:
        return None
    if len(found) == 1 and found[0][2] == 1.0:
        ids, weights = found[0][1].ids, found[0][1].weights
    else:
        dense = np.zeros(eng.doc_count_all, dtype=np.float32)
        for _, p, w in found:
            dense[p.ids] += w * p.weights
        ids = np.flatnonzero(dense)
        weights = dense[ids]
    df = len(ids)
    anchored: dict[int, float] = {}
    for t, w in words if cfg.anchor_weight else ():
        for d, n in anchor_counts(eng, t, excluded).items():
            anchored[d] = anchored.get(d, 0.0) + w * n
    if anchored:
        dense = np.zeros(eng.doc_count_all, dtype=np.float32)
        dense[ids] = weights
        for d, n in anchored.items():
            dense[d] += cfg.anchor_weight * n
        ids = np.flatnonzero(dense)
        weights = dense[ids]
    return Evidence(qt.term, found, ids, weights, df, idf(eng, df), anchored)


def gather(eng: engine.Engine, cfg: RankingConfig, qterms: list[QueryTerm],
           excluded: np.ndarray) -> dict[str, Evidence]:
    """``{term: evidence}`` for the distinct query words found in the index
    (a word typed twice keeps the alternatives of both)."""
    merged: dict[str, QueryTerm] = {}
    for q in qterms:
        cur = merged.setdefault(q.term, QueryTerm(q.position, q.term, q.start, q.end))
        alts = dict(cur.alternatives)
        for a, w in q.alternatives:
            alts[a] = max(alts.get(a, 0.0), w)
        cur.alternatives = tuple(alts.items())
    out = {}
    for t, q in merged.items():
        if (ev := _evidence(eng, cfg, q, excluded)) is not None:
            out[t] = ev
    return out


def typed_words(cfg: RankingConfig, qterms: list[QueryTerm]) -> tuple[dict[str, float], int]:
    """Each query term's share of the word the user typed, and how many
    distinct words were typed. A word the vocabulary splits into parts
    ("nt4": nt 4.0; "sp3": service pack 3) is one word, not three: each
    part counts ``1 / n ** cfg.part_share`` of it, so the parts of one typed
    token do not outweigh the other words typed (a term without a span of
    its own is a word of its own)."""
    groups: dict[object, set[str]] = {}
    for q in qterms:
        key = (q.start, q.end) if q.end > q.start else q.term
        groups.setdefault(key, set()).add(q.term)
    distinct = {frozenset(g) for g in groups.values()}
    share: dict[str, float] = {}
    for g in distinct:
        for t in g:
            share[t] = max(share.get(t, 0.0), 1.0 / len(g) ** cfg.part_share)
    return share, len(distinct)


# A number, maybe with a unit: a size, a version, a short count.
_QUANTITY_RE = re.compile(r"\d{1,3}|\d+(?:[.,]\d+)+[a-z]{0,3}|\d+[a-z]{1,3}")
# A name with a version number ("as400", "os2", "x25"): the archive spells
# it several ways ("AS/400", "OS/2", "X.25"), so no one form is exact.
_VERSIONED_NAME_RE = re.compile(r"[a-z]{1,5}\d{1,3}")


def exact_tokens(eng: engine.Engine, cfg: RankingConfig, qterms: list[QueryTerm],
                 found: dict[str, Evidence]) -> list[Evidence]:
    """The evidence of the query's rare exact tokens: words typed whole (not
    a part of a compact token) that look like a code, file name or
    identifier and that at most ``cfg.exact_max_df`` articles have, in any
    of their forms (a file name's forms include its name alone: articles
    write "RC" for ``rc.exe``)."""
    out = []
    for t in dict.fromkeys(q.term for q in qterms):
        e = found.get(t)
        # A token that names one thing exactly has a digit, a dot or an
        # underscore ("c0000218", "0x80004005", "cli_nt.exe", "irql_not_less_or_equal"),
        # and is not a quantity, whose forms vary ("1.2mb", "1.2 MB", "640k").
        if e is not None and e.share == 1.0 and e.df <= cfg.exact_max_df and len(t) >= 3 \
                and any(c.isdigit() or c in "._" for c in t) and not _QUANTITY_RE.fullmatch(t) \
                and not _VERSIONED_NAME_RE.fullmatch(t) and _bare_name_df(eng, t) <= cfg.exact_max_df:
            out.append(e)
    return out


def _bare_name_df(eng: engine.Engine, token: str) -> int:
    """How many articles have the name of the file ``token`` names without
    its extension ("rc" for ``rc.exe``); 0 for a token that is no file name."""
    name, dot, ext = token.rpartition(".")
    if not dot or not ext.isalpha() or not name.replace("_", "").isalnum():
        return 0
    return eng.doc_frequency(terms.TEXT_FIELDS[0], stem(name) if name.isalpha() else name)


def add_title(eng: engine.Engine, cfg: RankingConfig, ev: Evidence, rows: "Rows", title: np.ndarray,
              in_title: np.ndarray, share: float = 1.0) -> None:
    """Add ``ev``'s idf to the title share of documents whose title has the
    word (times the weight of the alternative that is there), or whose
    citing articles name it in the topic they give them: a topic is what
    another author would title the article. ``in_title`` counts the word
    (at that weight) where the title itself has it. ``title`` and
    ``in_title`` hold one value per scored document (``rows``)."""
    if len(ev.postings) == 1 and ev.postings[0][2] == 1.0 and not (ev.anchored and cfg.topic_as_title):
        tp = eng.postings("title", ev.term)
        if tp is not None:
            at = rows.of(tp.ids)
            title[at] += share * ev.idf
            in_title[at] += 1.0
        return
    best = np.zeros(len(rows.docs), dtype=np.float32)
    for t, _, w in ev.postings:
        tp = eng.postings("title", t)
        if tp is not None:
            at = rows.of(tp.ids)
            best[at] = np.maximum(best[at], w)
    in_title += best
    if cfg.topic_as_title and ev.anchored:
        cited = np.fromiter(ev.anchored.keys(), dtype=np.int64, count=len(ev.anchored))
        counts = np.fromiter(ev.anchored.values(), dtype=np.float32, count=len(cited))
        at, counts = rows.weights(cited, counts)
        best[at] = np.maximum(best[at], cfg.topic_as_title * np.minimum(1.0, counts))
    title += share * ev.idf * best


def union(*ids: np.ndarray) -> np.ndarray:
    """The ascending union of ascending docnum arrays (a sort, where
    ``np.union1d`` hashes: several times slower on docnums)."""
    if len(ids) == 1:
        return ids[0]
    every = np.sort(np.concatenate(ids))
    if len(every) < 2:
        return every
    keep = np.empty(len(every), dtype=bool)
    keep[0] = True
    np.not_equal(every[1:], every[:-1], out=keep[1:])
    return every[keep]


class Rows:
    """The rows of the documents a stage scores (``docs``, ascending) in
    its per-document arrays: a postings list's documents are looked up with
    one gather, however long the list."""

    def __init__(self, docs: np.ndarray, n_docs: int):
        self.docs = docs
        self._row = np.full(n_docs, -1, dtype=np.int32)
        self._row[docs] = np.arange(len(docs), dtype=np.int32)

    def of(self, ids: np.ndarray) -> np.ndarray:
        """The rows of the documents of ``ids`` that are scored."""
        r = self._row[ids]
        return r[r >= 0]

    def weights(self, ids: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, weights)`` of the documents of ``ids`` that are scored."""
        r = self._row[ids]
        hit = r >= 0
        return r[hit], weights[hit]


def anchor_counts(eng: engine.Engine, key: str, excluded: np.ndarray) -> dict[int, int]:
    """``{docnum: n}``: how many (not excluded) citing articles name ``key``
    (:func:`kbsearch.terms.anchor_key`) in the topic they give each document."""
    out = {}
    for target, citing in eng.anchors(key):
        n = len(citing) if not excluded.size else int(np.count_nonzero(~np.isin(citing, excluded)))
        if n:
            out[target] = n
    return out


def topic_pairs(eng: engine.Engine, cfg: RankingConfig, pairs: list[tuple[str, str, int]],
                excluded: np.ndarray) -> list[set[int]]:
    """For each pair of adjacent query words, the documents that a (not
    excluded) citing article gives a topic with the two words side by side."""
    if not cfg.anchor_weight:
        return [set() for _ in pairs]
    return [set(anchor_counts(eng, terms.anchor_key(a, b), excluded)) for a, b, _ in pairs]


def cited_by(eng: engine.Engine, docnums: list[int], excluded: np.ndarray) -> np.ndarray:
    """In-links of ``docnums``, not counting excluded citing articles."""
    counts = eng.cited_by(docnums)
    if excluded.size:
        gone: dict[int, int] = {}
        for d in excluded.tolist():
            for c in article(eng, d).citations:
                if (cd := eng.docnum_for(c.id)) is not None:
                    gone[cd] = gone.get(cd, 0) + 1
        counts -= np.array([gone.get(d, 0) for d in docnums], dtype=counts.dtype)
    return np.maximum(counts, 0)


def cited_nearby(eng: engine.Engine, docnum: int, pool: np.ndarray) -> int:
    """How many other documents of ``pool`` cite ``docnum``."""
    citing = eng.citing(docnum)
    return int(np.count_nonzero(np.isin(citing[citing != docnum], pool, assume_unique=True)))


def adjacent(qterms: list[QueryTerm], found: dict) -> list[tuple[QueryTerm, QueryTerm]]:
    """Adjacent pairs of distinct query words, both in the index."""
    return [(a, b) for a, b in zip(qterms, qterms[1:]) if a.term != b.term and a.term in found and b.term in found]


def pairs_of(qterms: list[QueryTerm], found: dict) -> list[tuple[str, str, int]]:
    """Adjacent query words (both in the index) and the distance between them."""
    return [(a.term, b.term, b.position - a.position) for a, b in adjacent(qterms, found)]


def typed_pairs(qterms: list[QueryTerm], found: dict) -> int:
    """How many of the adjacent query-word pairs join two words the user
    typed apart: not the parts of one typed word ("SP3" is "service pack 3"
    to the thesaurus, but one word is not a quote)."""
    return sum(1 for a, b in adjacent(qterms, found) if (a.start, a.end) != (b.start, b.end))


def phrase_hits(cfg: RankingConfig, found: dict[str, Evidence], pairs: list[tuple[str, str, int]], docnum: int,
                linked: list[set[int]]) -> tuple[float, float, float]:
    """How many adjacent query-word pairs stand at the same distance in the
    document (either word may be one of its alternatives), how many more
    stand side by side in a topic a citing article gives it (``linked``),
    and how many stand within ``cfg.proximity_window`` of each other in the
    document, in either order; each pair counted at :func:`pair_weight`."""
    in_text = in_topics = near = 0.0
    cache: dict[str, tuple[set[int], list[int]]] = {}
    for (t1, t2, gap), topics in zip(pairs, linked):
        w = pair_weight(found, t1, t2)
        for t in (t1, t2):
            if t not in cache:
                pos = found[t].positions(docnum)
                cache[t] = pos, sorted(pos)
        (a, _), (b, b_sorted) = cache[t1], cache[t2]
        if a and b and (any(p + gap in b for p in a) or one_token(found, t1, t2) and a & b):
            in_text += w
        elif docnum in topics:
            in_topics += w
        if a and b and cfg.proximity and _near(a, b_sorted, cfg.proximity_window):
            near += w
    return in_text, in_topics, near


def pair_weight(found: dict[str, Evidence], t1: str, t2: str) -> float:
    """A pair of adjacent query words counts as much as the lesser of their
    shares of a typed word: the parts of "sp3" side by side confirm one
    typed word, not three (:func:`typed_words`)."""
    return min(found[t1].share, found[t2].share)


def pairs_weight(found: dict[str, Evidence], pairs: list[tuple[str, str, int]]) -> float:
    """What all of ``pairs`` count together (each at :func:`pair_weight`)."""
    return sum(pair_weight(found, t1, t2) for t1, t2, _ in pairs)


def one_token(found: dict[str, Evidence], t1: str, t2: str) -> bool:
    """Whether one word of the text can stand for both query words ``t1``
    and ``t2`` ("SP3" for "service" and "pack", as the thesaurus splits it):
    then that word alone puts them side by side."""
    return bool(found[t1].words & found[t2].words)


def _near(a: set[int], b: list[int], window: int) -> bool:
    """Whether some position in sorted ``b`` is within ``window`` of one in
    ``a``, other than the same position."""
    for p in a:
        i = bisect_left(b, p - window)
        while i < len(b) and b[i] <= p + window:
            if b[i] != p:
                return True
            i += 1
    return False


# --- messages: what an article's SYMPTOMS shows or quotes --------------------

def _message_positions(eng: engine.Engine, cfg: RankingConfig, found: dict[str, Evidence], docnum: int):
    """``at(term)``: where ``term`` (or one of its alternatives) stands in the
    messages the document's SYMPTOMS shows or quotes (in an index made before
    the ``message`` field, anywhere in its SYMPTOMS); looked up once a term."""
    field = cfg.quote_field if eng.has_field(cfg.quote_field) else "symptoms"
    pos: dict[str, set[int]] = {}

    def at(term: str) -> set[int]:
        if term not in pos:
            pos[term] = set()
            for alt, _, _ in found[term].postings:
                if (p := eng.postings(field, alt)) is not None:
                    pos[term].update(p.positions(docnum))
        return pos[term]

    return at


def shown_as_message(eng: engine.Engine, cfg: RankingConfig, found: dict[str, Evidence],
                     pairs: list[tuple[str, str, int]], docnum: int) -> bool:
    """Whether every adjacent query-word pair stands at its distance inside
    a message the document's SYMPTOMS shows or quotes."""
    at = _message_positions(eng, cfg, found, docnum)
    return all(any(x + gap in at(t2) for x in at(t1)) or one_token(found, t1, t2) and at(t1) & at(t2)
               for t1, t2, gap in pairs)


def shown_whole(eng: engine.Engine, cfg: RankingConfig, found: dict[str, Evidence], qterms: list[QueryTerm],
                docnum: int) -> bool:
    """Whether the query's words (those in the index) stand in one message
    the document's SYMPTOMS shows or quotes, each at its distance from the
    one before: the query word for word, not just each adjacent pair
    somewhere. The words the thesaurus makes of one typed word ("SP3") may
    all stand on one word of the message that says it the same way."""
    at = _message_positions(eng, cfg, found, docnum)
    words = [q for q in qterms if q.term in found]
    if not words:
        return False
    ends = set(at(words[0].term))  # where the run of words so far ends
    for prev, q in zip(words, words[1:]):
        nxt = {x + q.position - prev.position for x in ends} & at(q.term)
        if (prev.start, prev.end) == (q.start, q.end) and one_token(found, prev.term, q.term):
            nxt |= ends & at(q.term)
        ends = nxt
        if not ends:
            return False
    return bool(ends)


# Parsed articles kept per open index: the head stage and the hits' snippets
# parse the same few, and the best matches of one query come back in others.
ARTICLE_CACHE = 256


def article(eng: engine.Engine, docnum: int, citations: bool = True) -> Article:
    """The article stored for ``docnum``, parsed (without the articles it
    cites, unless ``citations``; those are kept, not to be changed)."""
    if citations:
        return parse_article(engine.unpack_text(eng.stored(docnum)["raw"]), citations=True)
    cache = eng.memo("article")
    art = cache.get(docnum)
    if art is None:
        art = engine.keep(cache, docnum, parse_article(engine.unpack_text(eng.stored(docnum)["raw"]),
                                                       citations=False), ARTICLE_CACHE)
    return art


def message_cover(eng: engine.Engine, found: dict[str, Evidence], docnum: int, art: Article | None = None) -> float:
    """The largest share of a message's words that are query words (or their
    alternatives), over the messages the document's SYMPTOMS shows or quotes
    that hold every query word; 0 when none does. ``art``: the document's
    article, if parsed already."""
    art = art or article(eng, docnum, citations=False)
    need = [ev.words for ev in found.values()]
    words = set().union(*need)
    best = 0.0
    for piece in art.messages + art.quotes:
        toks = [t for _, t in analyze(piece)]
        if toks and all(n.intersection(toks) for n in need):
            best = max(best, sum(t in words for t in toks) / len(toks))
    return best


# --- the lead: the sections an article opens with ----------------------------

def lead(art: Article) -> tuple[list[Section], str]:
    """The sections that lead ``art`` and what they are: its SYMPTOMS
    (``"symptoms"``), else its SUMMARY (``"summary"``), else its first
    section (``"first"``)."""
    if found := [s for s in art.sections if s.name in SYMPTOM_SECTIONS]:
        return found, "symptoms"
    if found := [s for s in art.sections if s.name == "summary"]:
        return found, "summary"
    return art.sections[:1], "first"


def lead_cover(eng: engine.Engine, cfg: RankingConfig, found: dict[str, Evidence], sections: list[Section],
               kind: str) -> float:
    """The share of the idf of the distinct words of an article's lead
    (:func:`lead`; other than SYMPTOMS counted ``cfg.lead_summary_weight``)
    that are query words or their alternatives."""
    words = {t for s in sections for _, t in analyze(s.text)}
    if not words:
        return 0.0
    said = set().union(*(ev.words for ev in found.values()))
    n = max(1, eng.doc_count_all)
    idfs = {t: idf(eng, min(n, eng.doc_frequency("body", t))) for t in words}
    weight = 1.0 if kind == "symptoms" else cfg.lead_summary_weight
    return weight * sum(idfs[t] for t in words & said) / sum(idfs.values())


def sections_of(art: Article, words: set[str]) -> dict[str, list[str]]:
    """``{word: [section names]}``: where in the article each word occurs
    (``message`` for the messages SYMPTOMS shows or quotes)."""
    parts = [("title", art.title)]
    for sec in art.sections:
        parts.append((sec.name, sec.heading + "\n" + sec.text))
        if sec.name in SYMPTOM_SECTIONS:
            parts.append(("message", "\n\n".join(art.messages + art.quotes)))
    if art.query_words:
        parts.append(("query words", art.query_words))
    out: dict[str, list[str]] = {}
    for name, text in parts:
        for t in words.intersection(t for _, t in analyze(text)):
            if name not in out.setdefault(t, []):
                out[t].append(name)
    return out
