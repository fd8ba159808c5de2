"""The one module that imports Whoosh: schema, segment writing, searching.

Everything above this layer speaks in plain Python (dicts of field values,
:class:`Candidate` records, our own error type), so the engine can be
replaced without touching parsing, ranking or the CLI.

This module uses Whoosh's public API only. Where that is too slow or cannot
do what is needed (committing segments written by worker processes, writing
and reading postings a block at a time, length columns), it goes through
:mod:`kbsearch.whoosh_internals`, the one module that touches Whoosh's
private names; that module is tied to one Whoosh release (an index is not
opened, created or written with another) and ``tests/test_whoosh_contract.py``
checks it against Whoosh's own writer and matchers.

Design notes, measured on the full archive:

* ``body`` is a BM25F composite: each section's terms are indexed with that
  section's weight as the posting weight, so one posting list per term carries
  title/symptoms/cause/... evidence. Querying one field instead of six keeps
  free-text queries fast. ``title`` and ``symptoms`` are also fields of
  their own (for the title factor and fielded syntax), and so is
  ``message``, the messages SYMPTOMS shows or quotes (for reading a query as
  a pasted message); more per-section fields cost 5% of the build each for little use.
* Documents arrive pre-analysed (``(weight, [(pos, term), ...])`` lists from
  :mod:`kbsearch.analysis`): a text is analysed once even when it feeds two
  fields, and no Whoosh ``Token`` objects are made at index time.
* Parallel builds write one segment per worker process and the parent, which
  holds the index lock, commits them in one table-of-contents write: a crash
  before that write leaves the previous generation untouched.
"""

from __future__ import annotations

import gc
import heapq
import os
import pickle
import tempfile
import weakref
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice, repeat
from dataclasses import dataclass, field

import numpy as np
from whoosh import collectors
from whoosh import fields as wf
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import Token, Tokenizer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from . import terms
from . import whoosh_internals as wi
from .analysis import analyze_spans
from .errors import IndexUnavailable, KBSearchError

INDEX_NAME = "kb"
# Document frequencies (and the other per-word look-ups: in-links, citing
# articles, topics) kept per open index (a long-lived process asks for the
# same words again); each cache is cleared when it holds this many.
DF_CACHE_SIZE = 200_000
# Filter masks kept (one boolean per document each): one per product,
# version and keyword combination asked for.
MASK_CACHE_SIZE = 64
# A phrase of several terms (:meth:`Engine.postings`) matches a term up to
# this many positions after the one before: a stop word ("Object Linking and
# Embedding") or a joined token's second part may stand between them.
PHRASE_GAP = 3


