"""Querying and ranking: from what a user typed to ranked :class:`Hit` records.

Free text is ranked, never AND-ed: a symptom description rarely matches every
word. Text that uses Whoosh query syntax (quotes, ``field:value``,
AND/OR/NOT, parentheses, wildcards) goes through Whoosh's parser instead, with
OR as the default connective. A query that is just an article number shows
that article first.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left
from collections.abc import Iterable

import numpy as np
from dataclasses import asdict, dataclass, field, replace

from . import engine, terms
from .analysis import UNSTEMMED, analyze, analyze_spans, stemmed
from .article import SYMPTOM_SECTIONS, Article, Section, normalize_id, parse_article
from .errors import KBSearchError
from .snippets import make_snippet
from .thesaurus import QueryTerm, expand

# How much matching more of the query's words lifts a document, beyond what
# the BM25 sum gives (Whoosh's "coordination" scale on the OR of terms). Mild:
# with the title and phrase factors in place, a strong one cost user-style
# symptom queries 0.02 MRR, since they carry words no article uses.
COORD = 0.3
# Phrase evidence: adjacent query words found together in the body.
PHRASE_BOOST = 1.0
# Proximity evidence: adjacent query words found near each other (within
# PROXIMITY_WINDOW positions, in either order) in one section. A user
# describing a symptom uses the article's words, rarely in its order.
PROXIMITY_BOOST = 0.3
PROXIMITY_WINDOW = 10
# Title evidence: the idf-weighted share of the query found in the title,
# squared, so that only a title that says most of the query lifts an article.
TITLE_BOOST = 0.3
# Title cover: the share of the title's words that are query words, squared,
# so that an article whose title is little more than the query (its subject
# exactly, not one problem with it) is lifted too.
TITLE_COVER_BOOST = 0.5
# A quoted message: when an article shows a query of at least this many
# adjacent word pairs (of words typed apart: "SP3" is one word, though the
# thesaurus makes it three) word for word as a message in its SYMPTOMS (set off
# from the prose, as KB articles show what the user sees, or quoted in it),
# the query is a pasted message: the quote is the evidence and the title factors are
# dropped. A title that repeats the message is no better evidence than a body
# that quotes it, and the articles whose titles say it are often about a
# different program that shows the same message. 0 turns this off.
QUOTE_MIN_PAIRS = 2
# Where a quote counts: ``message`` (what SYMPTOMS sets off from its prose
# or puts in quotation marks) or ``symptoms`` (anywhere in it, as before the message field).
QUOTE_FIELD = "message"
# ... and the articles whose SYMPTOMS shows it word for word, in one message,
# count this much more than those that only mention it or have its pairs of
# words apart ("Error 405, 405 Method" is not "Error 405 Method").
QUOTE_SYMPTOMS_BOOST = 0.2
# ... and those whose message the query says most of count up to this much
# more, by the share of the message's words that are query words: a pasted
# message is best answered by the articles that show that message, not a
# longer one that holds it (the title cover of a quoted message).
MESSAGE_COVER_BOOST = 0.4
# The articles looked at for such a quote: those that could reach the top
# 40, whatever the number of hits asked for (an article that shows the
# message may start below the top ten, behind titles that repeat it).
QUOTE_SCOPE = 40
# Lead cover: a symptom description says most of what the matching
# article's SYMPTOMS section says (its SUMMARY, where it has none, counts
# LEAD_SUMMARY_WEIGHT as much). The best LEAD_DEPTH documents (however many
# hits are asked for: more come after them, as ranked before, so that
# asking for more never re-orders the first ones) gain up to
# LEAD_COVER_BOOST by the share of their lead's words (weighed by idf)
# that the query says; not for a quoted
# message, and only in part for a query of few words: from nothing at
# LEAD_MIN_WORDS distinct words to all of it at LEAD_FULL_WORDS, since a
# short topic ("the Recycle Bin") names what an article is about rather
# than describing a symptom, and most of a short SYMPTOMS section is
# easily said by it.
LEAD_COVER_BOOST = 0.75
LEAD_SUMMARY_WEIGHT = 0.75
LEAD_MIN_WORDS = 3
LEAD_FULL_WORDS = 8
LEAD_DEPTH = 10
# Subject prior, the other side of the same ramp: a query of few words names
# a subject ("the Recycle Bin", "persistent verification") more often than
# it describes one problem, and the articles that explain a subject (how-to,
# information, description) are led by a SUMMARY, not by the SYMPTOMS of a
# problem with it. Of the best LEAD_DEPTH documents, those whose lead is a
# SUMMARY gain SUBJECT_BOOST for a query of up to LEAD_MIN_WORDS distinct
# words, less as it grows, nothing from LEAD_FULL_WORDS; not for a quoted
# message, nor for a query that one of them shows whole as a message or a
# label in its SYMPTOMS ("Seed this Network", "Pad with spaces"): that is
# something the user saw, not the name of a subject.
SUBJECT_BOOST = 0.15
# Citation prior: articles that many others cite are the canonical ones.
CITED_BOOST = 0.05
# Topic authority: when several of the articles that best match a topic
# cite one article, that article is where the KB explains the topic (the
# "authority" of Kleinberg's HITS, counted within the query's own best
# AUTHORITY_DEPTH matches in the whole index, unlike the citation prior).
# Each document gains ``1 + AUTHORITY_BOOST × log(1 + n)`` for the ``n`` of
# them that cite it,
# on the ramp of the subject prior: fully up to LEAD_MIN_WORDS distinct
# words, nothing from LEAD_FULL_WORDS (a description names one problem, not
# a topic), and not for a quoted message or a query shown whole.
AUTHORITY_BOOST = 0.2
AUTHORITY_DEPTH = 50
# Topics other articles give an article when they cite it ("For more
# information about <topic>, click ..."): each citing article that names a
# query word counts as this many occurrences of it in the cited article, as
# much as a word of its title.
ANCHOR_WEIGHT = 4.0
# A word citing articles use for an article in the topic they give it counts
# this much towards the title factor, as if the title had it.
TOPIC_AS_TITLE = 1.0
# Query words also match the KB's words for them ("nt4" -> "NT 4.0", "can't"
# -> "cannot", "freezes" -> "hangs"): see :mod:`kbsearch.thesaurus`.
USE_THESAURUS = True
MAX_QUERY_CHARS = 2000

# How free text was read (the third value :func:`rank_free_text` returns):
# as a quoted message (see QUOTE_MIN_PAIRS), as a message or label a top
# article shows whole (no subject prior or topic authority), or as plain words.
QUOTED, SHOWN, WORDS = "quoted message", "shown whole", "words"

_FIELDS = "|".join(terms.TEXT_FIELDS + terms.KEYWORD_FIELDS)
# What makes text a Whoosh query rather than a pasted message. Brackets,
# parentheses, lone quotes and runs of asterisks alone do not: error
# messages are full of them ("[Microsoft][ODBC SQL Server Driver]",
# "MTTEST.FOR(19", a blue screen's "IRQL_NOT_LESS_OR_EQUAL***").
_SYNTAX_RE = re.compile(
    r'"[^"]*\w[^"]*"'                        # a quoted phrase (balanced quotes)
    rf"|\b(?:{_FIELDS}):\S"                   # field:value, for our fields only
    r"|(?:^|\s)[+-][^\W\d]"                   # +required -excluded (not -2147467259)
    r"|\w\*(?!\*)|(?<!\*)\*\w|\w\?\w"         # wildcards inside or next to a word (not ***)
    r'|\w\^\d|"~\d',                          # boosts, phrase slop
)
# A quoted phrase, and what makes one part of a query: a field before it, a
# slop or a boost after it.
_PHRASE_RE = re.compile(r'"[^"]*\w[^"]*"')
_PHRASE_SYNTAX_RE = re.compile(rf'\b(?:{_FIELDS}):"|"[~^]\d')
# AND/OR/NOT are operators when typed in upper case among lower-case words;
# in an all-capitals message ("FILE NOT FOUND") they are words.
_OPERATOR_RE = re.compile(r"(?:^|\s)(?:AND|OR|NOT|ANDNOT|ANDMAYBE)(?=\s)")
_LOWER_RE = re.compile(r"[a-z]")
# An article number inside free text: "Q266712", "KB266712".
_NAMED_ID_RE = re.compile(r"(?<![\w/.])(?:Q|KB)0*(\d{5,6})(?!\w)", re.IGNORECASE)


@dataclass
class Hit:
    """One ranked article, with what a result line or JSON consumer needs."""

    id: str
    title: str
    product: str
    versions: list[str]
    date: str
    score: float
    snippet: str
    spans: list[tuple[int, int]] = field(default_factory=list, repr=False)
    explanation: dict | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("spans")
        if self.explanation is None:
            d.pop("explanation")
        d["score"] = round(self.score, 4)
        return d


@dataclass
class Results:
    """The answer to one query: the hits shown and how many matched in all
    (``exact``: always True now that every match of a query in syntax is
    scored; kept for readers of the JSON that check it)."""

    query: str
    total: int
    hits: list[Hit]
    exact: bool = True

    def to_dict(self) -> dict:
        return {"query": self.query, "total": self.total, "exact": self.exact,
                "hits": [h.to_dict() for h in self.hits]}


def uses_syntax(text: str) -> bool:
    """Whether ``text`` asks for Whoosh query syntax rather than free text.

    Quoted phrases among words that are not syntax do not: a description
    that quotes the message it shows (``word 97 grammar check fails "not
    enough memory"``) is ranked better as free text, which reads its words
    in order, than by Whoosh's OR of words and phrases. Quoted phrases
    alone, or with other syntax, are a query."""
    if not _has_syntax(text):
        return False
    bare = _PHRASE_RE.sub(" ", text)
    if bare == text or _PHRASE_SYNTAX_RE.search(text) or not re.search(r"\w", bare):
        return True
    return _has_syntax(bare)


def _has_syntax(text: str) -> bool:
    if _SYNTAX_RE.search(text):
        return True
    return bool(_OPERATOR_RE.search(text)) and bool(_LOWER_RE.search(_OPERATOR_RE.sub(" ", text)))


def search(eng: engine.Engine, text: str, limit: int = 10, product: str | None = None,
           version: str | None = None, keyword: str | None = None,
           explain: bool = False, exclude: Iterable[str] = (), vocabulary: bool = True) -> Results:
    """Rank the index's articles for ``text``; see the module docstring.

    ``vocabulary``: let query words also match the KB's words for them
    (:mod:`kbsearch.thesaurus`); False matches the words as typed.

    ``exclude``: article ids treated as if they were not indexed: left out of
    the results, and their citations and the topics they give other articles
    do not count (how relevance judgments that drop a query's source article
    are scored fairly).
    """
    query = _clean(text)
    if limit < 1:
        raise KBSearchError("limit must be at least 1")
    flt = eng.filter_query(product, version, keyword)
    excluded = np.array(sorted(d for d in (eng.docnum_for(i) for i in {normalize_id(x) or x for x in exclude})
                               if d is not None), dtype=np.int64)

    # Articles the query names ("Q168845", or "the hotfix in KB266712") come
    # first: whoever typed a number wants that article.
    syntax = uses_syntax(query)
    whole = normalize_id(query)
    named = [whole] if whole else [] if syntax else [f"Q{int(m.group(1))}" for m in _NAMED_ID_RE.finditer(query)]
    pinned = [d for d in dict.fromkeys(eng.docnum_for(i) for i in named)
              if d is not None and d not in excluded]
    extra = len(pinned)

    spans = None
    reading = WORDS
    if syntax:
        q = eng.parse_syntax(query)
        terms = _terms_of(q)
        cands, total = eng.run(q, limit + extra + len(excluded), filter=flt)
        if excluded.size:
            gone = set(excluded.tolist())
            cands = [c for c in cands if c.docnum not in gone]
            total -= sum(1 for d in gone if eng.doc_matches(d, q))
    else:
        spans = _as_indexed(eng, query_terms(query, vocabulary))
        terms = list(dict.fromkeys(q.term for q in spans))
        if not terms and whole is None:
            raise KBSearchError(f"nothing to search for in {text.strip()[:60]!r}: only stop words or symbols")
        cands, total, reading = rank_free_text(eng, spans, limit + extra,
                                              None if flt is None else eng.filter_mask(flt), excluded)
        # Highlight what matched, the KB's words for the query's included.
        terms += [a for q in spans for a, _ in q.alternatives if a not in terms]

    if pinned:
        ranked = {c.docnum for c in cands}
        every_match_ranked = len(cands) >= total
        cands = [c for c in cands if c.docnum not in pinned]
        shown = [d for d in pinned if flt is None or eng.doc_matches(d, flt)]
        best = max((c.score for c in cands), default=0.0)
        cands[:0] = [engine.Candidate(d, best + len(shown) - i) for i, d in enumerate(shown)]
        if every_match_ranked:
            total += sum(1 for d in shown if d not in ranked)
        total = max(total, len(cands))
    cands = cands[:limit]
    term_set = set(terms)
    for c in cands:
        if not c.fields:
            c.fields = eng.stored(c.docnum)
    words = spans if spans is not None else [QueryTerm(i, t, 0, 0) for i, t in enumerate(terms)]
    cache: dict = {}
    hits = [_hit(eng, c, term_set, words, spans is not None, explain, excluded, cache, reading) for c in cands]
    return Results(query=text, total=total, hits=hits)


def query_terms(text: str, vocabulary: bool = True) -> list[QueryTerm]:
    """The analysed words of a free-text query, each with the KB's words
    that also count as it (unless ``vocabulary`` or :data:`USE_THESAURUS`
    is off; never for words in quotation marks, which match as typed)."""
    spans = list(analyze_spans(text))
    if vocabulary and USE_THESAURUS:
        return expand(spans, as_typed=(m.span() for m in _PHRASE_RE.finditer(text)))
    return [QueryTerm(*s) for s in spans]


def _as_indexed(eng: engine.Engine, qterms: list[QueryTerm]) -> list[QueryTerm]:
    """``qterms``, with a name the analyser keeps whole ("wins", "iis")
    stemmed as an index made before it was kept whole has it ("win")."""
    out = []
    for q in qterms:
        if q.term in UNSTEMMED and eng.postings("body", q.term) is None:
            old = stemmed(q.term)
            if eng.postings("body", old) is not None:
                q = replace(q, term=old)
        out.append(q)
    return out


# BM25 parameters for the body composite.
K1 = 1.2
B = 0.75
# Documents re-scored with phrase and citation evidence after the first pass.
RERANK_DEPTH = 100


@dataclass
class _Evidence:
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

    def weight_of(self, docnum: int) -> float:
        i = int(np.searchsorted(self.ids, docnum))
        return float(self.weights[i]) if i < len(self.ids) and self.ids[i] == docnum else 0.0

    @property
    def words(self) -> set[str]:
        """The word and its alternatives, those the index has."""
        return {t for t, _, _ in self.postings}

    def positions(self, docnum: int) -> set[int]:
        out: set[int] = set()
        for _, p, _ in self.postings:
            out.update(p.positions(docnum))
        return out


def _evidence(eng: engine.Engine, qt: QueryTerm, excluded: np.ndarray) -> _Evidence | None:
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
    for t, w in words if ANCHOR_WEIGHT else ():
        for d, n in _anchor_counts(eng, t, excluded).items():
            anchored[d] = anchored.get(d, 0.0) + w * n
    if anchored:
        dense = np.zeros(eng.doc_count_all, dtype=np.float32)
        dense[ids] = weights
        for d, n in anchored.items():
            dense[d] += ANCHOR_WEIGHT * n
        ids = np.flatnonzero(dense)
        weights = dense[ids]
    return _Evidence(qt.term, found, ids, weights, df, _idf(eng, df), anchored)


def _gather(eng: engine.Engine, qterms: list[QueryTerm], excluded: np.ndarray,
            cache: dict | None = None) -> dict[str, _Evidence]:
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
        key = (t, q.alternatives)
        ev = cache.get(key) if cache is not None else None
        if ev is None:
            ev = _evidence(eng, q, excluded)
            if cache is not None:
                cache[key] = ev
        if ev is not None:
            out[t] = ev
    return out


@dataclass
class _Scored:
    """First-pass arrays of one free-text query, kept for re-scoring."""

    found: dict[str, _Evidence]
    pairs: list[tuple[str, str, int]]
    matched: np.ndarray
    final: np.ndarray
    title_factor: np.ndarray
    linked: list[set[int]]
    terms: list[QueryTerm]


def _first_pass(eng: engine.Engine, qterms: list[QueryTerm], excluded: np.ndarray) -> _Scored | None:
    """BM25 over the ``body`` composite (plus the topics citing articles give
    each document) for every document, with coordination and title factors;
    None when no query word is in the index."""
    n_terms = len({q.term for q in qterms})
    n_docs = eng.doc_count_all
    scores = np.zeros(n_docs, dtype=np.float32)
    matched = np.zeros(n_docs, dtype=np.int16)
    lengths = eng.field_lengths("body")
    norm = K1 * (1 - B + B * lengths / eng.avg_field_length("body"))
    found = _gather(eng, qterms, excluded)
    if not found:
        return None
    title = np.zeros(n_docs, dtype=np.float32)
    in_title = np.zeros(n_docs, dtype=np.float32)
    idf_sum = 0.0
    for ev in found.values():
        idf_sum += ev.idf
        ids, w = ev.ids, ev.weights
        scores[ids] += ev.idf * w * (K1 + 1) / (w + norm[ids])
        matched[ids] += 1
        _add_title(eng, ev, title, in_title)
    title /= idf_sum
    by_share, by_cover = _title_factors(eng, title, in_title)
    title_factor = by_share * by_cover
    final = scores * (1.0 - COORD + COORD * matched / n_terms) * title_factor
    pairs = _pairs(qterms, found)
    return _Scored(found, pairs, matched, final, title_factor, _topic_pairs(eng, pairs, excluded), qterms)


def _title_factors(eng: engine.Engine, share: np.ndarray, in_title: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``1 + TITLE_BOOST × share²`` and ``1 + TITLE_COVER_BOOST × cover²``:
    ``share`` of the query in the title, ``cover`` of the title by the query
    (``in_title`` query words over the title's length)."""
    cover = np.minimum(1.0, in_title / np.maximum(eng.field_lengths("title"), 1.0))
    return 1.0 + TITLE_BOOST * share ** 2, 1.0 + TITLE_COVER_BOOST * cover ** 2


def _add_title(eng: engine.Engine, ev: _Evidence, title: np.ndarray, in_title: np.ndarray) -> None:
    """Add ``ev``'s idf to the title share of documents whose title has the
    word (times the weight of the alternative that is there), or whose
    citing articles name it in the topic they give them: a topic is what
    another author would title the article. ``in_title`` counts the word
    (at that weight) where the title itself has it."""
    if len(ev.postings) == 1 and ev.postings[0][2] == 1.0 and not (ev.anchored and TOPIC_AS_TITLE):
        tp = eng.postings("title", ev.term)
        if tp is not None:
            title[tp.ids] += ev.idf
            in_title[tp.ids] += 1.0
        return
    best = np.zeros(len(title), dtype=np.float32)
    for t, _, w in ev.postings:
        tp = eng.postings("title", t)
        if tp is not None:
            best[tp.ids] = np.maximum(best[tp.ids], w)
    in_title += best
    if TOPIC_AS_TITLE and ev.anchored:
        docs = np.fromiter(ev.anchored.keys(), dtype=np.int64, count=len(ev.anchored))
        best[docs] = np.maximum(best[docs], TOPIC_AS_TITLE * np.minimum(
            1.0, np.fromiter(ev.anchored.values(), dtype=np.float32, count=len(docs))))
    title += ev.idf * best


def _anchor_counts(eng: engine.Engine, term: str, excluded: np.ndarray) -> dict[int, int]:
    """``{docnum: n}``: how many (not excluded) citing articles name ``term``
    in the topic they give each document."""
    out = {}
    for target, citing in eng.anchors(term):
        n = len(citing) if not excluded.size else int(np.count_nonzero(~np.isin(citing, excluded)))
        if n:
            out[target] = n
    return out


def _topic_pairs(eng: engine.Engine, pairs: list[tuple[str, str, int]],
                 excluded: np.ndarray) -> list[set[int]]:
    """For each pair of adjacent query words, the documents that a (not
    excluded) citing article gives a topic with the two words side by side."""
    if not ANCHOR_WEIGHT:
        return [set() for _ in pairs]
    return [set(_anchor_counts(eng, terms.anchor_key(a, b), excluded)) for a, b, _ in pairs]


def _cited_by(eng: engine.Engine, docnums: list[int], excluded: np.ndarray) -> np.ndarray:
    """In-links of ``docnums``, not counting excluded citing articles."""
    counts = eng.cited_by(docnums)
    if excluded.size:
        gone: dict[int, int] = {}
        for d in excluded.tolist():
            for c in _article(eng, d).citations:
                if (cd := eng.docnum_for(c.id)) is not None:
                    gone[cd] = gone.get(cd, 0) + 1
        counts -= np.array([gone.get(d, 0) for d in docnums], dtype=counts.dtype)
    return np.maximum(counts, 0)


def _adjacent(qterms: list[QueryTerm], found: dict) -> list[tuple[QueryTerm, QueryTerm]]:
    """Adjacent pairs of distinct query words, both in the index."""
    return [(a, b) for a, b in zip(qterms, qterms[1:]) if a.term != b.term and a.term in found and b.term in found]


def _pairs(qterms: list[QueryTerm], found: dict) -> list[tuple[str, str, int]]:
    """Adjacent query words (both in the index) and the distance between them."""
    return [(a.term, b.term, b.position - a.position) for a, b in _adjacent(qterms, found)]


def rank_free_text(eng: engine.Engine, qterms: list, k: int,
                   allowed: np.ndarray | None = None,
                   excluded: np.ndarray | None = None) -> tuple[list[engine.Candidate], int, str]:
    """Score every document for the OR of the query's words; returns the top
    ``k``, the match count, and how the query was read (:data:`QUOTED`,
    :data:`SHOWN` or :data:`WORDS`).

    ``qterms`` is the analysed query, as :func:`query_terms` gives it (or
    plain ``(position, term, start, end)`` spans, without alternatives).

    BM25 over the ``body`` composite (section-weighted term frequencies and
    lengths), times a coordination factor (documents matching more distinct
    query words rank higher) and title factors (the title says most of the
    query; the query is most of the title); then the best ``RERANK_DEPTH``
    are re-scored with phrase evidence (adjacent query words found at the
    same distance in the document), proximity evidence (found near each
    other), a citation prior (how many articles cite this one) and, for a
    query of few words, its topic authority (how many of the query's best
    matches cite it: :data:`AUTHORITY_BOOST`). When one
    of them shows the whole query as a message in its SYMPTOMS (see
    :data:`QUOTE_MIN_PAIRS`), they are re-scored without the title factors
    and the topic authority, and those that show it word for word get
    :data:`QUOTE_SYMPTOMS_BOOST`;
    each of them gains by the share of its message the query says
    (:data:`MESSAGE_COVER_BOOST`). Otherwise the best :data:`LEAD_DEPTH`
    (whatever ``k``) gain by the share of their SYMPTOMS the query says
    (:data:`LEAD_COVER_BOOST`), the more so the longer the query, and
    those led by a SUMMARY gain (:data:`SUBJECT_BOOST`), the more so the
    shorter it is, unless one of them shows the query whole as a message
    or label (:data:`SHOWN`: then without the topic authority too).
    ``excluded`` documents are left out, and so is their link evidence.
    """
    qterms = [q if isinstance(q, QueryTerm) else QueryTerm(*q) for q in qterms]
    if excluded is None:
        excluded = np.zeros(0, dtype=np.int64)
    sc = _first_pass(eng, qterms, excluded)
    if sc is None:
        return [], 0, WORDS
    matched, final = _counted(eng, sc, excluded)
    ramp = _describes(sc.terms)
    # The whole index's best matches, whatever the filter: what the KB says about the topic.
    pool = _pool(final) if AUTHORITY_BOOST and ramp < 1.0 else None
    if allowed is not None:
        matched[~allowed] = 0
        final[~allowed] = 0.0
    total = int(np.count_nonzero(matched))
    if total == 0:
        return [], 0, WORDS
    depth = min(max(k, RERANK_DEPTH), total)
    top = np.argpartition(-final, depth - 1)[:depth]
    top = top[final[top] > 0].tolist()
    cited = _cited_by(eng, top, excluded)
    prior = 1.0 + CITED_BOOST * np.log1p(cited)
    ranked = [(float(final[d]) * pr, d) for d, pr in zip(top, prior.tolist())]
    seen: dict[int, tuple[float, float, bool]] = {}
    depth = max(k, LEAD_DEPTH)
    out, quoted = _rescore(eng, sc, ranked, depth, seen)
    if quoted:
        out, _ = _rescore(eng, sc, [(s / float(sc.title_factor[d]), d) for s, d in ranked], depth, seen, quoted=True)
        return out[:k], total, QUOTED
    # A topic's authority, once the query is known not to be a quoted message
    # (the phrase evidence ``seen`` keeps is not looked up again).
    authority = dict(zip(top, _authority(eng, top, pool, ramp, cited).tolist()))
    if any(a != 1.0 for a in authority.values()):
        out, _ = _rescore(eng, sc, [(s * authority[d], d) for s, d in ranked], depth, seen)
    # The lead factors re-order the best LEAD_DEPTH only, whatever ``k``:
    # asking for more hits adds hits after them and never re-orders them.
    arts = {c.docnum: _article(eng, c.docnum, citations=False) for c in out[:LEAD_DEPTH]}
    reading = SHOWN if (SUBJECT_BOOST or AUTHORITY_BOOST) and ramp < 1.0 and any(
        _message_cover(eng, sc.found, d, a) >= 1.0 for d, a in arts.items()) else WORDS
    if reading == SHOWN and any(a != 1.0 for a in authority.values()):
        # Something the user saw, not a subject: ranked without the authority.
        out, _ = _rescore(eng, sc, ranked, depth, seen)
        arts.update((c.docnum, _article(eng, c.docnum, citations=False))
                    for c in out[:LEAD_DEPTH] if c.docnum not in arts)
    head = sorted((engine.Candidate(c.docnum, c.score * math.prod(_lead_factors(
        eng, sc.found, c.docnum, ramp, arts[c.docnum], subject=reading == WORDS)))
        for c in out[:LEAD_DEPTH]), key=lambda c: -c.score)
    return (head + out[LEAD_DEPTH:])[:k], total, reading


def _counted(eng: engine.Engine, sc: _Scored, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sc``'s match counts and scores, zero (in place) for deleted and
    excluded documents."""
    live = eng.live_mask()
    if live is not None:
        sc.matched[~live] = 0
    sc.matched[excluded] = 0
    sc.final[sc.matched == 0] = 0.0
    return sc.matched, sc.final


def _query_pool(eng: engine.Engine, qterms: list[QueryTerm], excluded: np.ndarray,
                cache: dict | None) -> np.ndarray:
    """:func:`_pool` of the query's first pass, as :func:`rank_free_text`
    takes it (kept in ``cache`` for the other hits of one search)."""
    if cache is not None and _POOL_KEY in cache:
        return cache[_POOL_KEY]
    sc = _first_pass(eng, qterms, excluded)
    pool = np.zeros(0, dtype=np.int64) if sc is None else _pool(_counted(eng, sc, excluded)[1])
    if cache is not None:
        cache[_POOL_KEY] = pool
    return pool


_POOL_KEY = ("authority pool",)


def _pool(final: np.ndarray) -> np.ndarray:
    """The best :data:`AUTHORITY_DEPTH` documents of a first pass (``final``:
    zero for those that do not count), in docnum order."""
    n = min(AUTHORITY_DEPTH, int(np.count_nonzero(final)))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-final, n - 1)[:n]
    return np.sort(best[final[best] > 0])


def _cited_nearby(eng: engine.Engine, docnum: int, pool: np.ndarray) -> int:
    """How many other documents of ``pool`` cite ``docnum``."""
    citing = eng.citing(docnum)
    return int(np.count_nonzero(np.isin(citing[citing != docnum], pool, assume_unique=True)))


def _authority(eng: engine.Engine, docnums: list[int], pool: np.ndarray | None, ramp: float,
               cited: np.ndarray | None = None) -> np.ndarray:
    """The topic authority factor of each of ``docnums`` (see
    :data:`AUTHORITY_BOOST`); ``pool``: the query's best matches (None: 1);
    ``cited``: their in-links, if known (none: nothing to look up)."""
    weight = AUTHORITY_BOOST * (1.0 - ramp)
    if pool is None or not len(pool) or weight <= 0.0:
        return np.ones(len(docnums))
    if cited is None:
        cited = np.ones(len(docnums))
    n = np.array([_cited_nearby(eng, d, pool) if c > 0 else 0 for d, c in zip(docnums, cited.tolist())],
                 dtype=np.float64)
    return 1.0 + weight * np.log1p(n)


def _typed_pairs(qterms: list[QueryTerm], found: dict) -> int:
    """How many of the adjacent query-word pairs (:func:`_pairs`) join two
    words the user typed apart: not the parts of one typed word ("SP3" is
    "service pack 3" to the thesaurus, but one word is not a quote)."""
    return sum(1 for a, b in _adjacent(qterms, found) if (a.start, a.end) != (b.start, b.end))


def _rescore(eng: engine.Engine, sc: _Scored, ranked: list[tuple[float, int]], k: int,
             seen: dict[int, tuple[float, float, bool]], quoted: bool = False) -> tuple[list[engine.Candidate], bool]:
    """The top ``k`` of ``ranked`` after phrase and proximity evidence (and,
    for a ``quoted`` message, the symptoms bonus), and whether a document
    that could reach the top :data:`QUOTE_SCOPE` quotes the query as a
    symptom (see :data:`QUOTE_MIN_PAIRS`): the same answer for any ``k``.
    ``seen`` keeps each document's phrase and proximity shares and symptom
    quote for a second pass."""
    out: list[engine.Candidate] = []
    depth = max(k, QUOTE_SCOPE)
    best: list[float] = []   # min-heap of the ``depth`` best scores so far
    scope: list[float] = []  # ... and of the QUOTE_SCOPE best
    in_scope = True
    seen_quote = False
    quotable = QUOTE_MIN_PAIRS > 0 and _typed_pairs(sc.terms, sc.found) >= QUOTE_MIN_PAIRS
    most = (1.0 + PHRASE_BOOST) * (1.0 + PROXIMITY_BOOST)
    if quoted:
        most *= (1.0 + QUOTE_SYMPTOMS_BOOST) * (1.0 + MESSAGE_COVER_BOOST)
    for s, d in sorted(ranked, reverse=True):
        if sc.pairs:
            # Stop where not even full phrase and proximity matches would lift
            # this document (or any after it) into the top ``depth``.
            if len(best) == depth and s * most <= best[0]:
                break
            in_scope = in_scope and not (len(scope) == QUOTE_SCOPE and s * most <= scope[0])
            if d not in seen:
                in_text, in_topics, near = _phrase_hits(sc.found, sc.pairs, d, sc.linked)
                seen[d] = ((in_text + in_topics) / len(sc.pairs), near / len(sc.pairs),
                           quotable and in_text == len(sc.pairs)
                           and _shown_as_message(eng, sc.found, sc.pairs, d))
            share, near_share, as_symptom = seen[d]
            s *= (1.0 + PHRASE_BOOST * share) * (1.0 + PROXIMITY_BOOST * near_share)
            seen_quote = seen_quote or (as_symptom and in_scope)
            if quoted and as_symptom:
                if _shown_whole(eng, sc.found, sc.terms, d):
                    s *= 1.0 + QUOTE_SYMPTOMS_BOOST
                if MESSAGE_COVER_BOOST:
                    s *= 1.0 + MESSAGE_COVER_BOOST * _message_cover(eng, sc.found, d)
        out.append(engine.Candidate(d, s))
        for heap, size in ((best, depth), (scope, QUOTE_SCOPE)):
            if len(heap) < size:
                heapq.heappush(heap, s)
            elif s > heap[0]:
                heapq.heapreplace(heap, s)
    out.sort(key=lambda c: -c.score)
    return out[:k], seen_quote


def _message_positions(eng: engine.Engine, found: dict[str, _Evidence], docnum: int):
    """``at(term)``: where ``term`` (or one of its alternatives) stands in the
    messages the document's SYMPTOMS shows or quotes (in an index made before
    the ``message`` field, anywhere in its SYMPTOMS); looked up once a term."""
    field = QUOTE_FIELD if eng.has_field(QUOTE_FIELD) else "symptoms"
    pos: dict[str, set[int]] = {}

    def at(term: str) -> set[int]:
        if term not in pos:
            pos[term] = set()
            for alt, _, _ in found[term].postings:
                if (p := eng.postings(field, alt)) is not None:
                    pos[term].update(p.positions(docnum))
        return pos[term]

    return at


def _shown_as_message(eng: engine.Engine, found: dict[str, _Evidence], pairs: list[tuple[str, str, int]],
                      docnum: int) -> bool:
    """Whether every adjacent query-word pair stands at its distance inside
    a message the document's SYMPTOMS shows or quotes."""
    at = _message_positions(eng, found, docnum)
    return all(any(x + gap in at(t2) for x in at(t1)) or _one_token(found, t1, t2) and at(t1) & at(t2)
               for t1, t2, gap in pairs)


def _shown_whole(eng: engine.Engine, found: dict[str, _Evidence], qterms: list[QueryTerm],
                 docnum: int) -> bool:
    """Whether the query's words (those in the index) stand in one message
    the document's SYMPTOMS shows or quotes, each at its distance from the
    one before: the query word for word, not just each adjacent pair
    somewhere. The words the thesaurus makes of one typed word ("SP3") may
    all stand on one word of the message that says it the same way."""
    at = _message_positions(eng, found, docnum)
    words = [q for q in qterms if q.term in found]
    if not words:
        return False
    ends = set(at(words[0].term))  # where the run of words so far ends
    for prev, q in zip(words, words[1:]):
        nxt = {x + q.position - prev.position for x in ends} & at(q.term)
        if (prev.start, prev.end) == (q.start, q.end) and _one_token(found, prev.term, q.term):
            nxt |= ends & at(q.term)
        ends = nxt
        if not ends:
            return False
    return bool(ends)


def _article(eng: engine.Engine, docnum: int, citations: bool = True) -> Article:
    """The article stored for ``docnum``, parsed (without the articles it
    cites, unless ``citations``)."""
    return parse_article(engine.unpack_text(eng.stored(docnum)["raw"]), citations=citations)


def _message_cover(eng: engine.Engine, found: dict[str, _Evidence], docnum: int,
                   art: Article | None = None) -> float:
    """The largest share of a message's words that are query words (or their
    alternatives), over the messages the document's SYMPTOMS shows or quotes
    that hold every query word; 0 when none does. ``art``: the document's
    article, if parsed already."""
    art = art or _article(eng, docnum, citations=False)
    need = [ev.words for ev in found.values()]
    words = set().union(*need)
    best = 0.0
    for piece in art.messages + art.quotes:
        toks = [t for _, t in analyze(piece)]
        if toks and all(n.intersection(toks) for n in need):
            best = max(best, sum(t in words for t in toks) / len(toks))
    return best


def _describes(qterms: list[QueryTerm]) -> float:
    """How much a query of these words is a description rather than a topic:
    0 up to :data:`LEAD_MIN_WORDS` distinct words, 1 from :data:`LEAD_FULL_WORDS`."""
    n = len({q.term for q in qterms})
    ramp = (n - LEAD_MIN_WORDS) / max(1, LEAD_FULL_WORDS - LEAD_MIN_WORDS)
    return min(1.0, max(0.0, ramp))


def _lead(art: Article) -> tuple[list[Section], str]:
    """The sections that lead ``art`` and what they are: its SYMPTOMS
    (``"symptoms"``), else its SUMMARY (``"summary"``), else its first
    section (``"first"``)."""
    if lead := [s for s in art.sections if s.name in SYMPTOM_SECTIONS]:
        return lead, "symptoms"
    if lead := [s for s in art.sections if s.name == "summary"]:
        return lead, "summary"
    return art.sections[:1], "first"


def _lead_factors(eng: engine.Engine, found: dict[str, _Evidence], docnum: int, ramp: float,
                  art: Article | None = None, subject: bool = True) -> tuple[float, float]:
    """The lead cover and subject prior of ``docnum`` for a query that is a
    description by ``ramp`` (:func:`_describes`): ``1 + LEAD_COVER_BOOST ×
    ramp × cover`` and ``1 + SUBJECT_BOOST × (1 - ramp)`` if a SUMMARY leads
    it (and ``subject``: the query is not shown whole, see :data:`SHOWN`)."""
    if ramp <= 0.0 and not (subject and SUBJECT_BOOST):
        return 1.0, 1.0
    art = art or _article(eng, docnum, citations=False)
    lead, kind = _lead(art)
    cover = 1.0 + LEAD_COVER_BOOST * ramp * _lead_cover(eng, found, lead, kind) if ramp > 0.0 else 1.0
    return cover, 1.0 + SUBJECT_BOOST * (1.0 - ramp) if subject and kind == "summary" else 1.0


def _lead_cover(eng: engine.Engine, found: dict[str, _Evidence], lead: list[Section], kind: str) -> float:
    """The share of the idf of the distinct words of an article's ``lead``
    (:func:`_lead`; other than SYMPTOMS counted :data:`LEAD_SUMMARY_WEIGHT`)
    that are query words or their alternatives."""
    words = {t for s in lead for _, t in analyze(s.text)}
    if not words:
        return 0.0
    said = set().union(*(ev.words for ev in found.values()))
    n = max(1, eng.doc_count_all)
    idf = {t: _idf(eng, min(n, eng.doc_frequency("body", t))) for t in words}
    weight = 1.0 if kind == "symptoms" else LEAD_SUMMARY_WEIGHT
    return weight * sum(idf[t] for t in words & said) / sum(idf.values())


def _phrase_hits(found: dict[str, _Evidence], pairs: list[tuple[str, str, int]], docnum: int,
                 linked: list[set[int]]) -> tuple[int, int, int]:
    """How many adjacent query-word pairs stand at the same distance in the
    document (either word may be one of its alternatives), how many more
    stand side by side in a topic a citing article gives it (``linked``),
    and how many stand within :data:`PROXIMITY_WINDOW` of each other in the
    document, in either order."""
    in_text = in_topics = near = 0
    cache: dict[str, tuple[set[int], list[int]]] = {}
    for (t1, t2, gap), topics in zip(pairs, linked):
        for t in (t1, t2):
            if t not in cache:
                pos = found[t].positions(docnum)
                cache[t] = pos, sorted(pos)
        (a, _), (b, b_sorted) = cache[t1], cache[t2]
        if a and b and (any(p + gap in b for p in a) or _one_token(found, t1, t2) and a & b):
            in_text += 1
        elif docnum in topics:
            in_topics += 1
        if a and b and PROXIMITY_BOOST and _near(a, b_sorted, PROXIMITY_WINDOW):
            near += 1
    return in_text, in_topics, near


def _one_token(found: dict[str, _Evidence], t1: str, t2: str) -> bool:
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


def _bm25(eng: engine.Engine, idf: float, weight: float, length: float) -> float:
    norm = K1 * (1 - B + B * length / eng.avg_field_length("body"))
    return float(idf * weight * (K1 + 1) / (weight + norm))


def _idf(eng: engine.Engine, df: int) -> float:
    # Posting lists still hold deleted documents until a merge, so the
    # document count that goes with their df is the one including deletions.
    return float(np.log(1.0 + (max(1, eng.doc_count_all) - df + 0.5) / (df + 0.5)))


def explain(eng: engine.Engine, docnum: int, qterms: list,
            free_text: bool = True, article: Article | None = None,
            excluded: np.ndarray | None = None, cache: dict | None = None, reading: str = WORDS) -> dict:
    """Why ``docnum`` scored.

    ``terms``: each query word's weight in the body composite, the sections
    of the article it occurs in, the KB words that matched for it
    (``matched_as``, from the thesaurus), how many citing articles name it
    in the topic they give this one (``cited_as``), and its BM25 share.
    ``factors`` (free text only): the multipliers applied on top of the BM25
    sum. ``qterms`` as :func:`query_terms` gives them (or plain terms).
    ``reading``: how the query was read, the third value
    :func:`rank_free_text` returns (a quoted message is ranked without the
    title factors; a query shown whole, without the subject prior and the
    topic authority). ``cited_nearby``: how many of the query's best
    :data:`AUTHORITY_DEPTH` matches cite the document.
    """
    if excluded is None:
        excluded = np.zeros(0, dtype=np.int64)
    qterms = [q if isinstance(q, QueryTerm) else QueryTerm(i, q, 0, 0) for i, q in enumerate(qterms)]
    article = article or _article(eng, docnum)
    found = _gather(eng, qterms, excluded, cache)
    where = _sections_of(article, set().union(*(ev.words for ev in found.values())))
    rows = []
    length = float(eng.field_lengths("body")[docnum])
    for t, ev in found.items():
        w = ev.weight_of(docnum)
        if not w:
            continue
        present = [a for a, p, _ in ev.postings if p.positions(docnum)]
        sections = list(dict.fromkeys(s for a in present for s in where.get(a, [])))
        rows.append({"term": t, "field": "body", "sections": sections,
                     "matched_as": [a for a in present if a != t],
                     "cited_as": round(ev.anchored.get(docnum, 0)),
                     "weight": round(w, 3), "df": ev.df, "score": round(_bm25(eng, ev.idf, w, length), 4)})
    out: dict = {"terms": rows, "factors": {}}
    if free_text and found:
        idf_sum = sum(ev.idf for ev in found.values())
        title = np.zeros(eng.doc_count_all, dtype=np.float32)
        in_title = np.zeros(eng.doc_count_all, dtype=np.float32)
        for ev in found.values():
            _add_title(eng, ev, title, in_title)
        by_share, by_cover = _title_factors(eng, title / idf_sum, in_title)
        pairs = _pairs(qterms, found)
        in_text, in_topics, near = (_phrase_hits(found, pairs, docnum, _topic_pairs(eng, pairs, excluded))
                                    if pairs else (0, 0, 0))
        cited = int(_cited_by(eng, [docnum], excluded)[0])
        n_terms = len({q.term for q in qterms})
        quoted = reading == QUOTED
        as_symptom = quoted and bool(pairs) and _shown_as_message(eng, found, pairs, docnum)
        ramp = _describes(qterms)
        lead_cover, subject = (1.0, 1.0) if quoted else _lead_factors(
            eng, found, docnum, ramp, article, subject=reading == WORDS)
        nearby, authority = 0, 1.0
        if AUTHORITY_BOOST and ramp < 1.0 and not quoted:
            pool = _query_pool(eng, qterms, excluded, cache)
            nearby = _cited_nearby(eng, docnum, pool)
            if reading == WORDS:
                authority = float(_authority(eng, [docnum], pool, ramp)[0])
        out["factors"] = {
            "matched": f"{len(rows)}/{n_terms}",
            "coordination": round(1.0 - COORD + COORD * len(rows) / n_terms, 3),
            "title": 1.0 if quoted else round(float(by_share[docnum]), 3),
            "title_cover": 1.0 if quoted else round(float(by_cover[docnum]), 3),
            "quoted": quoted,
            "shown": reading == SHOWN,
            "symptoms_quote": round(1.0 + QUOTE_SYMPTOMS_BOOST, 3) if as_symptom and _shown_whole(
                eng, found, qterms, docnum) else 1.0,
            "message_cover": round(1.0 + MESSAGE_COVER_BOOST * _message_cover(eng, found, docnum, article), 3)
            if as_symptom else 1.0,
            "lead_cover": round(lead_cover, 3),
            "subject": round(subject, 3),
            "phrase": round(1.0 + PHRASE_BOOST * (in_text + in_topics) / max(1, len(pairs)), 3),
            "proximity": round(1.0 + PROXIMITY_BOOST * near / max(1, len(pairs)), 3),
            "cited_by": cited,
            "citations": round(1.0 + CITED_BOOST * float(np.log1p(cited)), 3),
            "cited_nearby": nearby,
            "authority": round(authority, 3),
        }
    return out


def _sections_of(art: Article, terms: set[str]) -> dict[str, list[str]]:
    """``{term: [section names]}``: where in the article each term occurs
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
        for t in terms.intersection(t for _, t in analyze(text)):
            if name not in out.setdefault(t, []):
                out[t].append(name)
    return out


def _clean(text: str) -> str:
    if text is None:
        raise KBSearchError("empty query")
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    if not text:
        raise KBSearchError("empty query: type some words that describe the problem")
    return text[:MAX_QUERY_CHARS]


def _terms_of(q) -> list[str]:
    out = []
    try:
        for fname, text in q.iter_all_terms():
            if fname in terms.WORD_FIELDS:
                t = text.decode("utf-8") if isinstance(text, bytes) else text
                if t not in out:
                    out.append(t)
    except Exception:
        pass
    return out


def _hit(eng: engine.Engine, c: engine.Candidate, terms: set[str], words: list[QueryTerm],
         free_text: bool, with_explanation: bool, excluded: np.ndarray, cache: dict, reading: str) -> Hit:
    f = c.fields
    art = parse_article(engine.unpack_text(f["raw"]), citations=False)
    sections = [("title", art.title)] + [(s.name, s.text) for s in art.sections]
    if art.preamble:
        sections.append(("preamble", art.preamble))
    snip = make_snippet(sections, terms)
    explanation = explain(eng, c.docnum, words, free_text, art, excluded, cache, reading) if with_explanation else None
    return Hit(
        id=f["id"],
        title=f.get("title", ""),
        product=f.get("product", ""),
        versions=list(f.get("version") or []),
        date=f.get("date", ""),
        score=c.score,
        snippet=snip.text,
        spans=snip.spans,
        explanation=explanation,
    )
