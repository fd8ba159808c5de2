"""Querying: from what a user typed to ranked :class:`Hit` records.

Reads the query (free text, Whoosh syntax, or article numbers), hands free
text to the ranking model (:mod:`kbsearch.ranking`) and syntax to Whoosh,
and turns what comes back into hits with snippets and, when asked, the
explanation the scorer recorded.

Free text is ranked, never AND-ed: a symptom description rarely matches every
word. Text that uses Whoosh query syntax (quotes, ``field:value``,
AND/OR/NOT, parentheses, wildcards) goes through Whoosh's parser instead, with
OR as the default connective. A query that is just an article number shows
that article first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from . import abbreviations, compounds, engine, spelling, terms
from .analysis import UNSTEMMED, analyze_spans, stemmed
from .article import Article, normalize_id
from .errors import KBSearchError
from .filters import Filters, why_empty
from .ranking import evidence as ev
from .ranking.config import DEFAULT, RankingConfig
from .ranking.factors import NAMED, SYNTAX, Breakdown
from .ranking.pipeline import rank
from .snippets import make_snippet, snippet_sections
from .thesaurus import QueryTerm, expand

MAX_QUERY_CHARS = 2000

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
# An article number given to a field of ids in syntax: "cites:152734",
# "id:kb168845" (any form ``show`` takes).
_ID_FIELD_RE = re.compile(r"\b(cites|id):(\"?)((?:Q|KB)?\d+)\2(?=[\s)]|$)", re.IGNORECASE)
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
    # What the score is made of, as the scorer recorded it.
    breakdown: Breakdown | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("spans")
        d.pop("breakdown")
        if self.explanation is None:
            d.pop("explanation")
        d["score"] = round(self.score, 4)
        return d


@dataclass
class Results:
    """The answer to one query: the hits shown and how many articles matched
    in all (every match is counted, never estimated)."""

    query: str
    total: int
    hits: list[Hit]
    offset: int = 0
    # Counts of every match by product, year and issue type, when asked for.
    facets: dict[str, dict[str, int]] | None = None
    # The query as searched, when typos were corrected (else None), and a
    # close query worth trying (else None); see :mod:`kbsearch.spelling`.
    corrected: str | None = None
    suggestion: str | None = None
    # Words of a free-text query that no article has (as typed, in query
    # order) while others matched: the hits say nothing about them.
    unmatched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {"query": self.query, "total": self.total, "offset": self.offset, "corrected": self.corrected,
             "suggestion": self.suggestion, "unmatched": self.unmatched, "hits": [h.to_dict() for h in self.hits]}
        if self.facets is not None:
            d["facets"] = self.facets
        return d


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
           explain: bool = False, exclude: Iterable[str] = (), vocabulary: bool = True,
           config: RankingConfig = DEFAULT, *, since: str | None = None, until: str | None = None,
           offset: int = 0, facets: bool = False, exact: bool = False) -> Results:
    """Rank the index's articles for ``text``; see the module docstring.

    ``since``/``until``: only articles dated in that range (``YYYY``,
    ``YYYY-MM`` or ``YYYY-MM-DD``, both ends inclusive). ``offset``: skip
    that many hits first (the next page: hits 11-20 are those a 20-hit
    search shows second). ``facets``: also count every match by product,
    year and issue type.

    ``config``: the ranking model's weights (experiments pass a modified
    copy of :data:`kbsearch.ranking.DEFAULT`).

    ``vocabulary``: let query words also match the KB's words for them
    (:mod:`kbsearch.thesaurus`) and a short form the long form the archive
    defines for it (:mod:`kbsearch.abbreviations`); False matches the words
    as typed.

    ``exclude``: article ids treated as if they were not indexed: left out of
    the results, and their citations and the topics they give other articles
    do not count (how relevance judgments that drop a query's source article
    are scored fairly).

    ``exact``: search free text as typed; otherwise a misspelled word is read
    as the close word the archive uses (:mod:`kbsearch.spelling`), and the
    results say so (``corrected``).
    """
    query = _clean(text)
    if limit < 1:
        raise KBSearchError("limit must be at least 1")
    if offset < 0:
        raise KBSearchError("offset must be 0 or more")
    filters = Filters(product, version, keyword, since, until)
    flt = eng.filter_query(product, version, keyword, *filters.dates())
    allowed = None if flt is None else eng.filter_mask(flt)
    if allowed is not None and not allowed.any():
        raise KBSearchError(why_empty(eng, filters))
    excluded = np.array(sorted(d for d in (eng.docnum_for(i) for i in {normalize_id(x) or x for x in exclude})
                               if d is not None), dtype=np.int64)

    # Articles the query names ("Q168845", or "the hotfix in KB266712") come
    # first: whoever typed a number wants that article.
    syntax = uses_syntax(query)
    whole = normalize_id(query)
    spell = spelling.check(eng, query) if not syntax and whole is None else spelling.Spelling(None, None)
    corrected = None if exact else spell.corrected
    named = [whole] if whole else [] if syntax else [f"Q{int(m.group(1))}" for m in _NAMED_ID_RE.finditer(query)]
    pinned = [d for d in dict.fromkeys(eng.docnum_for(i) for i in named)
              if d is not None and d not in excluded]
    extra = len(pinned)

    spans = None
    breakdowns: dict[int, Breakdown] = {}
    found = None
    matches = None
    unmatched: list[str] = []
    k = offset + limit
    if syntax:
        q = eng.parse_syntax(_ID_FIELD_RE.sub(_id_value, query))
        words = _terms_of(q)
        cands, total = eng.run(q, k + extra + len(excluded), filter=flt)
        if facets:
            matches = eng.query_mask(q) if allowed is None else eng.query_mask(q) & allowed
        if excluded.size:
            gone = set(excluded.tolist())
            cands = [c for c in cands if c.docnum not in gone]
            total -= sum(1 for d in gone if eng.doc_matches(d, q))
        breakdowns = {c.docnum: Breakdown(SYNTAX, "bm25f", c.score) for c in cands}
    else:
        spans = _as_indexed(eng, query_terms(corrected or query, vocabulary))
        if vocabulary:
            quoted = [m.span() for m in _PHRASE_RE.finditer(corrected or query)]
            spans = abbreviations.expand(eng, spans, config.abbreviations, as_typed=quoted)
            spans = compounds.join(eng, spans, corrected or query, config.compounds, as_typed=quoted)
        words = list(dict.fromkeys(q.term for q in spans))
        if not words and whole is None:
            raise KBSearchError(f"nothing to search for in {text.strip()[:60]!r}: only stop words or symbols")
        ranking = rank(eng, spans, k + extra, config, allowed, excluded)
        cands, total, breakdowns, found = ranking.hits, ranking.total, ranking.breakdowns, ranking.found
        matches = ranking.matches
        if found:
            unmatched = unmatched_words(corrected or query, spans, found)
        # Highlight what matched, the KB's words for the query's included.
        words += [a for q in spans for a, _ in q.alternatives if a not in words]

    if pinned:
        ranked = {c.docnum for c in cands}
        every_match_ranked = len(cands) >= total
        cands = [c for c in cands if c.docnum not in pinned]
        shown = [d for d in pinned if flt is None or eng.doc_matches(d, flt)]
        best = max((c.score for c in cands), default=0.0)
        cands[:0] = [engine.Candidate(d, best + len(shown) - i) for i, d in enumerate(shown)]
        breakdowns.update((c.docnum, Breakdown(NAMED, "named", c.score)) for c in cands[:len(shown)])
        if every_match_ranked:
            total += sum(1 for d in shown if d not in ranked)
        total = max(total, len(cands))
    counts = None
    if facets:
        matches = np.zeros(eng.doc_count_all, dtype=bool) if matches is None else matches.copy()
        matches[excluded] = False
        matches[[c.docnum for c in cands if c.docnum in pinned]] = True
        counts = eng.facets().count(matches)
    cands = cands[offset:offset + limit]
    for c in cands:
        if not c.fields:
            c.fields = eng.stored(c.docnum)
    if explain and found is None:
        qterms = spans if spans is not None else [QueryTerm(i, t, 0, 0) for i, t in enumerate(words)]
        found = ev.gather(eng, config, qterms, excluded)
    shares = _shares(config, spans) if spans is not None else None
    hits = [_hit(eng, config, c, set(words), breakdowns.get(c.docnum), found if explain else None, shares)
            for c in cands]
    # Suggested: what correction would have searched, under ``exact``; a
    # close query when few articles match.
    suggestion = spell.corrected if exact else None
    if suggestion is None and total < limit and not syntax and whole is None:
        suggestion = spelling.check(eng, query, suggest=True).suggestion
    return Results(query=text, total=total, hits=hits, offset=offset, facets=counts, corrected=corrected,
                   suggestion=suggestion, unmatched=unmatched)


def unmatched_words(text: str, qterms: list[QueryTerm], found: dict) -> list[str]:
    """The words of ``text`` none of whose analysed parts (nor the KB's
    words for them) any article has, as typed, each once."""
    parts: dict[tuple[int, int], bool] = {}
    for q in qterms:
        parts[(q.start, q.end)] = parts.get((q.start, q.end), False) or q.term in found
    return list(dict.fromkeys(text[a:b] for (a, b), hit in parts.items() if not hit))


def _id_value(m: re.Match) -> str:
    """``field:Qnnnnnn`` for an id in any form :func:`normalize_id` takes."""
    return f"{m.group(1).lower()}:{normalize_id(m.group(3)) or m.group(3)}"


def query_terms(text: str, vocabulary: bool = True) -> list[QueryTerm]:
    """The analysed words of a free-text query, each with the KB's words
    that also count as it (unless ``vocabulary`` is off; never for words in
    quotation marks, which match as typed)."""
    spans = list(analyze_spans(text))
    if vocabulary:
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


def explanation(eng: engine.Engine, cfg: RankingConfig, docnum: int, found: dict[str, ev.Evidence],
                art: Article, breakdown: Breakdown | None) -> dict:
    """Why ``docnum`` scored: each query word's weight in the body composite,
    the sections of the article it occurs in, the KB words that matched for
    it (``matched_as``), how many citing articles name it in the topic they
    give this one (``cited_as``) and its BM25 share (``terms``); then the
    scorer's record of the factors (:meth:`Breakdown.to_dict`)."""
    where = ev.sections_of(art, set().union(*(e.words for e in found.values())))
    rows = []
    length = float(eng.field_lengths("body")[docnum])
    for t, e in found.items():
        w = e.weight_of(docnum)
        if not w:
            continue
        present = [a for a, p, _ in e.postings if p.positions(docnum)]
        sections = list(dict.fromkeys(s for a in present for s in where.get(a, [])))
        rows.append({"term": t, "field": "body", "sections": sections,
                     "matched_as": [a for a in present if a != t],
                     "cited_as": round(e.anchored.get(docnum, 0)),
                     "weight": round(w, 3), "df": e.df,
                     "score": round(e.share * ev.bm25(eng, cfg, e.idf, w, length), 4),
                     **({"share": round(e.share, 3)} if e.share != 1.0 else {})})
    out: dict = {"terms": rows, "factors": {}}
    if breakdown is not None:
        out.update(breakdown.to_dict())
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


