"""Related articles: what an article cites, what cites it, and more like it.

The citation graph comes from the article's own text (what it cites, in its
order) and the index's ``cites`` field (what cites it). *Similar* articles
are found from the article's distinctive words (title, SYMPTOMS or else its
SUMMARY, the messages SYMPTOMS shows, query words; messages and title count more),
weighted tf·idf: BM25 over the ``body`` composite for them, plus BM25 over
the ``message`` field for its messages' words, scored over whole posting
arrays, then the best few re-scored on the word pairs of its title and
messages found together (see docs/ranking.md, "Similar articles")."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .analysis import analyze_list
from .article import Article, normalize_id, parse_article, reference_runs
from .errors import KBSearchError, NotFound
from .ranking import evidence as ev
from .ranking.config import DEFAULT, DEFAULT_SIMILAR, RankingConfig, SimilarConfig


@dataclass
class Linked:
    """An article at the other end of a citation; ``indexed`` is False for a
    cited article the index lacks (its title is then the citation's own)."""

    id: str
    title: str
    indexed: bool = True

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "indexed": self.indexed}


@dataclass
class Similar:
    """An article about the same problem, with its similarity score."""

    id: str
    title: str
    score: float

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "score": round(self.score, 4)}


@dataclass
class Related:
    """One article's neighbourhood: what it cites (in its order), the live
    articles that cite it, and the articles most like it, best first."""

    id: str
    title: str
    cites: list[Linked] = field(default_factory=list)
    cited_by: list[Linked] = field(default_factory=list)
    similar: list[Similar] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title,
                "cites": [c.to_dict() for c in self.cites],
                "cited_by": [{"id": c.id, "title": c.title} for c in self.cited_by],
                "similar": [s.to_dict() for s in self.similar]}


def docnum_of(eng: engine.Engine, article_id: str, where: str) -> tuple[str, int]:
    """``(normalised id, docnum)`` of a live article; a one-line error if
    ``article_id`` is not an id or not in the index at ``where``."""
    aid = normalize_id(str(article_id))
    if aid is None:
        raise KBSearchError(f"not an article id: {article_id!r} (try Q168845)")
    docnum = eng.docnum_for(aid)
    if docnum is None:
        raise NotFound(f"article {aid} is not in the index at {where}")
    return aid, docnum


def _title(eng: engine.Engine, docnum: int) -> str:
    return eng.stored(docnum).get("title", "")


def cites(eng: engine.Engine, art: Article) -> list[Linked]:
    """The articles ``art`` cites, in its order, with the index's titles (the
    citation's own for an article the index lacks)."""
    out = []
    for c in art.citations:
        d = eng.docnum_for(c.id)
        out.append(Linked(c.id, c.title, False) if d is None else Linked(c.id, _title(eng, d) or c.title))
    return out


def cited_by(eng: engine.Engine, docnum: int) -> list[Linked]:
    """The live articles that cite ``docnum``, by article number."""
    found = []
    for d in eng.citing(int(docnum)).tolist():
        stored = eng.stored(d)
        found.append(Linked(stored["id"], stored.get("title", "")))
    return sorted(found, key=lambda c: int(c.id[1:]))


def _sources(art: Article) -> dict[str, list[str]]:
    """The texts that say what problem ``art`` is about, by kind: its title,
    its lead (SYMPTOMS, or for an article without one its SUMMARY, else its
    first section; without the paragraphs that point to other articles),
    the messages SYMPTOMS shows, and its "Additional query words"."""
    sections, _ = ev.lead(art)
    return {"title": [art.title], "message": list(art.messages),
            "lead": [text for sec in sections for text, ref in reference_runs(sec.text) if not ref],
            "query words": [art.query_words] if art.query_words else []}


def distinctive_terms(eng: engine.Engine, art: Article, cfg: SimilarConfig = DEFAULT_SIMILAR) -> dict[str, float]:
    """``{term: weight}``: the ``cfg.terms`` terms that best tell ``art``'s
    problem apart: (1 + ln tf) × idf, where tf counts each occurrence by the
    weight of where it stands (title, lead, messages, query words).
    Terms only the article itself has (or none has) find nothing and are
    left out."""
    tf: dict[str, float] = {}
    weights = {"title": cfg.title, "lead": cfg.lead, "message": cfg.message, "query words": cfg.query_words}
    for kind, texts in _sources(art).items():
        w = weights[kind]
        if w <= 0:
            continue
        for text in texts:
            for _, t in analyze_list(text):
                tf[t] = tf.get(t, 0.0) + w
    scored = {}
    for t, f in tf.items():
        df = eng.doc_frequency("body", t)
        if df >= 2:
            scored[t] = (1.0 + math.log(f) if f >= 1.0 else f) * ev.idf(eng, df)
    best = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:cfg.terms]
    return dict(best)