def keep(cache: dict, key, value, size: int | None = None):
    """Store ``value`` under ``key`` in ``cache``, first clearing the cache
    if it holds ``size`` entries (default :data:`DF_CACHE_SIZE`); returns ``value``."""
    if len(cache) >= (DF_CACHE_SIZE if size is None else size):
        cache.clear()
    cache[key] = value
    return value




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
    which is what makes ``body`` a BM25F composite of the sections. The
    field's length is weighted the same way, so a long low-weight appendix
    lengthens a document less than its symptoms do.
    """

    def __init__(self, **kwargs):
        super().__init__(analyzer=_KBTokenizer(), **kwargs)

    def index(self, value, **kwargs):
        if isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        terms, weights, values, _ = self.doc_postings(value)
        for tbytes, weight, vbytes in zip(terms, weights, values):
            yield tbytes, wi.positions_count(vbytes), weight, vbytes

    def doc_postings(self, value) -> tuple[list[bytes], list[float], list[bytes], float]:
        """One document's postings as parallel lists (terms, weights, encoded
        positions), plus its weighted length."""
        poses: dict[str, list[int]] = {}
        weights: dict[str, float] = {}
        length = 0.0
        for weight, toks in value:
            length += weight * len(toks)
            for pos, term in toks:
                pl = poses.get(term)
                if pl is None:
                    poses[term] = [pos]
                    weights[term] = weight
                else:
                    pl.append(pos)
                    weights[term] += weight
        terms = [t.encode("utf-8") for t in poses]
        return terms, list(weights.values()), wi.encode_positions(poses.values()), length


class _WordSet(wf.KEYWORD):
    """A KEYWORD field of distinct space-separated words, indexed without
    Whoosh's tokenizer and Token objects (an article has ~175 such words:
    the tokenizer cost 4% of a build)."""

    def index(self, value, **kwargs):
        one = next(iter(super().index("x", **kwargs)))[3]  # how the format writes one occurrence
        return ((w.encode("utf-8"), 1, 1.0, one) for w in dict.fromkeys(value.split()))


class _TermLines(_WordSet):
    """A :class:`_WordSet` of terms one a line (a term may hold spaces)."""

    def index(self, value, **kwargs):
        one = next(iter(wf.KEYWORD.index(self, "x", **kwargs)))[3]
        return ((t.encode("utf-8"), 1, 1.0, one) for t in dict.fromkeys(value.split("\n")) if t)


def make_schema() -> wf.Schema:
    """The index schema; see the README for what each field holds."""
    return wf.Schema(
        id=wf.ID(stored=True, unique=True, sortable=True),
        title=_PreAnalyzedText(stored=True),
        body=_PreAnalyzedText(),
        symptoms=_PreAnalyzedText(),
        message=_PreAnalyzedText(),
        product=_PreAnalyzedText(stored=True),
        version=wf.KEYWORD(stored=True, lowercase=True),
        keyword=wf.KEYWORD(lowercase=True),
        tag=wf.ID(stored=True),
        issue=wf.ID(stored=True),
        date=wf.ID(stored=True, sortable=True),
        cites=wf.KEYWORD(lowercase=True),
        anchor=wf.KEYWORD(),
        # Each article's distinct surface words (:func:`analysis.surface_words`):
        # their document frequencies are the spelling vocabulary, kept by
        # Whoosh as segments are added, merged and deleted from.
        words=_WordSet(),
        # Each article's abbreviation definitions, ``short=long`` in
        # analysed form (:mod:`kbsearch.abbreviations`): how many articles
        # define a short form each way, kept as ``words`` is.
        abbrev=_TermLines(),
        source=wf.ID(stored=True, sortable=True),
        stamp=wf.ID(sortable=True),
        prodname=wf.ID(sortable=True),
        raw=wf.STORED(),
        encoding=wf.STORED(),
    )


def unpack_text(blob: str | bytes) -> str:
    """The stored text; indexes written before 0.2 hold it zlib-compressed."""
    return blob if isinstance(blob, str) else zlib.decompress(blob).decode("utf-8")


# --- opening and locking ---------------------------------------------------

def index_exists(path: str) -> bool:
    return os.path.isdir(path) and windex.exists_in(path, indexname=INDEX_NAME)


def create_index(path: str):
    """Create an empty index at ``path`` (the folder is made if needed)."""
    wi.require_supported_whoosh()
    try:
        os.makedirs(path, exist_ok=True)
        return FileStorage(path).create_index(make_schema(), indexname=INDEX_NAME)
    except OSError as e:
        raise KBSearchError(f"cannot create index at {path}: {e.strerror or e}") from None


def open_index(path: str):
    """Open the index at ``path``; a one-line :class:`KBSearchError` if there is none."""
    wi.require_supported_whoosh()
    if not index_exists(path):
        raise IndexUnavailable(
            f"no index at {path}: build one with 'kbsearch index PATH --index {path}'"
        )
    try:
        return windex.open_dir(path, indexname=INDEX_NAME)
    except (OSError, windex.IndexError, EOFError, ValueError) as e:
        raise IndexUnavailable(f"cannot open index at {path}: {e}") from None


# The write lock is an flock on ``kb_WRITELOCK``: the kernel drops it when the
# holder dies (even by kill -9), so a lock file left behind is never "stale".
# But a flock lasts while *any* copy of its descriptor is open, and forked
# worker processes inherit one: a worker orphaned by a killed parent would keep
# the index locked until it finished its share. Children close their copies.
_HELD_LOCKS: "weakref.WeakSet" = weakref.WeakSet()


def _drop_inherited_locks() -> None:
    for lock in list(_HELD_LOCKS):
        wi.close_inherited_lock(lock)
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


# How segments are written. compound=False: Whoosh copies a compound
# segment's parts into memory on open (a BytesIO over the mmap), which cost
# 1.1 GB and 0.4 s per query process. Postings are not zlib-compressed:
# reading them is the hot path of every query.
_SEGMENT_OPTIONS = {"compound": False, "codec": W3Codec(compression=0)}


class Writer:
    """Holds the index's write lock while new segments are made and committed.

    Workers (in this process or others) call :func:`write_segment`; the
    parent commits their segments with :meth:`commit`, deleting replaced
    documents first, in one atomic table-of-contents write.
    """

    def __init__(self, ix, timeout: float = 0.0):
        try:
            self._w = SegmentWriter(ix, timeout=timeout, delay=0.25, **_SEGMENT_OPTIONS)
        except windex.LockError:
            raise KBSearchError(
                f"index {ix.storage.folder} is locked by another 'kbsearch index' run; "
                "wait for it to finish or use --wait"
            ) from None
        except OSError as e:  # the lock file cannot be made: read-only folder, ...
            raise KBSearchError(
                f"cannot lock index {ix.storage.folder} for writing: {e.strerror or e}"
            ) from None
        lock = wi.writer_lock(self._w)
        if lock is not None:
            _HELD_LOCKS.add(lock)
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

    def discard(self, segments: list) -> None:
        """Delete the files of segments that will not be committed."""
        storage = self._w.storage
        for seg in segments:
            for name in seg.list_files(storage):
                try:
                    storage.delete_file(name)
                except OSError:
                    pass

    def commit(self, segments: list, replace_all: bool = False) -> None:
        """Publish ``segments`` (with the deletions made) as the new generation.

        With ``replace_all`` the new generation holds only ``segments``: a
        rebuild that replaces the old index in one step.
        """
        w = self._w
        if replace_all:
            # The segments were written with today's schema: an index made
            # by an older version gains the fields it lacked.
            w.schema = make_schema()
        # Small segments left by earlier incremental runs are merged (Whoosh's
        # MERGE_SMALL policy), so daily updates do not pile up segments.
        wi.commit_segments(w, segments, merge=not replace_all)

    def cancel(self) -> None:
        """Give up the lock; the index stays at its last commit."""
        if not self._w.is_closed:
            self._w.cancel()
            self.discard([wi.new_segment(self._w)])  # Whoosh leaves its empty files

    def close_unchanged(self) -> None:
        """End a run that changed nothing: no new generation (open readers
        stay current), but files a killed run left behind are removed."""
        wi.close_unchanged(self._w, INDEX_NAME)


# What the postings a segment builder holds cost in memory, beyond their
# encoded positions (calibrated with tracemalloc on archive articles): per
# posting, three list slots and its weight and positions objects; per
# distinct term, its key, dict slot and list.
_POSTING_BYTES = 48
_TERM_BYTES = 200
# Whoosh's own posting pool, unused by the builder (it keeps postings itself).
_POOL_MB = 32


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


class _SegmentBuilder(wi.SegmentBuilder):
    """A SegmentWriter for a batch of new documents, written in one go.

    Whoosh's writer turns every posting into a tuple, sorts them all in a
    pool and then feeds them one by one to the codec, checking each. Here
    postings are grouped by term as documents arrive (document numbers
    ascend, so every list is already in order) and handed to the codec a
    block at a time; field lengths stay in memory. The files written are
    Whoosh's own W3 format.

    When the postings held reach ``spill_at`` bytes (as estimated in
    ``buffered``) they go to a run file on disk, sorted by field and term;
    the flush merges the runs and what is left in memory term by term, so
    the segment is the one an unbounded builder writes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per field and term: its postings flat, ``[docnum, weight, value, docnum, ...]``.
        self._terms: dict[str, defaultdict[bytes, list]] = defaultdict(lambda: defaultdict(list))
        self._lengths = _Lengths()
        self._runs: list = []
        self.buffered = 0  # estimated bytes of postings held (see _POSTING_BYTES)
        self.spill_at = float("inf")

    def add_document(self, **fields) -> None:
        schema = self.schema
        # A field an index made by an older version lacks (``message``) is
        # left out: such an index keeps working, and gains it on a rebuild.
        names = sorted(n for n in fields if not n.startswith("_") and n in schema)
        docnum, pdw = self.start_document()
        for name in names:
            value = fields[name]
            if value is None:
                continue
            fobj = schema[name]
            length = 0
            if fobj.indexed:
                if isinstance(fobj, _PreAnalyzedText) and not isinstance(value, str):
                    tlist, wlist, vlist, wlen = fobj.doc_postings(value)
                    length = max(1, round(wlen)) if tlist else 0
                else:
                    items = list(fobj.index(value))
                    tlist = [i[0] for i in items]
                    wlist = [i[2] for i in items]
                    vlist = [i[3] for i in items]
                    length = sum(i[1] for i in items) if fobj.scorable else 0
                terms = self._terms[name]
                known = len(terms)
                for tbytes, weight, vbytes in zip(tlist, wlist, vlist):
                    terms[tbytes].extend((docnum, weight, vbytes))
                self.buffered += (_POSTING_BYTES * len(tlist) + sum(map(len, vlist))
                                  + _TERM_BYTES * (len(terms) - known))
            self._lengths.record(docnum, name, length)
            sv = fields.get("_stored_" + name, value)
            pdw.add_field(name, fobj, sv if fobj.stored else None, length)
            if fobj.column_type and sv is not None:
                pdw.add_column_value(name, fobj.column_type, fobj.to_column_value(sv))
        self.finish_document()
        if self.buffered >= self.spill_at:
            self._spill()

    def _held(self) -> Iterator[tuple[str, bytes, list]]:
        """The postings held in memory, ``(field, term, flat postings)`` in order."""
        for name in sorted(self._terms):
            terms = self._terms[name]
            for tbytes in sorted(terms):
                yield name, tbytes, terms[tbytes]

    def _spill(self) -> None:
        """Move the postings held to a new run file (deleted when closed,
        or by the system if this process dies)."""
        run = tempfile.TemporaryFile(dir=self.storage.folder)
        held = self._held()
        while chunk := list(islice(held, _RUN_CHUNK)):
            pickle.dump(chunk, run, pickle.HIGHEST_PROTOCOL)
        self._runs.append(run)
        for field_terms in self._terms.values():
            field_terms.clear()  # the field names stay: each is a field of the segment
        self.buffered = 0

    def write_postings(self, fw) -> None:
        sources = [_read_run(run) for run in self._runs] + [self._held()]
        merged = heapq.merge(*sources, key=_field_term) if len(sources) > 1 else sources[0]
        item = next(merged, None)
        for name in sorted(self._terms):
            fobj = self.schema[name]
            lengths = self._lengths.by_field[name]
            fw.start_field(name, fobj)
            while item is not None and item[0] == name:
                _, tbytes, flat = item
                item = next(merged, None)
                # The same term from later runs: later documents.
                while item is not None and item[0] == name and item[1] == tbytes:
                    flat = flat + item[2]
                    item = next(merged, None)
                docs, weights, values = flat[0::3], flat[1::3], flat[2::3]
                wi.write_term(fw, tbytes, docs, weights, values, list(map(lengths.get, docs, repeat(0))))
            fw.finish_field()
        self._terms.clear()
        self._close_runs()

    def _close_runs(self) -> None:
        for run in self._runs:
            run.close()
        self._runs = []

    def abandon(self) -> None:
        self._close_runs()
        super().abandon()


