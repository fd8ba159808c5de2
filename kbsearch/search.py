"""Querying and ranking: from what a user typed to ranked :class:`Hit` records.

Free text is ranked, never AND-ed: a symptom description rarely matches every
word. Text that uses Whoosh query syntax (quotes, ``field:value``,
AND/OR/NOT, parentheses, wildcards) goes through Whoosh's parser instead, with
OR as the default connective. A query that is just an article number shows
that article first.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from . import engine
from .analysis import analyze_spans, query_terms
from .article import normalize_id, parse_article
from .errors import KBSearchError
from .snippets import make_snippet

# How much matching more of the query's words lifts a document (Whoosh's
# "coordination" scale on the OR of terms).
COORD = 0.9
# Phrase evidence: adjacent query words found together in the body.
PHRASE_BOOST = 0.5
MAX_QUERY_CHARS = 2000

_FIELDS = "|".join(engine.TEXT_FIELDS + engine.KEYWORD_FIELDS)
_SYNTAX_RE = re.compile(
    r'"'                                      # a quoted phrase
    rf"|\b(?:{_FIELDS}):\S"                   # field:value, for our fields only
    r"|(?:^|\s)[+-]\w"                        # +required -excluded
    r"|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b"    # operators (upper case, as Whoosh wants)
    r"|[()\[\]{}^~]"                          # grouping, ranges, boosts, slop
    r"|\w\*|\*\w|\w\?\w",                        # wildcards inside or next to a word
)


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
    explanation: list[dict] | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("spans")
        if self.explanation is None:
            d.pop("explanation")
        d["score"] = round(self.score, 4)
        return d


@dataclass
class Results:
    """The answer to one query: the hits shown and how many matched in all."""

    query: str
    total: int
    hits: list[Hit]

    def to_dict(self) -> dict:
        return {"query": self.query, "total": self.total, "hits": [h.to_dict() for h in self.hits]}


def uses_syntax(text: str) -> bool:
    """Whether ``text`` asks for Whoosh query syntax rather than free text."""
    return bool(_SYNTAX_RE.search(text))


def search(eng: engine.Engine, text: str, limit: int = 10, product: str | None = None,
           version: str | None = None, keyword: str | None = None,
           explain: bool = False) -> Results:
    """Rank the index's articles for ``text``; see the module docstring."""
    query = _clean(text)
    if limit < 1:
        raise KBSearchError("limit must be at least 1")
    flt = eng.filter_query(product, version, keyword)

    pinned = None
    aid = normalize_id(query)
    if aid is not None:
        pinned = eng.docnum_for(aid)

    if uses_syntax(query):
        q = eng.parse_syntax(query)
        terms = _terms_of(q)
        clauses = [engine.TermClause("body", t) for t in terms]
    else:
        terms = query_terms(query)
        if not terms and pinned is None:
            raise KBSearchError(f"nothing to search for in {text.strip()[:60]!r}: only stop words or symbols")
        clauses = [engine.TermClause("body", t) for t in terms]
        phrases = _adjacent_pairs(query)
        q = eng.compile(clauses, phrases, coord=COORD)

    cands, total = eng.run(q, limit + (1 if pinned is not None else 0), filter=flt)
    if pinned is not None:
        cands = [c for c in cands if c.docnum != pinned]
        stored = eng.stored(pinned)
        if flt is None or eng.doc_matches(pinned, flt):
            cands.insert(0, engine.Candidate(pinned, cands[0].score + 1.0 if cands else 1.0, stored))
            total = max(total, 1)
    cands = cands[:limit]
    term_set = set(terms)
    hits = [_hit(eng, c, term_set, clauses if explain else None) for c in cands]
    return Results(query=text, total=total, hits=hits)


def _clean(text: str) -> str:
    if text is None:
        raise KBSearchError("empty query")
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    if not text:
        raise KBSearchError("empty query: type some words that describe the problem")
    return text[:MAX_QUERY_CHARS]


def _adjacent_pairs(text: str) -> list[engine.PhraseClause]:
    """Each pair of consecutive query terms, as phrase evidence for the body."""
    toks = list(analyze_spans(text))
    out = []
    for (p1, t1, _, _), (p2, t2, _, _) in zip(toks, toks[1:]):
        if t1 != t2:
            out.append(engine.PhraseClause("body", [t1, t2], slop=max(1, p2 - p1), boost=PHRASE_BOOST))
    return out


def _terms_of(q) -> list[str]:
    out = []
    try:
        for fname, text in q.iter_all_terms():
            if fname in ("body", "title", "symptoms", "cause", "resolution"):
                t = text.decode("utf-8") if isinstance(text, bytes) else text
                if t not in out:
                    out.append(t)
    except Exception:
        pass
    return out


def _hit(eng: engine.Engine, c: engine.Candidate, terms: set[str], clauses) -> Hit:
    f = c.fields
    art = parse_article(engine.unpack_text(f["raw"]))
    sections = [("title", art.title)] + [(s.name, s.text) for s in art.sections]
    if art.preamble:
        sections.append(("preamble", art.preamble))
    snip = make_snippet(sections, terms)
    explanation = None
    if clauses is not None:
        explanation = [
            {"field": fld, "term": term, "weight": round(w, 3), "score": round(s, 4)}
            for fld, term, w, s in eng.explain_terms(c.docnum, clauses)
        ]
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
