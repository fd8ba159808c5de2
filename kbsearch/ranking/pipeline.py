"""The ranking of free text, in stages, recording each hit's breakdown.

1. **First pass**, every document: BM25 over the ``body`` composite (the
   topics citing articles give count as occurrences) × coordination ×
   title × title cover.
2. **Rerank**, the best ``rerank_depth``: × citation prior × phrase ×
   proximity, and × topic authority for a query of few words.
3. **Reading**: when an article that could reach the top ``quote_scope``
   shows the query as a message word for word, it is a *quoted message*:
   re-scored without the title factors and the authority, × symptoms quote
   × message cover. Otherwise, when one of the best ``lead_depth`` shows it
   whole as a message or label, it is *shown whole* (no authority, no
   subject prior); else *words*.
4. **Head**, the best ``lead_depth`` whatever the number asked for (so that
   asking for more hits never re-orders the first): × lead cover × subject.

Every value multiplied in is recorded (:class:`~.factors.Breakdown`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from .. import engine
from ..article import Article
from ..thesaurus import QueryTerm
from . import evidence as ev
from .config import DEFAULT, RankingConfig
from .factors import (AUTHORITY, CITATIONS, COORDINATION, EXACT, FACTORS, LEAD_COVER, MESSAGE_COVER, PHRASE, PROXIMITY,
                      QUOTED, SHOWN, SUBJECT, SYMPTOMS_QUOTE, TITLE, TITLE_COVER, WORDS, Applied, Breakdown,
                      describes)


@dataclass
class Ranking:
    """The top ``k`` of one free-text query, the number of documents that
    match any of its words, how it was read, the evidence of its words and
    each hit's breakdown (by docnum)."""

    hits: list[engine.Candidate]
    total: int
    reading: str = WORDS
    found: dict[str, ev.Evidence] = field(default_factory=dict)
    breakdowns: dict[int, Breakdown] = field(default_factory=dict)
    # Which documents match (any query word, within the filter): what facets count.
    matches: np.ndarray | None = None


@dataclass
class _FirstPass:
    """The first pass's arrays (one value per document), kept for the later stages."""

    found: dict[str, ev.Evidence]
    terms: list[QueryTerm]
    pairs: list[tuple[str, str, int]]
    linked: list[set[int]]
    bm25: np.ndarray
    matched: np.ndarray
    n_words: int
    coordination: np.ndarray
    exact: np.ndarray | None
    title: np.ndarray
    title_cover: np.ndarray
    title_factor: np.ndarray
    final: np.ndarray


@dataclass
class _Record:
    """What the rerank and head stages computed per document."""

    cited: dict[int, float] = field(default_factory=dict)
    prior: dict[int, float] = field(default_factory=dict)
    authority: dict[int, float] = field(default_factory=dict)
    nearby: dict[int, int] = field(default_factory=dict)
    # docnum -> (phrase share, proximity share, shows the query as a message)
    seen: dict[int, tuple[float, float, bool]] = field(default_factory=dict)
    evidence: dict[int, tuple[float, float]] = field(default_factory=dict)
    quote: dict[int, tuple[float, float]] = field(default_factory=dict)
    head: dict[int, tuple[float, float]] = field(default_factory=dict)