def similar(eng: engine.Engine, docnum: int, art: Article, limit: int = 10,
            cfg: SimilarConfig = DEFAULT_SIMILAR, ranking: RankingConfig = DEFAULT) -> list[Similar]:
    """The ``limit`` live articles most like ``art`` (document ``docnum``,
    itself left out), best first: BM25 over ``body`` for its distinctive
    terms, each term's share times its weight, plus (× ``cfg.message_field``)
    BM25 over the ``message`` field for the words of the messages it shows."""
    query = distinctive_terms(eng, art, cfg)
    if not query or limit < 1:
        return []
    scores = _bm25(eng, "body", query, ranking)
    if cfg.message_field > 0 and eng.has_field("message"):
        words = {t for m in art.messages for _, t in analyze_list(m)}
        msg = {t: ev.idf(eng, df) for t in words if 2 <= (df := eng.doc_frequency("message", t))}
        if msg:
            scores += cfg.message_field * _bm25(eng, "message", msg, ranking)
    scores /= sum(query.values())  # the same order; scores near 1 and below rather than in the hundreds
    scores[docnum] = 0.0
    live = eng.live_mask()
    if live is not None:
        scores[~live] = 0.0
    depth = min(max(limit, cfg.rerank_depth), int(np.count_nonzero(scores)))
    if depth == 0:
        return []
    top = np.argpartition(-scores, depth - 1)[:depth].tolist()
    pairs = phrase_pairs(eng, art, cfg) if cfg.phrase > 0 else []
    ranked = sorted(((float(scores[d]) * (1.0 + cfg.phrase * _phrase_share(eng, pairs, d)), d) for d in top),
                    key=lambda sd: (-sd[0], sd[1]))[:limit]
    out = []
    for score, d in ranked:
        stored = eng.stored(d)
        out.append(Similar(stored["id"], stored.get("title", ""), score))
    return out


def phrase_pairs(eng: engine.Engine, art: Article, cfg: SimilarConfig = DEFAULT_SIMILAR) -> list[tuple[str, str, int]]:
    """``[(term, next term, distance)]``: the ``cfg.phrase_pairs`` most
    distinctive (idf sum) pairs of words next to each other (stop words
    aside) in ``art``'s title and messages, of terms other articles have."""
    found: dict[tuple[str, str, int], float] = {}
    for text in [art.title, *art.messages]:
        toks = analyze_list(text)
        for (p1, a), (p2, b) in zip(toks, toks[1:]):
            if p2 - p1 <= 2 and (da := eng.doc_frequency("body", a)) >= 2 and (db := eng.doc_frequency("body", b)) >= 2:
                found[(a, b, p2 - p1)] = ev.idf(eng, da) + ev.idf(eng, db)
    return sorted(found, key=lambda pair: (-found[pair], pair))[:cfg.phrase_pairs]


def _phrase_share(eng: engine.Engine, pairs: list[tuple[str, str, int]], docnum: int) -> float:
    """The share of ``pairs`` that document ``docnum`` has at their distance."""
    if not pairs:
        return 0.0
    hits = 0
    for a, b, gap in pairs:
        pa, pb = eng.postings("body", a), eng.postings("body", b)
        if pa is None or pb is None:
            continue
        first = set(pa.positions(docnum))
        if first and any(p - gap in first for p in pb.positions(docnum)):
            hits += 1
    return hits / len(pairs)


def _bm25(eng: engine.Engine, fieldname: str, query: dict[str, float], ranking: RankingConfig) -> np.ndarray:
    """Every document's BM25 score in ``fieldname`` for ``{term: weight}``
    (the weight takes the place of the idf)."""
    scores = np.zeros(eng.doc_count_all, dtype=np.float32)
    norm = ranking.k1 * (1 - ranking.b + ranking.b * eng.field_lengths(fieldname) / eng.avg_field_length(fieldname))
    for t, qw in query.items():
        p = eng.postings(fieldname, t)
        if p is not None:
            ids, w = p.ids, p.weights
            scores[ids] += qw * w * (ranking.k1 + 1) / (w + norm[ids])
    return scores


def article_at(eng: engine.Engine, docnum: int) -> Article:
    """The article stored for ``docnum``, parsed with its citations."""
    stored = eng.stored(docnum)
    return parse_article(engine.unpack_text(stored["raw"]), source=stored.get("source", ""))


def related(eng: engine.Engine, article_id: str, limit: int = 10, where: str = "",
            cfg: SimilarConfig = DEFAULT_SIMILAR, ranking: RankingConfig = DEFAULT) -> Related:
    """What ``article_id`` cites, what cites it, and the ``limit`` articles most like it."""
    if limit < 0:
        raise KBSearchError("limit must not be negative")
    aid, docnum = docnum_of(eng, article_id, where or eng.path)
    art = article_at(eng, docnum)
    return Related(aid, art.title, cites(eng, art), cited_by(eng, docnum),
                   similar(eng, docnum, art, limit, cfg, ranking))