def _shares(cfg: RankingConfig, qterms: list[QueryTerm]) -> dict[str, float]:
    """Each query term's (and its alternatives') share of a typed word, for
    choosing snippets as the ranking weighs words (:func:`ev.typed_words`)."""
    share, _ = ev.typed_words(cfg, qterms)
    out = dict(share)
    for q in qterms:
        for a, _ in q.alternatives:
            out[a] = max(out.get(a, 0.0), share.get(q.term, 1.0))
    return out


def _hit(eng: engine.Engine, cfg: RankingConfig, c: engine.Candidate, words: set[str],
         breakdown: Breakdown | None, found: dict[str, ev.Evidence] | None,
         shares: dict[str, float] | None = None) -> Hit:
    """The hit for candidate ``c``: its snippet for ``words`` (weighed by
    ``shares``) and, when ``found`` (the query words' evidence) is given,
    its explanation."""
    f = c.fields
    art = ev.article(eng, c.docnum, citations=False)
    snip = make_snippet(snippet_sections(art), words, weights=shares)
    why = explanation(eng, cfg, c.docnum, found, art, breakdown) if found is not None else None
    return Hit(
        id=f["id"],
        title=f.get("title", ""),
        product=f.get("product", ""),
        versions=list(f.get("version") or []),
        date=f.get("date", ""),
        score=c.score,
        snippet=snip.text,
        spans=snip.spans,
        explanation=why,
        breakdown=breakdown,
    )