def first_pass(eng: engine.Engine, cfg: RankingConfig, qterms: list[QueryTerm],
               excluded: np.ndarray) -> _FirstPass | None:
    """Stage 1 for every document; None when no query word is in the index."""
    share, n_words = ev.typed_words(cfg, qterms)
    n_docs = eng.doc_count_all
    scores = np.zeros(n_docs, dtype=np.float32)
    matched = np.zeros(n_docs, dtype=np.float32)
    lengths = eng.field_lengths("body")
    norm = cfg.k1 * (1 - cfg.b + cfg.b * lengths / eng.avg_field_length("body"))
    found = ev.gather(eng, cfg, qterms, excluded)
    if not found:
        return None
    title = np.zeros(n_docs, dtype=np.float32)
    in_title = np.zeros(n_docs, dtype=np.float32)
    idf_sum = 0.0
    for e in found.values():
        part = e.share = share.get(e.term, 1.0)
        idf_sum += part * e.idf
        ids, w = e.ids, e.weights
        scores[ids] += part * e.idf * w * (cfg.k1 + 1) / (w + norm[ids])
        matched[ids] += part
        ev.add_title(eng, cfg, e, title, in_title, part)
    title /= idf_sum
    cover = np.minimum(1.0, in_title / np.maximum(eng.field_lengths("title"), 1.0))
    by_share, by_cover = TITLE.value(cfg, title), TITLE_COVER.value(cfg, cover)
    title_factor = by_share * by_cover
    coordination = COORDINATION.value(cfg, matched, n_words)
    final = scores * coordination * title_factor
    exact = None
    if cfg.exact and (rare := ev.exact_tokens(eng, cfg, qterms, found)):
        has = np.zeros(n_docs, dtype=np.float32)
        for e in rare:
            has[e.ids] += e.idf
        exact = EXACT.value(cfg, has / sum(e.idf for e in rare))
        final *= exact
    pairs = ev.pairs_of(qterms, found)
    return _FirstPass(found, qterms, pairs, ev.topic_pairs(eng, cfg, pairs, excluded), scores, matched, n_words,
                      coordination, exact, by_share, by_cover, title_factor, final)


def rank(eng: engine.Engine, qterms: list, k: int, cfg: RankingConfig = DEFAULT,
         allowed: np.ndarray | None = None, excluded: np.ndarray | None = None) -> Ranking:
    """Score every document for the OR of the query's words and return the
    top ``k`` (see the module docstring for the stages).

    ``qterms``: the analysed query (:class:`QueryTerm`, or plain
    ``(position, term, start, end)`` spans). ``allowed``: a mask of the
    documents a filter lets through. ``excluded``: docnums treated as not
    indexed, left out along with their link evidence.
    """
    qterms = [q if isinstance(q, QueryTerm) else QueryTerm(*q) for q in qterms]
    if excluded is None:
        excluded = np.zeros(0, dtype=np.int64)
    sc = first_pass(eng, cfg, qterms, excluded)
    if sc is None:
        return Ranking([], 0)
    matched, final = _counted(eng, sc, excluded)
    ramp = describes(cfg, sc.n_words)
    # The whole index's best matches, whatever the filter: what the KB says about the topic.
    pool = _pool(cfg, final) if cfg.authority and ramp < 1.0 else None
    if allowed is not None:
        matched[~allowed] = 0
        final[~allowed] = 0.0
    total = int(np.count_nonzero(matched))
    if total == 0:
        return Ranking([], 0, found=sc.found)
    depth = min(max(k, cfg.rerank_depth), total)
    top = np.argpartition(-final, depth - 1)[:depth]
    top = top[final[top] > 0].tolist()
    rec = _Record()
    cited = ev.cited_by(eng, top, excluded)
    prior = CITATIONS.value(cfg, cited)
    rec.cited, rec.prior = dict(zip(top, cited.tolist())), dict(zip(top, prior.tolist()))
    ranked = [(float(final[d]) * pr, d) for d, pr in zip(top, prior.tolist())]
    depth = max(k, cfg.lead_depth)
    out, quoted = _rescore(eng, cfg, sc, ranked, depth, rec)
    if quoted:
        out, _ = _rescore(eng, cfg, sc, [(s / float(sc.title_factor[d]), d) for s, d in ranked], depth, rec,
                          quoted=True)
        return _ranking(cfg, sc, rec, out[:k], total, QUOTED)
    # A topic's authority, once the query is known not to be a quoted message
    # (the phrase evidence ``rec.seen`` keeps is not looked up again).
    authority, nearby = _authority(eng, cfg, top, pool, ramp, cited)
    rec.authority, rec.nearby = dict(zip(top, authority.tolist())), dict(zip(top, nearby))
    if any(a != 1.0 for a in rec.authority.values()):
        out, _ = _rescore(eng, cfg, sc, [(s * rec.authority[d], d) for s, d in ranked], depth, rec)
    # The head factors re-order the best ``lead_depth`` only, whatever ``k``:
    # asking for more hits adds hits after them and never re-orders them.
    arts = {c.docnum: ev.article(eng, c.docnum, citations=False) for c in out[:cfg.lead_depth]}
    reading = SHOWN if (cfg.subject or cfg.authority) and ramp < 1.0 and any(
        ev.message_cover(eng, sc.found, d, a) >= 1.0 for d, a in arts.items()) else WORDS
    if reading == SHOWN and any(a != 1.0 for a in rec.authority.values()):
        # Something the user saw, not a subject: ranked without the authority.
        out, _ = _rescore(eng, cfg, sc, ranked, depth, rec)
        arts.update((c.docnum, ev.article(eng, c.docnum, citations=False))
                    for c in out[:cfg.lead_depth] if c.docnum not in arts)
    head = []
    for c in out[:cfg.lead_depth]:
        cover, subject = _head_factors(eng, cfg, sc.found, ramp, arts[c.docnum], subject=reading == WORDS)
        rec.head[c.docnum] = cover, subject
        head.append(engine.Candidate(c.docnum, c.score * (cover * subject)))
    head.sort(key=lambda c: -c.score)
    return _ranking(cfg, sc, rec, (head + out[cfg.lead_depth:])[:k], total, reading)


