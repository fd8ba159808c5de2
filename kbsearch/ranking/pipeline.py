"""The ranking of free text, in stages, recording each hit's breakdown.

1. **First pass**, every document that could reach the top (the others are
   pruned: :mod:`.prune`): BM25 over the ``body`` composite (the topics
   citing articles give count as occurrences) × coordination × title ×
   title cover.
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
from . import prune
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
    """The first pass's values for the documents it scored (``docs``,
    ascending; every match, or those pruning left that can reach the top),
    kept for the later stages, and which documents match at all."""

    found: dict[str, ev.Evidence]
    terms: list[QueryTerm]
    pairs: list[tuple[str, str, int]]
    linked: list[set[int]]
    docs: np.ndarray
    bm25: np.ndarray
    matched: np.ndarray
    n_words: int
    coordination: np.ndarray
    exact: np.ndarray | None
    title: np.ndarray
    title_cover: np.ndarray
    title_factor: np.ndarray
    final: np.ndarray
    # Of ``docs``: live and not excluded; and also within the filter.
    counted: np.ndarray
    allowed: np.ndarray
    # Every document: matches a query word, is live, not excluded, within the filter.
    matches: np.ndarray
    total: int

    def rows(self, docnums: list[int]) -> dict[int, int]:
        """``{docnum: row}``: where each of ``docnums`` stands in ``docs``."""
        return dict(zip(docnums, np.searchsorted(self.docs, np.asarray(docnums, dtype=np.int64)).tolist()))

    def best(self, n: int, among: np.ndarray) -> np.ndarray:
        """The docnums of the ``n`` best scores of the rows ``among`` (a
        mask) with a score above 0, in no particular order."""
        rows = np.flatnonzero(among)
        n = min(n, len(rows))
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        scores = self.final[rows]
        top = rows[np.argpartition(-scores, n - 1)[:n]]
        return self.docs[top[self.final[top] > 0]]


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


def first_pass(eng: engine.Engine, cfg: RankingConfig, qterms: list[QueryTerm], excluded: np.ndarray,
               k: int = 0, allowed: np.ndarray | None = None) -> _FirstPass | None:
    """Stage 1 for every document that could reach the top ``k`` within
    ``allowed`` (and the whole index's top ``cfg.authority_depth``, when the
    authority counts), all matches when not pruning (:mod:`.prune`); None
    when no query word is in the index."""
    share, n_words = ev.typed_words(cfg, qterms)
    found = ev.gather(eng, cfg, qterms, excluded)
    if not found:
        return None
    evs = list(found.values())
    idf_sum = 0.0
    for e in evs:
        e.share = share.get(e.term, 1.0)
        idf_sum += e.share * e.idf
    rare = ev.exact_tokens(eng, cfg, qterms, found) if cfg.exact else []
    matches = np.zeros(eng.doc_count_all, dtype=bool)
    for e in evs:
        matches[e.ids] = True
    live = eng.live_mask()
    if live is not None:
        matches &= live
    matches[excluded] = False
    counted_all = matches.copy() if allowed is not None else matches
    if allowed is not None:
        matches &= allowed
    total = int(np.count_nonzero(matches))
    norm = eng.bm25_norm(cfg.k1, cfg.b)
    if prune.applies(cfg) and len(evs) > 1:
        pool = cfg.authority_depth if cfg.authority and describes(cfg, n_words) < 1.0 else 0
        shortest = float(norm.min()) if len(norm) else 0.0
        bounds = {id(e): prune.term_bound(cfg, e, shortest) for e in evs}
        order = sorted(evs, key=lambda e: bounds[id(e)])
        title_w = prune.title_weight(cfg, found)
        # The essential words, from the highest bound down, until the rest cannot reach the top.
        i = len(order) - 1
        docs = order[i].ids
        while i > 0 and len(docs) < max(k, cfg.rerank_depth, pool):
            i -= 1
            docs = ev.union(docs, order[i].ids)
        sc = _score(eng, cfg, evs, rare, docs, norm, n_words, idf_sum, counted_all, matches)
        while i > 0:
            # The k-th best so far only rises as documents are added: the
            # words it leaves out now can be left out of the final set too.
            need = min(prune.kth_best(sc.final[sc.allowed], max(k, cfg.rerank_depth)),
                       prune.kth_best(sc.final[sc.counted], pool))
            j = i
            while j > 0 and prune.outside_bound(cfg, order[:j], [bounds[id(e)] for e in order[:j]], n_words,
                                                idf_sum, rare, title_w) >= need:
                j -= 1
            if j == i:
                break
            docs = ev.union(docs, *(e.ids for e in order[j:i]))
            i = j
            sc = _score(eng, cfg, evs, rare, docs, norm, n_words, idf_sum, counted_all, matches)
    else:
        docs = np.flatnonzero(counted_all)
        sc = _score(eng, cfg, evs, rare, docs, norm, n_words, idf_sum, counted_all, matches)
    pairs = ev.pairs_of(qterms, found)
    sc.found, sc.terms, sc.pairs, sc.linked = found, qterms, pairs, ev.topic_pairs(eng, cfg, pairs, excluded)
    sc.matches, sc.total = matches, total
    return sc


def _score(eng: engine.Engine, cfg: RankingConfig, evs: list[ev.Evidence], rare: list[ev.Evidence],
           docs: np.ndarray, norm: np.ndarray, n_words: int, idf_sum: float, counted: np.ndarray,
           allowed: np.ndarray) -> _FirstPass:
    """The first pass over ``docs`` (ascending docnums): the same float32
    operations, in the same order, as over every document."""
    n = len(docs)
    scores = np.zeros(n, dtype=np.float32)
    matched = np.zeros(n, dtype=np.float32)
    title = np.zeros(n, dtype=np.float32)
    in_title = np.zeros(n, dtype=np.float32)
    dnorm = norm[docs]
    rows = ev.Rows(docs, len(norm))
    for e in evs:
        at, w = rows.weights(e.ids, e.weights)
        part = e.share
        scores[at] += part * e.idf * w * (cfg.k1 + 1) / (w + dnorm[at])
        matched[at] += part
        ev.add_title(eng, cfg, e, rows, title, in_title, part)
    title /= idf_sum
    cover = np.minimum(1.0, in_title / np.maximum(eng.field_lengths("title")[docs], 1.0))
    by_share, by_cover = TITLE.value(cfg, title), TITLE_COVER.value(cfg, cover)
    title_factor = by_share * by_cover
    coordination = COORDINATION.value(cfg, matched, n_words)
    final = scores * coordination * title_factor
    exact = None
    if rare:
        has = np.zeros(n, dtype=np.float32)
        for e in rare:
            has[rows.of(e.ids)] += e.idf
        exact = EXACT.value(cfg, has / sum(e.idf for e in rare))
        final *= exact
    counted_rows = counted[docs] & (matched > 0)
    final[~counted_rows] = 0.0
    return _FirstPass({}, [], [], [], docs, scores, matched, n_words, coordination, exact, by_share, by_cover,
                      title_factor, final, counted_rows, counted_rows & allowed[docs], allowed, 0)


def rank(eng: engine.Engine, qterms: list, k: int, cfg: RankingConfig = DEFAULT,
         allowed: np.ndarray | None = None, excluded: np.ndarray | None = None) -> Ranking:
    """Rank the documents for the OR of the query's words and return the
    top ``k`` (see the module docstring for the stages).

    ``qterms``: the analysed query (:class:`QueryTerm`, or plain
    ``(position, term, start, end)`` spans). ``allowed``: a mask of the
    documents a filter lets through. ``excluded``: docnums treated as not
    indexed, left out along with their link evidence.
    """
    qterms = [q if isinstance(q, QueryTerm) else QueryTerm(*q) for q in qterms]
    if excluded is None:
        excluded = np.zeros(0, dtype=np.int64)
    sc = first_pass(eng, cfg, qterms, excluded, k, allowed)
    if sc is None:
        return Ranking([], 0)
    ramp = describes(cfg, sc.n_words)
    # The whole index's best matches, whatever the filter: what the KB says about the topic.
    pool = np.sort(sc.best(cfg.authority_depth, sc.counted)) if cfg.authority and ramp < 1.0 else None
    total = sc.total
    if total == 0:
        return Ranking([], 0, found=sc.found)
    depth = min(max(k, cfg.rerank_depth), total)
    top = sc.best(depth, sc.allowed).tolist()
    row = sc.rows(top)
    rec = _Record()
    cited = ev.cited_by(eng, top, excluded)
    prior = CITATIONS.value(cfg, cited)
    rec.cited, rec.prior = dict(zip(top, cited.tolist())), dict(zip(top, prior.tolist()))
    ranked = [(float(sc.final[row[d]]) * pr, d) for d, pr in zip(top, prior.tolist())]
    depth = max(k, cfg.lead_depth)
    out, quoted = _rescore(eng, cfg, sc, ranked, depth, rec)
    if quoted:
        out, _ = _rescore(eng, cfg, sc, [(s / float(sc.title_factor[row[d]]), d) for s, d in ranked], depth, rec,
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
    out = Ranking(hits, total, reading, sc.found, matches=sc.matches)
    row = sc.rows([c.docnum for c in hits])
    for c in hits:
        d = c.docnum
        r = row[d]
        ph, px = rec.evidence.get(d, (1.0, 1.0))
        sq, mc = rec.quote.get(d, (1.0, 1.0))
        values = {COORDINATION: float(sc.coordination[r]), TITLE: float(sc.title[r]),
                  TITLE_COVER: float(sc.title_cover[r]), SYMPTOMS_QUOTE: sq, MESSAGE_COVER: mc,
                  PHRASE: ph, PROXIMITY: px, CITATIONS: rec.prior[d], AUTHORITY: rec.authority.get(d, 1.0)}
        if d in rec.head:
            values[LEAD_COVER], values[SUBJECT] = rec.head[d]
        if sc.exact is not None:
            values[EXACT] = float(sc.exact[r])
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
        counts = {"matched": f"{float(sc.matched[r]):.3g}/{sc.n_words}", "cited_by": int(rec.cited[d]),
                  "cited_nearby": nearby}
        out.breakdowns[d] = Breakdown(reading, "bm25", float(sc.bm25[r]), factors, counts)
    return out
