"""The Python API: :class:`KnowledgeBase`, what the CLI and embedding tools use."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from . import engine, ingest, search
from .article import Article, normalize_id, parse_article
from .errors import KBSearchError, NotFound
from .ranking.config import DEFAULT, RankingConfig

ENV_VAR = "KBSEARCH_INDEX"
DEFAULT_INDEX = "index"
# What the first run in a folder says: the default corpus is two samples.
FIRST_RUN = ("No index at {index} yet: building it from the default corpus, the 2 sample articles "
             "shipped with kbsearch (Q168845, Q280515), so results come from those two only.\n"
             "For the real archive (56,989 articles) run 'kbsearch fetch'; to search your own files, "
             "'kbsearch index PATH' (the samples are then left out).")


def default_index_dir() -> str:
    """``$KBSEARCH_INDEX`` if set, else ``index`` in the current directory."""
    return os.environ.get(ENV_VAR) or DEFAULT_INDEX


def default_corpus() -> Path:
    """The articles shipped with kbsearch (installed, or in a source checkout)."""
    here = Path(__file__).resolve().parent
    for cand in (here / "corpus", here.parent / "corpus"):
        if cand.is_dir():
            return cand
    raise KBSearchError("the default corpus is missing from this installation")


class KnowledgeBase:
    """An index of KB articles that can be searched, read and updated.

    >>> kb = KnowledgeBase.open("index")
    >>> [h.id for h in kb.search("redirector unable to delete", limit=3)]

    One instance may be shared by threads (the servers do): its reads take
    turns, since the open index keeps caches that are not thread-safe.
    """

    def __init__(self, path: str, ranking: RankingConfig = DEFAULT):
        self.path = str(path)
        self.ranking = ranking
        self._engine: engine.Engine | None = None
        self._generation = -1
        self._lock = threading.RLock()

    # --- opening -------------------------------------------------------

    @classmethod
    def open(cls, index_dir: str | os.PathLike | None = None, *,
             on_build: Callable[[str], None] | None = None,
             ranking: RankingConfig = DEFAULT) -> "KnowledgeBase":
        """Open the index at ``index_dir`` (default: :func:`default_index_dir`).

        ``ranking``: the ranking model's weights; experiments pass a modified
        copy (``dataclasses.replace(kbsearch.ranking.DEFAULT, phrase=0.0)``).

        When no directory is given and the default index does not exist yet,
        it is built from the default corpus first; ``on_build`` is told so.
        An explicitly named index that does not exist is an error.
        """
        if index_dir is None:
            index_dir = default_index_dir()
            if not engine.index_exists(index_dir):
                corpus = default_corpus()
                if on_build:
                    on_build(FIRST_RUN.format(index=os.path.abspath(index_dir)))
                ingest.index_paths(index_dir, [str(corpus)])
                ingest.mark_samples(index_dir, str(corpus))
        kb = cls(str(index_dir), ranking)
        kb._open_engine()
        return kb

    @classmethod
    def build(cls, index_dir: str | os.PathLike, paths: Iterable[str], **kwargs) -> ingest.IndexReport:
        """Index ``paths`` into ``index_dir`` (created if needed); see :meth:`index`."""
        return ingest.index_paths(str(index_dir), [str(p) for p in paths], **kwargs)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def engine(self) -> engine.Engine:
        """The open index, reopened first if another run has committed since.

        A commit may delete the files of segments it replaced (``--rebuild``)
        while this reader still needs them, and Whoosh's own refresh reuses
        stale segment readers (deleted articles reappear), so a newer
        generation means a fresh open.
        """
        eng = self._engine
        if eng is not None and eng.latest_generation() != self._generation:
            eng = None  # dropped, not closed: another thread may still be reading it
        return eng if eng is not None else self._open_engine()

    def _open_engine(self) -> engine.Engine:
        eng = engine.Engine(self.path)
        self._generation = eng.generation
        self._engine = eng
        return eng

    # --- reading -------------------------------------------------------

    def search(self, text: str, limit: int = 10, product: str | None = None,
               version: str | None = None, keyword: str | None = None,
               explain: bool = False, exclude: Iterable[str] = (),
               vocabulary: bool = True, **more) -> list[search.Hit]:
        """The best ``limit`` articles for ``text``, best first.

        ``exclude``: article ids to treat as not indexed (left out, and their
        citations of other articles ignored). ``vocabulary=False``: match the
        query's words as typed, without the KB's words for them
        ("nt4" -> "NT 4.0", "freezes" -> "hangs"). Also ``since``/``until``
        (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``), ``offset`` (the next page),
        ``facets`` and ``exact`` (no typo correction: "redirecter" is not read
        as "redirector"); see :meth:`results`.
        """
        return self.results(text, limit, product, version, keyword, explain, exclude, vocabulary, **more).hits

    def results(self, text: str, limit: int = 10, product: str | None = None,
                version: str | None = None, keyword: str | None = None,
                explain: bool = False, exclude: Iterable[str] = (),
                vocabulary: bool = True, *, since: str | None = None, until: str | None = None,
                offset: int = 0, facets: bool = False, exact: bool = False) -> search.Results:
        """Like :meth:`search`, with the total number of matching articles,
        the spelling correction or suggestion made (``corrected``,
        ``suggestion``) and, with ``facets``, the matches' counts by product,
        year and issue type."""
        with self._lock:
            return search.search(self.engine, text, limit, product, version, keyword, explain, exclude,
                                 vocabulary, self.ranking, since=since, until=until, offset=offset,
                                 facets=facets, exact=exact)

    def get(self, article_id: str) -> Article:
        """The parsed article ``Q168845`` (also ``168845`` or ``KB168845``)."""
        from . import related as rel

        with self._lock:
            eng = self.engine  # one generation for both look-ups
            stored = eng.stored(rel.docnum_of(eng, article_id, self.path)[1])
        art = parse_article(engine.unpack_text(stored["raw"]), source=stored.get("source", ""))
        art.encoding = stored.get("encoding", art.encoding)
        return art

    def article(self, article_id: str) -> "ArticleRecord":
        """The article and the live articles that cite it: what ``show``
        prints, and the article endpoint and tool return."""
        from . import related as rel

        with self._lock:
            art = self.get(article_id)
            return ArticleRecord(art, rel.cited_by(self.engine, rel.docnum_of(self.engine, art.id, self.path)[1]))

    def related(self, article_id: str, limit: int = 10) -> "related.Related":
        """What article ``article_id`` cites (in its order), the live articles
        that cite it, and the ``limit`` articles most like it (``similar``)."""
        from . import related as rel

        with self._lock:
            return rel.related(self.engine, article_id, limit, self.path, ranking=self.ranking)

    def cited_by(self, article_id: str) -> "list[related.Linked]":
        """The live articles that cite ``article_id``, by article number."""
        from . import related as rel

        with self._lock:
            eng = self.engine
            return rel.cited_by(eng, rel.docnum_of(eng, article_id, self.path)[1])

    def stats(self) -> dict:
        """Article count; counts by product, issue type and keyword, most
        common first (what ``--product``, ``--keyword`` and the facets
        take); the articles' dates; and the fields an index made by an older
        version lacks (``missing_fields``)."""
        with self._lock:
            return self._stats(self.engine)

    def _stats(self, eng: engine.Engine) -> dict:
        by_product = eng.count_by_product()
        ordered = dict(sorted(by_product.items(), key=lambda kv: (-kv[1], kv[0])))
        live = eng.live_mask()
        facets = eng.facets().count(np.ones(eng.doc_count_all, dtype=bool) if live is None else live)
        keywords = dict(sorted(eng.field_terms("keyword").items(), key=lambda kv: (-kv[1], kv[0])))
        dates = [d for d in eng.lexicon("date") if d]
        return {"articles": eng.doc_count, "index": self.path, "products": ordered,
                "issue_types": facets["issue"], "keywords": keywords,
                "dates": {"first": min(dates), "last": max(dates)} if dates else None,
                "missing_fields": eng.missing_fields()}

    def evaluate(self, judgments_path: str | os.PathLike) -> "evaluate.Scores":
        """MRR@10, hit@10 and nDCG@10 of this index's ranking on a judgments file."""
        from . import evaluate as ev

        def rank(q: str, k: int, exclude: frozenset[str]) -> list[str]:
            return [h.id for h in self.search(q, limit=k, exclude=exclude)]

        return ev.evaluate(rank, ev.load_judgments(judgments_path), name=Path(judgments_path).name,
                           indexed=self.exists)

    # --- writing -------------------------------------------------------

    def exists(self, article_id: str) -> bool:
        """Whether the index holds article ``article_id`` (any form ``get`` takes)."""
        aid = normalize_id(str(article_id))
        with self._lock:
            return aid is not None and self.engine.docnum_for(aid) is not None

    def index(self, paths: Iterable[str], **kwargs) -> ingest.IndexReport:
        """Bring the index up to date with the article files under ``paths``.

        Keyword arguments: ``rebuild`` (start afresh), ``procs`` (worker
        processes), ``wait`` (wait for another writer instead of failing),
        ``progress`` (a ``(done, total, stage)`` callback, stage ``"reading"``
        or ``"committing"``).
        """
        report = ingest.index_paths(self.path, [str(p) for p in paths], **kwargs)
        self.close()  # reopened on next use (Engine.refresh keeps stale segment readers)
        return report


@dataclass
class ArticleRecord:
    """One article and the live articles that cite it."""

    article: Article
    cited_by: "list[related.Linked]"

    def to_dict(self) -> dict:
        """The ``show --json`` document: every field of the article, then ``cited_by``."""
        from .article import article_dict

        return {**article_dict(self.article), "cited_by": [{"id": c.id, "title": c.title} for c in self.cited_by]}
