"""Every use of Whoosh's private API, in one place, for one Whoosh release.

:mod:`kbsearch.engine` talks to Whoosh through its public API and, where that
is too slow or cannot do what the engine needs, through the functions here:
committing segments written elsewhere, writing a segment's postings a block
at a time, reading postings and length columns a block (or a column) at a
time, and the lock's file descriptor. Each reaches into attributes or hooks
Whoosh does not document (names starting with ``_``, the ``SegmentWriter``
commit sequence, the W3 codec's postings-writer and matcher state), so each
is tied to :data:`WHOOSH_VERSION`, and ``tests/test_whoosh_contract.py``
checks them against Whoosh's own writer and matchers.

A different Whoosh release is not refused at import (packaging tools, ``--help``
and test collection keep working); :func:`require_supported_whoosh`, called
when an index is first opened, created or written, raises a one-line
:class:`~kbsearch.errors.KBSearchError` saying what to install.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pickle import dumps

import numpy as np
import whoosh
from whoosh import index as windex
from whoosh.codec.base import PerDocumentWriter
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.system import pack_uint, unpack_uint
from whoosh.writing import MERGE_SMALL, SegmentWriter

from .errors import KBSearchError

# The Whoosh-Reloaded release whose internals this module was written against.
WHOOSH_VERSION = "2.7.5"
FOUND_VERSION: str = whoosh.versionstring()


def check_whoosh_version(found: str) -> None:
    """Raise a one-line :class:`KBSearchError` unless ``found`` is
    :data:`WHOOSH_VERSION`: the private names used here may differ in
    another release, which would fail silently (empty or slow results)."""
    if found != WHOOSH_VERSION:
        raise KBSearchError(
            f"kbsearch needs Whoosh-Reloaded {WHOOSH_VERSION} (found {found}): "
            f"pip install 'Whoosh-Reloaded=={WHOOSH_VERSION}'"
        )


def require_supported_whoosh() -> None:
    """:func:`check_whoosh_version` of the installed Whoosh."""
    check_whoosh_version(FOUND_VERSION)


# --- the lock --------------------------------------------------------------

def writer_lock(writer: SegmentWriter):
    """The lock object ``writer`` holds (None if it took none)."""
    return writer.writelock


def close_inherited_lock(lock) -> None:
    """Close a forked child's copy of ``lock``'s file descriptor without
    unlocking (an ``flock(LOCK_UN)`` would unlock the parent too)."""
    fd = getattr(lock, "fd", None)
    if fd is not None:
        lock.fd = None
        try:
            os.close(fd)
        except OSError:
            pass


# --- committing ------------------------------------------------------------

def open_unlocked_writer(ix, limitmb: int, writer_class: type[SegmentWriter] = SegmentWriter,
                         **options) -> SegmentWriter:
    """A writer that makes a new segment without taking the index lock
    (``_lk=False``): only a writer that holds the lock may commit it."""
    return writer_class(ix, _lk=False, limitmb=limitmb, **options)


def new_segment(writer: SegmentWriter):
    """The segment ``writer`` was writing (its files, even empty, are on disk)."""
    return writer.newsegment


def commit_segments(writer: SegmentWriter, segments: list, merge: bool) -> None:
    """Publish the index's segments plus ``segments`` (written by other
    writers) as a new generation, in one table-of-contents write, and
    release ``writer``.

    Whoosh's ``commit()`` only publishes the writer's own segment; this is
    its sequence with ours added. With ``merge`` small existing segments are
    merged first (Whoosh's ``MERGE_SMALL`` policy); without it the existing
    segments are dropped (a rebuild replacing the index). Documents added to
    ``writer`` itself (by merging) become a segment too; deletions made
    through ``writer`` are saved with the segments they apply to.
    """
    final = list(writer._merge_segments(MERGE_SMALL, False, False)) if merge else []
    if writer._added:
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final + list(segments))
    writer._finish()


def close_unchanged(writer: SegmentWriter, indexname: str) -> None:
    """Release ``writer`` without a new generation (open readers stay
    current), deleting files that no committed generation uses (left by a
    killed run)."""
    writer._close_segment()
    windex.clean_files(writer.storage, indexname, writer.generation - 1, writer.segments)
    writer._finish()


# --- writing a segment -----------------------------------------------------

def encode_positions(poslists) -> list[bytes]:
    """Whoosh's ``Positions`` encoding of each list of ascending positions
    (a count, then the pickled deltas), without its per-position Python loop."""
    return [pack_uint(len(pl)) + dumps([pl[0]] + [b - a for a, b in zip(pl, pl[1:])], 2)
            for pl in poslists]


def positions_count(vbytes: bytes) -> int:
    """How many positions a ``Positions``-encoded value holds."""
    return unpack_uint(vbytes[:4])[0]


class SegmentBuilder(SegmentWriter):
    """A ``SegmentWriter`` fed documents' per-document values one by one and
    then each term's whole posting list at once, instead of posting tuples
    through its sorting pool.

    Subclasses call :meth:`start_document` / :meth:`finish_document` around
    each document's per-document values, and implement
    :meth:`write_postings`, which Whoosh's segment flush calls with the
    field writer; it feeds each term through :func:`add_term_postings`.
    """

    def start_document(self) -> tuple[int, PerDocumentWriter]:
        """Begin the next document: its number and the codec's per-document
        writer (its public ``add_field`` / ``add_column_value`` take the
        document's stored values, lengths and column values)."""
        self._check_state()
        pdw = self.perdocwriter
        pdw.start_doc(self.docnum)
        return self.docnum, pdw

    def finish_document(self) -> None:
        self.perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def write_postings(self, fieldwriter) -> None:
        """Write every field's postings with ``fieldwriter`` (its public
        ``start_field`` / ``start_term`` / ``finish_term`` / ``finish_field``;
        postings through :func:`add_term_postings`)."""
        raise NotImplementedError

    def _flush_segment(self) -> None:
        # Whoosh's hook, called by ``_finalize_segment``: the pool is empty.
        self.perdocwriter.close()
        fw = self.fieldwriter
        self.write_postings(fw)
        fw.close()

    def finish_segment(self):
        """Write the segment's files and return it (uncommitted)."""
        seg = self._finalize_segment()
        self.pool.cleanup()
        return seg

    def abandon(self) -> None:
        """Close the segment's files; it will not be committed."""
        self._close_segment()


def add_term_postings(fieldwriter, docs: list, weights: list, values: list, lengths: list) -> None:
    """Give the current term's postings (ascending ``docs``, their
    ``weights``, encoded ``values`` and field ``lengths``) to a W3 field
    writer's postings writer a block at a time, keeping the block statistics
    (max weight, min and max length) it would keep posting by posting."""
    pw = fieldwriter._postwriter
    limit = pw._blocklimit
    keep_values = bool(values) and bool(values[0])
    for i in range(0, len(docs), limit):
        if pw._ids:
            pw._write_block()
        j = i + limit
        pw._ids.extend(docs[i:j])
        ws = weights[i:j]
        pw._weights.extend(ws)
        pw._maxweight = max(0, max(ws))
        if keep_values:
            pw._values.extend(values[i:j])
        ls = [n for n in lengths[i:j] if n]
        if ls:
            pw._minlength = min(ls)
            pw._maxlength = max(ls)


# --- reading ---------------------------------------------------------------

def length_column(reader, fieldname: str) -> np.ndarray | None:
    """A segment reader's one-byte encoded lengths of ``fieldname`` for
    every document, read as one column (``doc_field_length`` per document
    is 100x slower); None where the segment has no full column."""
    if not isinstance(reader, SegmentReader):
        return None
    try:
        f, off, ln = reader._perdoc._get_column_file(f"_{fieldname}_len")
    except OSError:  # no such column file: no document has the field
        return None
    if ln != reader.doc_count_all():
        return None
    return np.frombuffer(f.get(off, ln), dtype=np.uint8)


def deleted_docs(reader) -> frozenset[int]:
    """The deleted document numbers of a segment reader."""
    return reader.deleted_docs_set if isinstance(reader, SegmentReader) else frozenset()


PostingsBlock = tuple[np.ndarray, np.ndarray, "list[bytes] | None"]


def read_postings_blocks(reader, fieldname: str, term: str, fmt, values: bool) -> Iterator[PostingsBlock]:
    """The postings of ``term`` in one segment reader, deleted documents
    included, a block at a time: ``(ids, weights, encoded values)``, ids as
    segment-local int64 and weights as float32 arrays, values (a list of
    bytes, one per posting, ``b""`` for none) only if ``values``, else None.

    Whoosh's matchers decode postings one by one in Python; this unpickles a
    W3 block and converts it in numpy. Nothing is yielded if the segment
    lacks the term (or the field).
    """
    if not isinstance(reader, SegmentReader):
        return  # an empty index
    try:
        m = reader._terms.matcher(fieldname, reader._text_to_bytes(fieldname, term), fmt)
    except TermNotFound:
        return
    if hasattr(m, "_read_data"):  # W3LeafMatcher: postings in blocks
        while m.is_active():
            m._read_data()
            deltas, weights, vals = m._data
            n = len(deltas)
            if weights is None:
                ws = np.ones(n, dtype=np.float32)
            elif isinstance(weights, float):
                ws = np.full(n, weights, dtype=np.float32)
            else:
                ws = np.asarray(weights, dtype=np.float32)
            yield (np.cumsum(np.asarray(deltas, dtype=np.int64)), ws,
                   (vals if vals else [b""] * n) if values else None)
            m._next_block()
    else:  # short lists stored inline in the term dictionary
        ids, ws, vs = [], [], []
        while m.is_active():
            ids.append(m.id())
            ws.append(m.weight())
            if values:
                vs.append(m.value() or b"")
            m.next()
        yield np.asarray(ids, dtype=np.int64), np.asarray(ws, dtype=np.float32), vs if values else None
