"""The one module that imports Whoosh: schema, segment writing, searching.

Everything above this layer speaks in plain Python (dicts of field values,
:class:`Candidate` records, our own error type), so the engine can be
replaced without touching parsing, ranking or the CLI.

Design notes, measured on the full archive:

* ``body`` is a BM25F composite: each section's terms are indexed with that
  section's weight as the posting weight, so one posting list per term carries
  title/symptoms/cause/... evidence. Querying one field instead of six keeps
  free-text queries fast; the per-section fields exist for fielded syntax.
* Documents arrive pre-analysed (``(weight, [(pos, term), ...])`` lists from
  :mod:`kbsearch.analysis`): a text is analysed once even when it feeds two
  fields, and no Whoosh ``Token`` objects are made at index time.
* Parallel builds write one segment per worker process and the parent, which
  holds the index lock, commits them in one table-of-contents write: a crash
  before that write leaves the previous generation untouched.
"""

from __future__ import annotations

import os
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from whoosh import fields as wf
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import Token, Tokenizer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import NO_MERGE, SegmentWriter

from .analysis import analyze_spans
from .errors import KBSearchError

INDEX_NAME = "kb"
SCHEMA_VERSION = 1

# Fields a query may name in syntax (``title:foo``); the first is the default.
TEXT_FIELDS = ("body", "title", "symptoms", "cause", "resolution", "product")
KEYWORD_FIELDS = ("version", "keyword", "tag", "issue", "cites", "id", "date")


class _KBTokenizer(Tokenizer):
    """Whoosh face of :func:`kbsearch.analysis.analyze_spans`, for query syntax."""

    def __eq__(self, other):
        return isinstance(other, _KBTokenizer)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, term, sc, ec in analyze_spans(value, start_pos):
            t.text = term
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[sc:ec]
            if positions:
                t.pos = pos
            if chars:
                t.startchar = start_char + sc
                t.endchar = start_char + ec
            yield t


class _PreAnalyzedText(wf.TEXT):
    """A TEXT field fed ``[(weight, [(pos, term), ...]), ...]`` at index time.

    A term's posting weight is the sum of the weights of its occurrences,
    which is what makes ``body`` a BM25F composite of the sections.
    """

    def __init__(self, **kwargs):
        super().__init__(analyzer=_KBTokenizer(), **kwargs)

    def index(self, value, **kwargs):
        if isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        poses: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, float] = defaultdict(float)
        for weight, toks in value:
            for pos, term in toks:
                poses[term].append(pos)
                weights[term] += weight
        encode = self.format.encode
        for term, plist in poses.items():
            yield term.encode("utf-8"), len(plist), weights[term], encode(plist)


def make_schema() -> wf.Schema:
    """The index schema; see the README for what each field holds."""
    return wf.Schema(
        id=wf.ID(stored=True, unique=True, sortable=True),
        title=_PreAnalyzedText(stored=True),
        body=_PreAnalyzedText(),
        symptoms=_PreAnalyzedText(),
        cause=_PreAnalyzedText(),
        resolution=_PreAnalyzedText(),
        product=_PreAnalyzedText(stored=True),
        version=wf.KEYWORD(stored=True, lowercase=True),
        keyword=wf.KEYWORD(lowercase=True),
        tag=wf.ID(stored=True),
        issue=wf.ID(stored=True),
        date=wf.ID(stored=True, sortable=True),
        cites=wf.KEYWORD(lowercase=True),
        source=wf.ID(stored=True, sortable=True),
        stamp=wf.ID(sortable=True),
        prodname=wf.ID(sortable=True),
        raw=wf.STORED(),
        encoding=wf.STORED(),
    )


def pack_text(text: str) -> bytes:
    """Compress an article's text for storage in the index."""
    return zlib.compress(text.encode("utf-8"), 1)