def _counted(eng: engine.Engine, sc: _FirstPass, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sc``'s match counts and scores, zero (in place) for deleted and
    excluded documents."""
    live = eng.live_mask()
    if live is not None:
        sc.matched[~live] = 0
    sc.matched[excluded] = 0
    sc.final[sc.matched == 0] = 0.0
    return sc.matched, sc.final


def _pool(cfg: RankingConfig, final: np.ndarray) -> np.ndarray:
    """The best ``cfg.authority_depth`` documents of a first pass (``final``:
    zero for those that do not count), in docnum order."""
    n = min(cfg.authority_depth, int(np.count_nonzero(final)))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-final, n - 1)[:n]
    return np.sort(best[final[best] > 0])


def _authority(eng: engine.Engine, cfg: RankingConfig, docnums: list[int], pool: np.ndarray | None, ramp: float,
               cited: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The topic authority of each of ``docnums`` and how many of ``pool``
    (the query's best matches; None: no authority) cite each; only the
    documents something cites (``cited``) are looked up."""
    weight = AUTHORITY.weight(cfg, ramp)
    if pool is None or not len(pool) or weight <= 0.0:
        return np.ones(len(docnums)), [0] * len(docnums)
    nearby = [ev.cited_nearby(eng, d, pool) if c > 0 else 0 for d, c in zip(docnums, cited.tolist())]
    return AUTHORITY.value(weight, np.array(nearby, dtype=np.float64)), nearby


def _rescore(eng: engine.Engine, cfg: RankingConfig, sc: _FirstPass, ranked: list[tuple[float, int]], k: int,
             rec: _Record, quoted: bool = False) -> tuple[list[engine.Candidate], bool]:
    """The top ``k`` of ``ranked`` after phrase and proximity evidence (and,
    for a ``quoted`` message, the quote factors), and whether a document
    that could reach the top ``cfg.quote_scope`` shows the query as a
    message: the same answer for any ``k``. ``rec.seen`` keeps each
    document's phrase and proximity shares for a second pass."""
    out: list[engine.Candidate] = []
    depth = max(k, cfg.quote_scope)
    best: list[float] = []   # min-heap of the ``depth`` best scores so far
    scope: list[float] = []  # ... and of the quote_scope best
    in_scope = True
    seen_quote = False
    quotable = cfg.quote_min_pairs > 0 and ev.typed_pairs(sc.terms, sc.found) >= cfg.quote_min_pairs
    most = PHRASE.value(cfg, 1.0) * PROXIMITY.value(cfg, 1.0)
    pairs_weight = ev.pairs_weight(sc.found, sc.pairs)
    if quoted:
        most *= SYMPTOMS_QUOTE.value(cfg, True) * MESSAGE_COVER.value(cfg, 1.0)
    for s, d in sorted(ranked, reverse=True):
        if sc.pairs:
            # Stop where not even full phrase and proximity matches would lift
            # this document (or any after it) into the top ``depth``.
            if len(best) == depth and s * most <= best[0]:
                break
            in_scope = in_scope and not (len(scope) == cfg.quote_scope and s * most <= scope[0])
            if d not in rec.seen:
                in_text, in_topics, near = ev.phrase_hits(cfg, sc.found, sc.pairs, d, sc.linked)
                rec.seen[d] = ((in_text + in_topics) / pairs_weight, near / pairs_weight,
                               quotable and in_text >= pairs_weight - 1e-9
                               and ev.shown_as_message(eng, cfg, sc.found, sc.pairs, d))
            share, near_share, as_symptom = rec.seen[d]
            ph, px = PHRASE.value(cfg, share), PROXIMITY.value(cfg, near_share)
            s *= ph * px
            rec.evidence[d] = ph, px
            seen_quote = seen_quote or (as_symptom and in_scope)
            if quoted and as_symptom:
                sq = SYMPTOMS_QUOTE.value(cfg, ev.shown_whole(eng, cfg, sc.found, sc.terms, d))
                s *= sq
                mc = MESSAGE_COVER.value(cfg, ev.message_cover(eng, sc.found, d)) if cfg.message_cover else 1.0
                s *= mc
                rec.quote[d] = sq, mc
        out.append(engine.Candidate(d, s))
        for heap, size in ((best, depth), (scope, cfg.quote_scope)):
            if len(heap) < size:
                heapq.heappush(heap, s)
            elif s > heap[0]:
                heapq.heapreplace(heap, s)
    out.sort(key=lambda c: -c.score)
    return out[:k], seen_quote


def _head_factors(eng: engine.Engine, cfg: RankingConfig, found: dict[str, ev.Evidence], ramp: float,
                  art: Article, subject: bool = True) -> tuple[float, float]:
    """The lead cover and subject prior of an article for a query that is a
    description by ``ramp``; the subject prior only if ``subject`` (the
    query is read as words)."""
    if ramp <= 0.0 and not (subject and cfg.subject):
        return 1.0, 1.0
    sections, kind = ev.lead(art)
    cover = LEAD_COVER.value(cfg, ramp, ev.lead_cover(eng, cfg, found, sections, kind) if ramp > 0.0 else 0.0)
    return cover, SUBJECT.value(cfg, ramp, subject and kind == "summary")


def _ranking(cfg: RankingConfig, sc: _FirstPass, rec: _Record, hits: list[engine.Candidate], total: int,
             reading: str) -> Ranking:
    """The :class:`Ranking`, with each hit's breakdown from what the stages recorded."""
    out = Ranking(hits, total, reading, sc.found, matches=sc.matched > 0)
    for c in hits:
        d = c.docnum
        ph, px = rec.evidence.get(d, (1.0, 1.0))
        sq, mc = rec.quote.get(d, (1.0, 1.0))
        values = {COORDINATION: float(sc.coordination[d]), TITLE: float(sc.title[d]),
                  TITLE_COVER: float(sc.title_cover[d]), SYMPTOMS_QUOTE: sq, MESSAGE_COVER: mc,
                  PHRASE: ph, PROXIMITY: px, CITATIONS: rec.prior[d], AUTHORITY: rec.authority.get(d, 1.0)}
        if d in rec.head:
            values[LEAD_COVER], values[SUBJECT] = rec.head[d]
        if sc.exact is not None:
            values[EXACT] = float(sc.exact[d])
        nearby = int(rec.nearby.get(d, 0))
        factors = []
        for f in FACTORS:
            note = f.note(reading)
            if f is EXACT and f not in values:
                note = ""  # the query has no rare exact token
            elif f.applies(reading) and f not in values:
                note = f"not among the best {cfg.lead_depth}: the head factors re-order those only"
            elif f is CITATIONS:
                note = f"cited by {int(rec.cited[d])}"
            elif f is AUTHORITY and nearby:
                note = "; ".join(filter(None, [f"cited by {nearby} of the query's best matches", note]))
            elif f is AUTHORITY:
                note = ""
            factors.append(Applied(f.name, values.get(f, 1.0), f.applies(reading) and f in values, note))
        counts = {"matched": f"{float(sc.matched[d]):.3g}/{sc.n_words}", "cited_by": int(rec.cited[d]),
                  "cited_nearby": nearby}
        out.breakdowns[d] = Breakdown(reading, "bm25", float(sc.bm25[d]), factors, counts)
    return out
