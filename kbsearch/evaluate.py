"""Score a ranking against relevance judgments: MRR@10, hit@10, nDCG@10.

Judgments are JSON lines: ``{"query": ..., "relevant": [ids], "exclude": [ids]}``;
any relevant id counts, and excluded ids are dropped from the ranking before
scoring (the article a query was taken from).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .article import normalize_id
from .errors import KBSearchError

DEPTH = 10


@dataclass
class Judgment:
    query: str
    relevant: set[str]
    exclude: set[str] = field(default_factory=set)


@dataclass
class QueryResult:
    """How one judgment's query fared: where its first relevant article
    ranked, so that a user can see which of their queries fail and what
    ranked above the answer."""

    query: str
    rank: int | None  # of the first relevant article, 1-based; None: not in the top 10
    rr: float
    ndcg: float
    ranking: list[str]  # the top 10 ids, excluded ones dropped
    error: str | None = None  # why the ranker rejected the query

    def to_dict(self) -> dict:
        return {"query": self.query, "rank": self.rank, "rr": round(self.rr, 4), "ndcg@10": round(self.ndcg, 4),
                "ranking": self.ranking, "error": self.error}


@dataclass
class Scores:
    """Mean metrics over one judgments file, and each query's result in
    file order."""

    name: str
    queries: int = 0
    mrr: float = 0.0
    hit: float = 0.0
    ndcg: float = 0.0
    errors: int = 0
    unindexed: int = 0  # judgments none of whose relevant articles the index has
    seconds: float = 0.0
    results: list[QueryResult] = field(default_factory=list, repr=False)

    def to_dict(self, per_query: bool = False) -> dict:
        """The means (and with ``per_query``, each query's result) as JSON-ready data."""
        d = {"file": self.name, "queries": self.queries, "mrr@10": round(self.mrr, 4),
             "hit@10": round(self.hit, 4), "ndcg@10": round(self.ndcg, 4), "errors": self.errors,
             "unindexed": self.unindexed, "ms_per_query": round(1000 * self.seconds / max(1, self.queries), 1)}
        if per_query:
            d["per_query"] = [r.to_dict() for r in self.results]
        return d


def load_judgments(path: str | Path) -> list[Judgment]:
    """Read a judgments file; a one-line :class:`KBSearchError` if it is
    malformed or holds no judgment (scoring nothing would print zeros)."""
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise KBSearchError(f"cannot read judgments {path}: {getattr(e, 'strerror', None) or e}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise KBSearchError(f"{path} line {n}: not JSON") from None
        out.append(Judgment(*_judgment(obj, f"{path} line {n}")))
    if not out:
        raise KBSearchError(f"no judgments in {path}")
    return out


def _judgment(obj, where: str) -> tuple[str, set[str], set[str]]:
    """``(query, relevant, exclude)`` of one parsed judgment line, checked:
    a query string, and lists of article ids (a bare string is an error, not
    a list of its characters)."""
    if not isinstance(obj, dict):
        raise KBSearchError(f"{where}: not a judgment (want an object with query, relevant, exclude)")
    query = obj.get("query")
    if not isinstance(query, str) or not query.strip():
        raise KBSearchError(f"{where}: 'query' must be a non-empty string")
    ids = []
    for key, need in (("relevant", True), ("exclude", False)):
        value = obj.get(key, None if need else [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or (need and not value):
            raise KBSearchError(f"{where}: {key!r} must be a list of article ids, such as [\"Q191428\"]"
                                + (f" (got {json.dumps(value)[:40]})" if value is not None else " (missing)"))
        ids.append({normalize_id(v) or v for v in value})
    return query, ids[0], ids[1]


def score_ranking(ranking: list[str], j: Judgment) -> tuple[float, float, float]:
    """(reciprocal rank, hit, nDCG) at depth 10 for one ranked id list."""
    first, nd = _score(_top(ranking, j), j)
    return (1.0 / first if first else 0.0), (1.0 if first else 0.0), nd


def _top(ranking: list[str], j: Judgment) -> list[str]:
    """The first :data:`DEPTH` ids of ``ranking`` that ``j`` does not exclude."""
    return [r for r in ranking if r not in j.exclude][:DEPTH]


def _score(ranked: list[str], j: Judgment) -> tuple[int | None, float]:
    """The rank of the first relevant id in ``ranked`` (1-based; None if
    none is there) and nDCG."""
    first = None
    dcg = 0.0
    for i, r in enumerate(ranked, 1):
        if r in j.relevant:
            first = first or i
            dcg += 1.0 / math.log2(i + 1)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(j.relevant), DEPTH)))
    return first, (dcg / ideal if ideal else 0.0)


def evaluate(rank: Callable[[str, int, frozenset[str]], list[str]], judgments: list[Judgment],
             name: str = "", indexed: Callable[[str], bool] | None = None) -> Scores:
    """Mean metrics of ``rank(query, k, exclude) -> ids`` over ``judgments``.

    ``exclude`` is the judgment's set of ids to treat as not indexed (a
    ranker that uses links between articles must ignore theirs too); they
    are dropped from the ranking here as well.

    A query the ranker rejects (e.g. only stop words) scores zero and is counted in ``errors``.
    ``indexed(id)``, if given, says whether the index has an article: the
    judgments none of whose relevant articles it has cannot score and are
    counted in ``unindexed`` (judgments made for another archive, or ids
    mistyped).
    """
    s = Scores(name, queries=len(judgments))
    if indexed is not None:
        s.unindexed = sum(1 for j in judgments if not any(indexed(r) for r in j.relevant))
    t0 = time.perf_counter()
    for j in judgments:
        try:
            ids = rank(j.query, DEPTH + len(j.exclude), frozenset(j.exclude))
        except KBSearchError as e:
            s.errors += 1
            s.results.append(QueryResult(j.query, None, 0.0, 0.0, [], str(e)))
            continue
        top = _top(ids, j)
        first, nd = _score(top, j)
        rr = 1.0 / first if first else 0.0
        s.results.append(QueryResult(j.query, first, rr, nd, top))
        s.mrr += rr
        s.hit += 1.0 if first else 0.0
        s.ndcg += nd
    s.seconds = time.perf_counter() - t0
    if judgments:
        s.mrr /= len(judgments)
        s.hit /= len(judgments)
        s.ndcg /= len(judgments)
    return s