# Terms pickled together in a run file.
_RUN_CHUNK = 2000


def _field_term(item: tuple) -> tuple[str, bytes]:
    return item[0], item[1]


def _read_run(run) -> Iterator[tuple[str, bytes, list]]:
    """The postings of a run file, in the order they were written."""
    run.seek(0)
    while True:
        try:
            chunk = pickle.load(run)
        except EOFError:
            return
        yield from chunk


def write_segment(index_dir: str, docs: Iterable[dict], current_schema: bool = False,
                  budget_mb: float | None = None):
    """Write ``docs`` into a new, uncommitted segment; returns it (or None if empty).

    Runs without the lock: only a parent holding :class:`Writer` may commit
    the segment it returns. With ``current_schema`` (for a rebuild) the
    segment has every field of today's schema, even in an index made by an
    older version; otherwise only the index's own fields. Postings beyond
    ``budget_mb`` (None: no limit) wait on disk, so memory stays bounded
    whatever the number of documents; the segment is the same either way.
    """
    wi.require_supported_whoosh()
    ix = windex.open_dir(index_dir, indexname=INDEX_NAME)
    w = wi.open_unlocked_writer(ix, _POOL_MB, _SegmentBuilder, **_SEGMENT_OPTIONS)
    if current_schema:
        w.schema = make_schema()
    if budget_mb is not None:
        w.spill_at = budget_mb * 1024 * 1024
    # The builder keeps millions of small lists alive until the flush, and the
    # cyclic garbage collector would walk them over and over (17% of a worker's
    # time at 14,000 articles). Nothing here makes reference cycles.
    collecting = gc.isenabled()
    gc.disable()
    try:
        added = False
        for doc in docs:
            w.add_document(**doc)
            added = True
        if not added:
            w.abandon()
            return None
        return w.finish_segment()
    except BaseException:
        w.abandon()
        raise
    finally:
        if collecting:
            gc.enable()