def unpack_text(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


# --- opening and locking ---------------------------------------------------

def index_exists(path: str) -> bool:
    return os.path.isdir(path) and windex.exists_in(path, indexname=INDEX_NAME)


def create_index(path: str):
    """Create an empty index at ``path`` (the folder is made if needed)."""
    try:
        os.makedirs(path, exist_ok=True)
        return FileStorage(path).create_index(make_schema(), indexname=INDEX_NAME)
    except OSError as e:
        raise KBSearchError(f"cannot create index at {path}: {e.strerror or e}") from None


def open_index(path: str):
    """Open the index at ``path``; a one-line :class:`KBSearchError` if there is none."""
    if not index_exists(path):
        raise KBSearchError(
            f"no index at {path}: build one with 'kbsearch index PATH --index {path}'"
        )
    try:
        return windex.open_dir(path, indexname=INDEX_NAME)
    except (OSError, windex.IndexError, EOFError, ValueError) as e:
        raise KBSearchError(f"cannot open index at {path}: {e}") from None


class Writer:
    """Holds the index's write lock while new segments are made and committed.

    Workers (in this process or others) call :func:`write_segment`; the
    parent commits their segments with :meth:`commit`, deleting replaced
    documents first, in one atomic table-of-contents write.
    """

    def __init__(self, ix, timeout: float = 0.0):
        try:
            self._w = SegmentWriter(ix, timeout=timeout, delay=0.25)
        except windex.LockError:
            raise KBSearchError(
                f"index {ix.storage.folder} is locked by another 'kbsearch index' run; "
                "wait for it to finish or use --wait"
            ) from None
        self.ix = ix

    def delete_ids(self, ids: Iterable[str]) -> int:
        n = 0
        for i in ids:
            n += self._w.delete_by_term("id", i)
        return n

    def delete_sources(self, paths: Iterable[str]) -> int:
        n = 0
        for p in paths:
            n += self._w.delete_by_term("source", p)
        return n

    def commit(self, segments: list, replace_all: bool = False) -> None:
        """Publish ``segments`` (with the deletions made) as the new generation.

        With ``replace_all`` the new generation holds only ``segments``: a
        rebuild that replaces the old index in one step.
        """
        w = self._w
        final = [] if replace_all else w._merge_segments(NO_MERGE, False, False)
        w._close_segment()
        w._commit_toc(list(final) + list(segments))
        w._finish()

    def cancel(self) -> None:
        if not self._w.is_closed:
            self._w.cancel()


class _Lengths:
    """Field lengths kept in memory while a segment is written.

    Whoosh asks for a document's field length once per posting when it
    writes a segment (for each block's score bound) and by default reads it
    back from disk each time; this answers from a dict of lists instead,
    with the same lossy one-byte rounding the index stores.
    """

    def __init__(self):
        self.by_field: dict[str, dict[int, int]] = defaultdict(dict)

    def record(self, docnum: int, fieldname: str, length: int) -> None:
        if length:
            self.by_field[fieldname][docnum] = byte_to_length(length_to_byte(length))

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        return self.by_field[fieldname].get(docnum, default)


class _FastSegmentWriter(SegmentWriter):
    """A SegmentWriter that serves field lengths from memory when flushing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lengths = _Lengths()
        pdw = self.perdocwriter
        orig = pdw.add_field
        record = self._lengths.record

        def add_field(fieldname, fieldobj, value, length):
            record(self.docnum, fieldname, length)
            orig(fieldname, fieldobj, value, length)

        pdw.add_field = add_field

    def _flush_segment(self):
        self.perdocwriter.close()
        self.fieldwriter.add_postings(self.schema, self._lengths, self.pool.iter_postings())
        self.fieldwriter.close()


def write_segment(index_dir: str, docs: Iterable[dict], limitmb: int = 1024):
    """Write ``docs`` into a new, uncommitted segment; returns it (or None if empty).

    Runs without the lock: only a parent holding :class:`Writer` may commit
    the segment it returns.
    """
    ix = windex.open_dir(index_dir, indexname=INDEX_NAME)
    # compound=False: Whoosh copies a compound segment's parts into memory on
    # open (a BytesIO over the mmap), which cost 1.1 GB and 0.4 s per query process.
    w = _FastSegmentWriter(ix, _lk=False, limitmb=limitmb, compound=False, codec=W3Codec(compression=0))
    try:
        added = False
        for doc in docs:
            w.add_document(**doc)
            added = True
        if not added:
            w._close_segment()
            return None
        seg = w._finalize_segment()
        w.pool.cleanup()
        return seg
    except BaseException:
        w._close_segment()
        raise


def read_sources(ix) -> dict[str, tuple[str, str, str]]:
    """``{path: (stamp, id, date)}`` for every live document, read from columns only."""
    with ix.reader() as r:
        if r.doc_count() == 0:
            return {}
        src, stamp, ids, dates = (r.column_reader(f) for f in ("source", "stamp", "id", "date"))
        return {src[d]: (stamp[d], ids[d], dates[d]) for d in r.all_doc_ids()}


# --- searching -------------------------------------------------------------

@dataclass
class Candidate:
    """One scored document as the engine saw it."""

    docnum: int
    score: float
    fields: dict = field(default_factory=dict)


@dataclass
class TermClause:
    """A term in a field, with a boost; the unit of a free-text query."""

    field: str
    text: str
    boost: float = 1.0


@dataclass
class PhraseClause:
    """Words that should stand together (``slop`` extra positions allowed)."""

    field: str
    words: list[str]
    slop: int = 1
    boost: float = 1.0


class Engine:
    """An open index with one reused searcher."""

    def __init__(self, path: str):
        self.path = path
        self.ix = open_index(path)
        self._searcher = self.ix.searcher(weighting=BM25F())

    def close(self) -> None:
        self._searcher.close()

    def refresh(self) -> None:
        self._searcher = self._searcher.refresh()

    @property
    def doc_count(self) -> int:
        return self._searcher.doc_count()

    # Query building.

    def compile(self, terms: list[TermClause], phrases: list[PhraseClause] = (),
                coord: float = 0.0):
        """An OR of weighted terms, plus optional phrase evidence."""
        subs = [wq.Term(t.field, t.text, boost=t.boost) for t in terms]
        subs += [wq.Phrase(p.field, p.words, slop=p.slop, boost=p.boost) for p in phrases
                 if len(p.words) > 1]
        if not subs:
            return wq.NullQuery
        return wq.Or(subs, scale=coord) if coord else wq.Or(subs)

    def parse_syntax(self, text: str):
        """Parse Whoosh query syntax; free words are OR-ed, not AND-ed."""
        from whoosh import qparser

        parser = qparser.MultifieldParser(["body"], self.ix.schema,
                                          group=qparser.OrGroup.factory(0.9))
        try:
            q = parser.parse(text)
        except Exception as e:  # the parser raises assorted errors on odd input
            raise KBSearchError(f"cannot parse query {text!r}: {e}") from None
        return _fix_phrase_slop(q, text)

    def filter_query(self, product: str | None, version: str | None, keyword: str | None):
        """The AND of the given filters, or None."""
        parts = []
        if product:
            words = [t for _, t, _, _ in analyze_spans(product)]
            if not words:
                raise KBSearchError(f"--product {product!r} has no searchable words")
            parts.append(wq.Or([
                wq.And([wq.Term("product", w) for w in words]),
                wq.Term("tag", product.strip().lower()),
            ]))
        if version:
            parts.append(wq.Term("version", version.strip().lower()))
        if keyword:
            parts.append(wq.Term("keyword", keyword.strip().lower()))
        return wq.And(parts) if parts else None

    def run(self, q, limit: int, filter=None) -> tuple[list[Candidate], int]:
        """Run a compiled query; returns the top ``limit`` and the match count."""
        s = self._searcher
        try:
            res = s.search(q, limit=max(1, limit), filter=filter)
            hits = [Candidate(h.docnum, float(h.score), dict(h.fields())) for h in res]
            total = len(res)
        except KBSearchError:
            raise
        except Exception as e:  # pathological syntax that parses but cannot run
            raise KBSearchError(f"cannot run query: {e}") from None
        return hits[:limit], total

    def doc_matches(self, docnum: int, q) -> bool:
        """Whether document ``docnum`` matches query ``q`` (e.g. a filter)."""
        m = q.matcher(self._searcher)
        if m.is_active():
            m.skip_to(docnum)
        return m.is_active() and m.id() == docnum

    def docnum_for(self, article_id: str) -> int | None:
        return self._searcher.document_number(id=article_id)

    def stored(self, docnum: int) -> dict:
        return dict(self._searcher.stored_fields(docnum))

    def explain_terms(self, docnum: int, terms: list[TermClause]) -> list[tuple[str, str, float, float]]:
        """Per-term ``(field, term, weight-in-doc, score)`` for one document."""
        s = self._searcher
        out = []
        model = s.weighting
        for t in terms:
            try:
                m = wq.Term(t.field, t.text).matcher(s)
            except Exception:
                continue
            if m.is_active():
                m.skip_to(docnum)
                if m.is_active() and m.id() == docnum:
                    sc = model.scorer(s, t.field, t.text)
                    out.append((t.field, t.text, float(m.weight()), float(sc.score(m)) * t.boost))
        return out

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self._searcher.doc_frequency(fieldname, text)

    def count_by_product(self) -> dict[str, int]:
        r = self._searcher.reader()
        counts: dict[str, int] = defaultdict(int)
        if not r.has_column("prodname"):
            return {}
        col = r.column_reader("prodname")
        for docnum in r.all_doc_ids():
            counts[col[docnum]] += 1
        return dict(counts)

    def iter_ids(self) -> Iterator[str]:
        r = self._searcher.reader()
        for _, stored in r.iter_docs():
            yield stored["id"]


def _fix_phrase_slop(q, text: str):
    """Give parsed phrases the slop their dropped stop words need.

    ``"unable to delete"`` analyses to ``unabl``/``delet`` two positions
    apart; a slop of 1 would never match it.
    """
    for sub in q.leaves():
        if isinstance(sub, wq.Phrase) and sub.char_ranges:
            start, end = sub.char_ranges[0][0], sub.char_ranges[-1][1]
            pos = [p for p, _, _, _ in analyze_spans(text[start:end])]
            gaps = [b - a for a, b in zip(pos, pos[1:])]
            if gaps:
                sub.slop = max(sub.slop, max(gaps))
    return q