def read_sources(ix) -> dict[str, tuple[str, str, str]]:
    """``{path: (stamp, id, date)}`` for every live document, read from columns only."""
    with ix.reader() as r:
        if r.doc_count() == 0:
            return {}
        # Whole columns at once: a column read per document costs 5x more.
        src, stamp, ids, dates = (list(r.column_reader(f)) for f in ("source", "stamp", "id", "date"))
        docs = r.all_doc_ids() if r.has_deletions() else range(len(src))
        return {src[d]: (stamp[d], ids[d], dates[d]) for d in docs}


# --- searching -------------------------------------------------------------

def _short(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters for a one-line message."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Candidate:
    """One scored document as the engine saw it."""

    docnum: int
    score: float
    fields: dict = field(default_factory=dict)


@dataclass
class Postings:
    """One term's postings over the whole index, as arrays.

    ``ids`` are index-wide document numbers (ascending), ``weights`` the
    posting weights (section-weighted term frequency in ``body``). Encoded
    positions stay in the index until a document's are asked for
    (:meth:`positions`): ``blocks`` holds each block's values, or a callable
    that reads them (decoded once, then kept), the block starting at posting
    ``block_starts[i]``. Only the rerank's candidates need positions, and
    unpickling every posting's values was most of the cost of reading a list.
    The blocks read are kept with the list (``read_blocks``) until the
    cache that holds it drops them (``on_read``).
    """

    def forget_read(self) -> int:
        """Drop the blocks read (they are read again when needed); how many
        postings they held."""
        n, self.read = self.read, 0
        self.read_blocks.clear()
        return n

    term: str
    ids: np.ndarray
    weights: np.ndarray
    block_starts: np.ndarray
    blocks: list
    decode: object = None
    # The blocks whose values were read, by number; how many postings they
    # hold; and who to tell when one is read (the cache that holds the list).
    read_blocks: dict = field(default_factory=dict)
    read: int = 0
    on_read: object = None

    @property
    def df(self) -> int:
        return len(self.ids)

    def positions(self, docnum: int) -> list[int]:
        """Positions of the term in document ``docnum`` (empty if absent)."""
        if not self.blocks or self.decode is None:
            return []
        ids = self.ids
        i = int(ids.searchsorted(docnum))
        if i >= len(ids) or ids[i] != docnum:
            return []
        return self.positions_at(i)

    def positions_at(self, i: int) -> list[int]:
        """Positions of the term in its ``i``-th posting."""
        if not self.blocks or self.decode is None:
            return []
        b = int(self.block_starts.searchsorted(i, side="right")) - 1
        start = int(self.block_starts[b])
        values = self.read_blocks.get(b)
        if values is None:
            values = self.blocks[b]
            if callable(values):
                values = self.read_blocks[b] = values()
                end = int(self.block_starts[b + 1]) if b + 1 < len(self.block_starts) else len(self.ids)
                self.read += end - start
                if self.on_read is not None:
                    self.on_read(self, end - start)
        v = values[i - start]
        return self.decode(v) if v else []


@dataclass
class PhrasePostings(Postings):
    """A phrase's postings (:meth:`Engine.postings` of words separated by
    spaces): its positions are where it starts."""

    starts: dict = field(default_factory=dict)

    def positions(self, docnum: int) -> list[int]:
        return self.starts.get(docnum, [])

    def positions_at(self, i: int) -> list[int]:
        return self.starts.get(int(self.ids[i]), [])


_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


class Engine:
    """An open index with one reused searcher, and array views of its postings
    for fast scoring (Whoosh's own matchers walk postings one by one in
    Python; reading whole blocks into numpy arrays is ~10x faster)."""

    # Postings kept decoded between queries, least recently used dropped
    # first: common terms ("error", "file") cost tens of ms to read, and
    # symptom descriptions keep using them. ~12 bytes a posting.
    POSTINGS_CACHE = 12_000_000
    # Postings whose positions were read (the blocks a candidate was in),
    # kept with their lists: ~80 bytes a posting.
    READ_POSTINGS = 1_000_000

    # After this many articles looked up by id one by one, every article's
    # document number is read from the id column at once (a fraction of a
    # second at four times the archive; one look-up is ~20 µs): a long-lived
    # process looks up the cited articles of many queries' citation topics.
    ID_MAP_AFTER = 10_000

    def __init__(self, path: str):
        self.path = path
        self.ix = open_index(path)
        # Whoosh's ``ix.schema`` re-reads the table of contents from disk on
        # every access (0.15 ms each, once per posting list).
        self.schema = self.ix.schema
        self._searcher = self.ix.searcher(weighting=BM25F())
        self._reset_caches()

    def _reset_caches(self) -> None:
        for p in getattr(self, "_postings", {}).values():
            if p is not None:
                p.on_read = None
        self._postings: dict[tuple[str, str], Postings | None] = {}
        self._cached_postings = 0
        self._read_postings_held = 0
        self._lengths: dict = {}
        self._live: np.ndarray | None | bool = False
        self._masks: dict[str, np.ndarray] = {}
        self._id_column = None
        self._cited: dict[int, int] = {}
        self._citing: dict[int, np.ndarray] = {}
        self._df: dict[tuple[str, str], int] = {}
        self._anchors: dict[str, list[tuple[int, np.ndarray]]] = {}
        self._docnums: dict[str, int | None] = {}
        self._id_lookups = 0
        self._id_map: dict[str, int] | None = None
        self._field_terms: dict[str, dict[str, int]] = {}
        self._facets: Facets | None = None
        self._lexicons: dict[str, list[str]] = {}
        self._memos: dict[str, dict] = {}

    # Array access for the ranking layer.

    @property
    def doc_count_all(self) -> int:
        return self._searcher.doc_count_all()

    def avg_field_length(self, fieldname: str) -> float:
        return self._searcher.avg_field_length(fieldname) or 1.0

    def _leaves(self):
        r = self._searcher.reader()
        return r.leaf_readers()

    def memo(self, name: str) -> dict:
        """A dict the layers above keep per open index under ``name`` (what
        they derive from stored fields, such as parsed articles): emptied
        with the other caches. Bound its size with :func:`keep`."""
        return self._memos.setdefault(name, {})

    def field_lengths(self, fieldname: str) -> np.ndarray:
        """Every document's (stored, lossy) length of ``fieldname``."""
        arr = self._lengths.get(fieldname)
        if arr is None:
            parts = []
            for r, _ in self._leaves():
                raw = wi.length_column(r, fieldname)
                if raw is None:
                    n = r.doc_count_all()
                    parts.append(np.array([r.doc_field_length(d, fieldname) or 0 for d in range(n)],
                                          dtype=np.float32))
                else:
                    parts.append(_LENGTH_TABLE[raw])
            arr = np.concatenate(parts) if parts else np.zeros(0, np.float32)
            self._lengths[fieldname] = arr
        return arr

    def bm25_norm(self, k1: float, b: float) -> np.ndarray:
        """Every document's BM25 length normalisation of ``body``,
        ``k1 * (1 - b + b * length / average)`` (float32; kept per ``k1, b``)."""
        key = ("norm", k1, b)
        arr = self._lengths.get(key)
        if arr is None:
            lengths = self.field_lengths("body")
            arr = self._lengths[key] = k1 * (1 - b + b * lengths / self.avg_field_length("body"))
        return arr

    def live_mask(self) -> np.ndarray | None:
        """False for deleted documents; None when nothing is deleted."""
        if self._live is False:
            mask = None
            for r, off in self._leaves():
                if r.has_deletions():
                    if mask is None:
                        mask = np.ones(self.doc_count_all, dtype=bool)
                    for d in wi.deleted_docs(r):
                        mask[off + d] = False
            self._live = mask
        return self._live

    def has_field(self, fieldname: str) -> bool:
        """Whether this index has ``fieldname`` (an older one may lack a new field)."""
        return fieldname in self.schema

    def missing_fields(self) -> list[str]:
        """The fields of today's schema that this index, made by an older
        version, lacks: ranking works without them, a rebuild adds them."""
        return [name for name in make_schema().names() if name not in self.schema]

    def postings(self, fieldname: str, term: str) -> Postings | None:
        """All postings of ``term`` in ``fieldname``, or None if it is absent.
        A ``term`` of several words separated by spaces (no analysed term
        has one) in a field with positions is read as a phrase (:meth:`_phrase_postings`): a long form
        the archive defines for an abbreviation, as an alternative of it."""
        key = (fieldname, term)
        cache = self._postings
        if key in cache:
            result = cache.pop(key)
            cache[key] = result  # most recently used last
            return result
        if fieldname not in self.schema:
            return None  # an index made before the field was added
        if " " in term and self.schema[fieldname].format.supports("positions"):
            result = self._phrase_postings(fieldname, term.split())
        else:
            result = self._read_postings(fieldname, term)
        size = 1 if result is None else result.df
        while cache and self._cached_postings + size > self.POSTINGS_CACHE:
            old = cache.pop(next(iter(cache)))
            self._cached_postings -= 1 if old is None else old.df
            if old is not None:
                self._read_postings_held -= old.forget_read()
                old.on_read = None  # no longer counted here
        cache[key] = result
        self._cached_postings += size
        return result

    def _read_postings(self, fieldname: str, term: str) -> Postings | None:
        ids_parts, w_parts, blocks, starts = [], [], [], []
        fmt = self.schema[fieldname].format
        keep = fmt.supports("positions")
        n = 0
        for r, off in self._leaves():
            read = wi.read_postings_lazily(r, fieldname, term, fmt) if keep else \
                wi.read_postings_blocks(r, fieldname, term, fmt, False)
            for ids, ws, vals in read:
                ids_parts.append(ids + off if off else ids)
                w_parts.append(ws)
                if keep:
                    starts.append(n)
                    blocks.append(vals)
                n += len(ids)
        if not ids_parts:
            return None
        return Postings(term, np.concatenate(ids_parts), np.concatenate(w_parts), np.array(starts, dtype=np.int64),
                        blocks, wi.positions_decoder(fmt) if keep else None, on_read=self._count_read)

    def _count_read(self, postings: Postings, n: int) -> None:
        """Count a block of ``n`` postings whose positions were read; past
        :attr:`READ_POSTINGS`, drop the blocks of the least recently used
        lists (not the lists) until half that is left."""
        self._read_postings_held += n
        if self._read_postings_held > self.READ_POSTINGS:
            for p in self._postings.values():
                if p is not None and p is not postings and p.read:
                    self._read_postings_held -= p.forget_read()
                    if self._read_postings_held <= self.READ_POSTINGS // 2:
                        break

    def _phrase_postings(self, fieldname: str, words: list[str]) -> "Postings | None":
        """The postings of ``words`` as a phrase: each word within
        :data:`PHRASE_GAP` positions after the one before (stop words and a
        joined token's parts take positions). A document's weight is the
        first word's, times the share of its occurrences that start the
        phrase; its positions are where the phrase starts."""
        parts = [self.postings(fieldname, w) for w in words]
        if any(p is None for p in parts):
            return None
        ids = parts[0].ids
        for p in parts[1:]:
            ids = np.intersect1d(ids, p.ids, assume_unique=True)
        first = parts[0]
        # Where each document stands in each word's postings, looked up at once.
        where = [np.searchsorted(p.ids, ids).tolist() for p in parts]
        weights = first.weights[where[0]].tolist()
        out_ids, out_w, starts = [], [], {}
        for n, d in enumerate(ids.tolist()):
            rest = [set(p.positions_at(at[n])) for p, at in zip(parts[1:], where[1:])]
            own = first.positions_at(where[0][n])
            found = []
            for s in own:
                cur = s
                for pos in rest:
                    cur = next((cur + g for g in range(1, PHRASE_GAP + 1) if cur + g in pos), None)
                    if cur is None:
                        break
                else:
                    found.append(s)
            if found:
                out_ids.append(d)
                out_w.append(weights[n] * len(found) / len(own))
                starts[d] = found
        if not out_ids:
            return None
        return PhrasePostings(" ".join(words), np.array(out_ids, dtype=np.int64),
                              np.array(out_w, dtype=np.float32), np.zeros(0, np.int64), [], None, starts=starts)

    def prefix_frequencies(self, fieldname: str, prefix: str) -> dict[str, int]:
        """``{term: live document frequency}`` of the terms of ``fieldname``
        that start with ``prefix`` (none in an index without the field)."""
        found: set[str] = set()
        if fieldname in self.schema:
            for r, _ in self._leaves():
                found.update(t.decode("utf-8") if isinstance(t, bytes) else t
                             for t in r.expand_prefix(fieldname, prefix))
        counts = {t: self.live_frequency(fieldname, t) for t in sorted(found)}
        return {t: n for t, n in counts.items() if n}

    def live_frequency(self, fieldname: str, term: str) -> int:
        """How many live documents have ``term`` in ``fieldname``: the
        document frequency, less deleted documents a merge has not yet
        dropped (read from the postings only when there are any)."""
        n = self.doc_frequency(fieldname, term)
        live = self.live_mask()
        if n and live is not None:
            p = self.postings(fieldname, term)
            n = int(live[p.ids].sum()) if p is not None else 0
        return n

    def lexicon(self, fieldname: str) -> list[str]:
        """Every term of ``fieldname`` (deleted documents' terms included
        until a merge), read segment by segment: Whoosh's merged reader is
        ten times slower. Kept per open index."""
        got = self._lexicons.get(fieldname)
        if got is None:
            words: set[str] = set()
            if fieldname in self.schema:
                for r, _ in self._leaves():
                    words.update(t.decode("utf-8") if isinstance(t, bytes) else t for t in r.lexicon(fieldname))
            got = self._lexicons[fieldname] = sorted(words)
        return got

    def filter_mask(self, q) -> np.ndarray:
        """A boolean array: which documents match query ``q`` (e.g. filters)."""
        key = repr(q)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.zeros(self.doc_count_all, dtype=bool)
            docs = list(self._searcher.docs_for_query(q))
            if docs:
                mask[np.asarray(docs, dtype=np.int64)] = True
            keep(self._masks, key, mask, MASK_CACHE_SIZE)
        return mask

    def close(self) -> None:
        self._searcher.close()

    @property
    def generation(self) -> int:
        """The committed generation this engine reads."""
        gen = self._searcher.reader().generation()  # None for an empty index
        return gen if gen is not None else self.ix.latest_generation()

    def latest_generation(self) -> int:
        """The newest committed generation on disk (another run may have made it)."""
        return self.ix.latest_generation()

    @property
    def doc_count(self) -> int:
        return self._searcher.doc_count()

    def parse_syntax(self, text: str):
        """Parse Whoosh query syntax; free words are OR-ed, not AND-ed."""
        from whoosh import qparser

        parser = qparser.MultifieldParser(["body"], self.schema,
                                          group=qparser.OrGroup.factory(0.9))
        try:
            q = parser.parse(text)
        except Exception as e:  # the parser raises assorted errors on odd input
            raise KBSearchError(f"cannot parse query {_short(text)!r}: {_short(str(e))}") from None
        return _fix_phrase_slop(q, text)

    def filter_query(self, product: str | None = None, version: str | None = None, keyword: str | None = None,
                     since: str | None = None, until: str | None = None):
        """The AND of the given filters, or None. ``since``/``until``: ISO
        dates (``YYYY-MM-DD``), either end inclusive; compared as text, as
        the ``date`` field holds them."""
        parts = []
        if since or until:
            parts.append(wq.TermRange("date", since or None, until or None))
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
        """Run a compiled query: the top ``limit`` and the number of matches
        (exact: every match is scored, see below)."""
        s = self._searcher
        try:
            # Every match scored in full: Whoosh's top-N shortcuts (skipping
            # blocks, dropping the part of a query that can no longer lift a
            # document into the top N) leave later matches under-scored, so
            # the first hits changed with the number asked for.
            if limit >= s.doc_count_all():
                c = collectors.UnlimitedCollector()
            else:
                c = collectors.TopCollector(max(1, limit), usequality=False, replace=0)
            if filter is not None:
                c = collectors.FilterCollector(c, filter)
            s.search_with_collector(q, c)
            res = c.results()
            hits = [Candidate(h.docnum, float(h.score), dict(h.fields())) for h in res]
            total = len(res)
        except KBSearchError:
            raise
        except Exception as e:  # pathological syntax that parses but cannot run
            raise KBSearchError(f"cannot run query: {_short(str(e))}") from None
        return hits[:limit], total

    def doc_matches(self, docnum: int, q) -> bool:
        """Whether document ``docnum`` matches query ``q`` (e.g. a filter)."""
        m = q.matcher(self._searcher)
        if m.is_active():
            m.skip_to(docnum)
        return m.is_active() and m.id() == docnum

    def doc_frequency(self, fieldname: str, term: str) -> int:
        """How many documents have ``term`` in ``fieldname`` (deleted ones
        included until a merge, as in the postings)."""
        key = (fieldname, term)
        n = self._df.get(key)
        if n is None:
            n = keep(self._df, key, self._searcher.doc_frequency(fieldname, term) if fieldname in self.schema else 0)
        return n

    def _cites_term(self, docnum: int) -> str:
        """How the ``cites`` field names the article ``docnum``."""
        if self._id_column is None:
            self._id_column = self._searcher.reader().column_reader("id")
        return terms.cites_term(self._id_column[docnum])

    def cited_by(self, docnums: Iterable[int]) -> np.ndarray:
        """How many articles cite each of ``docnums`` (their in-links)."""
        freq = self._searcher.doc_frequency
        cache = self._cited
        out = np.empty(len(docnums), dtype=np.float64)
        for i, d in enumerate(docnums):
            n = cache.get(d)
            if n is None:
                n = cache[d] = freq("cites", self._cites_term(d))
            out[i] = n
        return out

    def citing(self, docnum: int) -> np.ndarray:
        """The (live) documents that cite ``docnum``."""
        got = self._citing.get(docnum)
        if got is None:
            ids = np.zeros(0, dtype=np.int64)
            if "cites" in self.schema:
                try:
                    found = self._searcher.reader().postings("cites", self._cites_term(docnum)).all_ids()
                    ids = self._only_live(np.fromiter(found, dtype=np.int64))
                except TermNotFound:  # no article cites it
                    pass
            got = keep(self._citing, docnum, ids)
        return got

    def anchors(self, term: str) -> list[tuple[int, np.ndarray]]:
        """``[(cited docnum, citing docnums)]``: the articles whose citing
        articles name ``term`` in the topic they give them ("For more
        information about <topic>, click ..."). ``term`` may be two words
        that stand next to each other in a topic, joined by
        :func:`kbsearch.terms.anchor_key`. Empty for an index made before topics were
        indexed."""
        got = self._anchors.get(term)
        if got is not None:
            return got
        got = []
        if "anchor" in self.schema:
            prefix = terms.anchor_prefix(term)
            by_target: dict[int, list[np.ndarray]] = {}
            # Segment by segment: a topic's postings are in the segments
            # whose term lists have it, and nowhere else.
            fmt = self.schema["anchor"].format
            for r, off in self._leaves():
                for tok, ids in wi.prefix_postings(r, "anchor", prefix, fmt):
                    head, cited = terms.split_anchor(tok)
                    target = self.docnum_for(cited) if head == term else None
                    if target is not None:
                        by_target.setdefault(target, []).append(ids + off)
            for target, parts in by_target.items():
                if len(ids := self._only_live(np.concatenate(parts))):
                    got.append((target, ids))
        return keep(self._anchors, term, got)

    def _only_live(self, ids: np.ndarray) -> np.ndarray:
        live = self.live_mask()
        return ids if live is None else ids[live[ids]]

    def docnum_for(self, article_id: str) -> int | None:
        """The live document of ``article_id`` (a direct term look-up: ten
        times cheaper than Whoosh's ``document_number`` query; kept, as the
        same cited articles come back for many words' topics)."""
        if article_id in self._docnums:
            return self._docnums[article_id]
        if self._id_map is None and self._id_lookups >= self.ID_MAP_AFTER:
            self._id_map = self._read_id_map()
        if self._id_map:
            return keep(self._docnums, article_id, self._id_map.get(article_id))
        self._id_lookups += 1
        try:
            docnum = self._searcher.reader().first_id("id", article_id)
        except (KeyError, TermNotFound):  # no such article (Whoosh's MultiReader catches both)
            docnum = None
        return keep(self._docnums, article_id, docnum)

    def _read_id_map(self) -> dict[str, int]:
        """``{article id: its first live docnum}``, as :meth:`docnum_for`
        looks them up, from the ``id`` column read at once (empty where
        the index has no such column: look-ups go on one by one)."""
        r = self._searcher.reader()
        if not r.has_column("id"):
            return {}
        ids = list(r.column_reader("id"))
        live = self.live_mask()
        docs = range(len(ids)) if live is None else np.flatnonzero(live).tolist()
        # Reversed, so that the first of two documents with one id wins, as with first_id.
        return {ids[d]: d for d in reversed(docs)}

    def stored(self, docnum: int) -> dict:
        return dict(self._searcher.stored_fields(docnum))

    def query_mask(self, q) -> np.ndarray:
        """A boolean array: which live documents match query ``q`` (not cached)."""
        mask = np.zeros(self.doc_count_all, dtype=bool)
        docs = list(self._searcher.docs_for_query(q))
        if docs:
            mask[np.asarray(docs, dtype=np.int64)] = True
        return mask

    def field_terms(self, fieldname: str) -> dict[str, int]:
        """``{term: document frequency}`` of every term of ``fieldname`` (kept
        per open index): what a filter on the field can match."""
        got = self._field_terms.get(fieldname)
        if got is None:
            freq = self._searcher.doc_frequency
            got = self._field_terms[fieldname] = {t: freq(fieldname, t) for t in self.lexicon(fieldname)}
        return got

    def facets(self) -> Facets:
        """Every document's product, year and issue types as arrays, for
        counting facets over a mask of matches (read once per open index)."""
        if self._facets is None:
            r = self._searcher.reader()
            n = self.doc_count_all
            product = _codes(list(r.column_reader("prodname")) if r.has_column("prodname") else [""] * n)
            year = _codes([d[:4] for d in r.column_reader("date")] if r.has_column("date") else [""] * n)
            issue: dict[str, list[np.ndarray]] = {}
            for value in self.field_terms("issue"):
                ids = np.fromiter(r.postings("issue", value).all_ids(), dtype=np.int64) if value else None
                for word in value.split() if ids is not None else ():
                    issue.setdefault(word, []).append(ids)
            self._facets = Facets(product, year, {w: np.unique(np.concatenate(p)) for w, p in issue.items()})
        return self._facets

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


@dataclass
class Facets:
    """Per-document facet values: ``product`` and ``year`` as (codes array,
    names) pairs, ``issue`` as the documents of each issue type."""

    product: tuple[np.ndarray, list[str]]
    year: tuple[np.ndarray, list[str]]
    issue: dict[str, np.ndarray]

    def count(self, mask: np.ndarray) -> dict[str, dict[str, int]]:
        """Counts of the documents in ``mask`` by product, year and issue
        type, most common first (years in order), empty values left out."""
        out = {}
        for name, (codes, names) in (("product", self.product), ("year", self.year)):
            n = np.bincount(codes[mask], minlength=len(names))
            pairs = [(names[i], int(c)) for i, c in enumerate(n) if c and names[i] not in ("", "(none)")]
            pairs.sort(key=(lambda kv: kv[0]) if name == "year" else (lambda kv: (-kv[1], kv[0])))
            out[name] = dict(pairs)
        issue = [(w, int(np.count_nonzero(mask[ids]))) for w, ids in self.issue.items()]
        out["issue"] = dict(sorted(((w, c) for w, c in issue if c), key=lambda kv: (-kv[1], kv[0])))
        return out


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """``values`` as integer codes into a list of their distinct values."""
    names = sorted(set(values))
    index = {v: i for i, v in enumerate(names)}
    return np.fromiter((index[v] for v in values), dtype=np.int32, count=len(values)), names


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
