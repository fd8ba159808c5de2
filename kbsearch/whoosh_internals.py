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

import io
import os
import zlib
from array import array
from collections.abc import Callable, Iterator
from itertools import accumulate
from pickle import dumps, loads
from pickle import load as load_pickle

import numpy as np
import whoosh
from whoosh import index as windex
from whoosh.codec.base import PerDocumentWriter
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.formats import Positions
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort, unpack_uint
from whoosh.util.numeric import length_to_byte
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

_W3_MAGIC = WHOOSH3_HEADER_MAGIC
_W3_TERMINFO = W3TermInfo._struct


class _LengthBytes(dict):
    """``length_to_byte`` remembered (a segment asks for the same few hundred lengths again and again)."""

    def __missing__(self, length):
        self[length] = b = length_to_byte(length)
        return b


_length_byte = _LengthBytes().__getitem__

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
    field writer; it writes each term with :func:`write_term`.
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
        ``start_field`` / ``finish_field``; each term through :func:`write_term`)."""
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


def write_term(fieldwriter, tbytes: bytes, docs: list, weights: list, values: list, lengths: list) -> None:
    """Write one term of the current field (its ascending ``docs``, their
    ``weights``, encoded ``values`` and field ``lengths``) with a W3 field
    writer: the bytes and term info Whoosh's ``start_term`` / ``add`` /
    ``finish_term`` write, a block at a time, without their per-posting and
    per-call Python overhead (most terms have a posting or two, so that
    overhead was a fifth of a build).
    """
    pw = fieldwriter._postwriter
    # The layout the engine's codec options give: nothing inlined, docnum ids.
    assert pw._inlinelimit <= 1 and not pw._byteids
    postfile = fieldwriter._postfile
    write = postfile.write
    tobyte = _length_byte
    comp = pw._compression
    limit = pw._blocklimit
    fixedsize = fieldwriter._format.fixed_value_size()
    keep_values = bool(values) and bool(values[0])
    start = postfile.tell()
    head = _W3_MAGIC  # before the first block
    total = 0.0
    minlength = None
    maxlength = 0
    maxweight = 0
    n = len(docs)
    for i in range(0, n, limit):
        j = i + limit
        ids = docs[i:j]
        ws = weights[i:j]
        fws = array("f", ws)  # what the block holds (single precision)
        bmaxweight = max(0, max(ws))
        ls = [x for x in lengths[i:j] if x]
        bmin, bmax = (min(ls), max(ls)) if ls else (None, 0)
        # W3TermInfo.add_block
        total += sum(fws)
        minlength = bmin if minlength is None else min(minlength, bmin)
        maxlength = max(maxlength, bmax)
        maxweight = max(maxweight, bmaxweight)
        # W3PostingsWriter._write_block
        first = fws[0]
        if fws.count(1.0) == len(fws):
            mini_w = None
        elif fws.count(first) == len(fws):
            mini_w = first
        else:
            mini_w = tuple(fws)
        vals = values[i:j] if keep_values else []
        if fixedsize is None or fixedsize < 0:
            mini_v = tuple(vals)
        elif fixedsize == 0:
            mini_v = None
        else:
            mini_v = b"".join(vals)
        deltas = tuple(b - a for a, b in zip([0] + ids, ids))
        databytes = dumps((deltas, mini_w, mini_v), 2)
        if comp:
            databytes = zlib.compress(databytes, comp)
        infobytes = dumps((len(ids), ids[-1], bmaxweight, comp, tobyte(bmin), tobyte(bmax)), 2)
        size = len(infobytes) + len(databytes)
        write(head + pack_int(-size if j >= n else size) + infobytes + databytes)
        head = b""
    # W3FieldWriter.finish_term: the term info row
    info = _W3_TERMINFO.pack(False, total, n, tobyte(minlength), tobyte(maxlength), maxweight, docs[0], docs[-1])
    info += pack_long(start) + pack_int(postfile.tell() - start)
    fieldwriter._tindex.add(pack_ushort(fieldwriter._fieldid) + tbytes, info)


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


def block_weights(weights, n: int) -> np.ndarray:
    """A W3 block's weights as float32: Whoosh stores None when every weight
    is 1 and one float when they are all equal."""
    if weights is None:
        return np.ones(n, dtype=np.float32)
    if isinstance(weights, float):
        return np.full(n, weights, dtype=np.float32)
    return np.asarray(weights, dtype=np.float32)


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
            yield (np.cumsum(np.asarray(deltas, dtype=np.int64)), block_weights(weights, n),
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


# A W3 block's data is the pickle (protocol 2) of ``(ids, weights, values)``:
# ``ids`` a tuple of id deltas (MARK, one BININT1/BININT2/BININT per id,
# TUPLE, BINPUT 0), ``weights`` None, one float or a tuple of floats (MARK,
# BINFLOAT each, TUPLE), then ``values``, one bytes object per posting, each
# pickled as a call (``_codecs.encode``): decoding the values is most of the
# cost of unpickling a block.
_MARK, _TUPLE, _BININT1, _BINFLOAT, _NONE = 0x28, 0x74, 0x4B, 0x47, 0x4E
_IDS_END = b"tq\x00"  # TUPLE, BINPUT 0: the end of the ids tuple
_FLOATS = np.dtype(">f8")


def block_ids_weights(data: bytes, n: int) -> tuple[np.ndarray, np.ndarray | float | None] | None:
    """The id deltas (int64) and weights of a W3 block of ``n`` postings
    from its (uncompressed) pickle, without decoding the values; None when
    the pickle is not laid out as expected (the caller unpickles it)."""
    if n < 4 or data[2] != _MARK:  # short tuples have no MARK
        return None
    end = data.find(_IDS_END, 3)
    if end < 0:
        return None
    if end - 3 == 2 * n:  # every delta under 256: BININT1 pairs
        raw = np.frombuffer(data, np.uint8, count=2 * n, offset=3)
        if not (raw[0::2] == _BININT1).all():
            return None
        deltas = raw[1::2].astype(np.int64)
    else:
        deltas = np.asarray(loads(data[:end + 1] + b"."), dtype=np.int64)
        if len(deltas) != n:
            return None
    at = end + 3
    op = data[at]
    if op == _NONE:
        return deltas, None
    if op == _BINFLOAT:
        return deltas, float(np.frombuffer(data, _FLOATS, count=1, offset=at + 1)[0])
    stop = at + 1 + 9 * n
    if op != _MARK or len(data) <= stop or data[stop] != _TUPLE:
        return None
    ops = np.frombuffer(data, np.uint8, count=9 * n, offset=at + 1)
    if not (ops[0::9] == _BINFLOAT).all():
        return None
    weights = np.ndarray((n,), dtype=_FLOATS, buffer=data, offset=at + 2, strides=(9,))
    return deltas, weights.astype(np.float32)


LazyBlock = tuple[np.ndarray, np.ndarray, "Callable[[], list[bytes]] | list[bytes]"]


def read_postings_lazily(reader, fieldname: str, term: str, fmt) -> Iterator[LazyBlock]:
    """As :func:`read_postings_blocks` with values, but each block's values
    come as a callable that reads them when first needed (or as the list,
    where the block had to be unpickled whole): ids and weights are read
    without unpickling the values, which most postings never need (only the
    candidates the rerank looks at need positions).

    The term's postings are read in one piece and walked block by block
    (a 4-byte length, negative for the last block, the pickled block info,
    then the data), without Whoosh's matcher and its reads a block."""
    if not isinstance(reader, SegmentReader):
        return
    terms = reader._terms
    try:
        info = terms.term_info(fieldname, reader._text_to_bytes(fieldname, term))
    except (KeyError, TermNotFound):
        return
    if info.is_inlined():
        for ids, ws, vals in read_postings_blocks(reader, fieldname, term, fmt, True):
            yield ids, ws, vals
        return
    postfile = terms._postfile
    start, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves it a 1-tuple
        length = length[0]
    region = postfile.get(start, length)
    if region[:4] != WHOOSH3_HEADER_MAGIC:
        raise KBSearchError(f"unexpected postings layout for {term!r} in {fieldname!r}")
    stream = io.BytesIO(region)
    pos, last = 4, False
    while not last and pos < len(region):
        size = int.from_bytes(region[pos:pos + 4], "big", signed=True)
        last, size = size < 0, abs(size)
        stream.seek(pos + 4)
        n, maxid, _, comp, _, _ = load_pickle(stream)
        at, end = stream.tell(), pos + 4 + size
        data = region[at:end]
        if comp:
            data = zlib.decompress(data)
        fast = block_ids_weights(data, n)
        if fast is not None and int(fast[0].sum()) == maxid:
            deltas, weights = fast
            vals = _values_loader(postfile, start + at, end - at, comp, n)
        else:
            deltas, weights, vals = loads(data)
            deltas = np.asarray(deltas, dtype=np.int64)
            vals = list(vals) if vals else [b""] * n
        yield np.cumsum(deltas), block_weights(weights, n), vals
        pos = end


def _values_loader(postfile, offset: int, length: int, comp: int, n: int) -> "Callable[[], BlockValues]":
    """Reads the block again when called: holding every block's bytes
    meanwhile would take more memory than its decoded postings."""
    def load() -> BlockValues:
        data = postfile.get(offset, length)
        return BlockValues(zlib.decompress(data) if comp else data, n)
    return load


_ENCODE = b"c_codecs\nencode\nq"


class BlockValues:
    """The values of one W3 block, each decoded when asked for.

    Each value is pickled as ``_codecs.encode(<latin-1 text>, "latin1")``:
    the first after the global's name and its memo slot, each later one
    after a BINGET of that slot; the text is a BINUNICODE (``X``, a 4-byte
    length, UTF-8). One split at those BINGETs cuts the block into one
    piece a value; a block laid out otherwise is unpickled whole."""

    __slots__ = ("_pieces",)

    def __init__(self, data: bytes, n: int):
        self._pieces = None
        first = data.find(_ENCODE)
        start = first + len(_ENCODE)
        if first >= 0 and data[start + 1] == 0x58:  # memo slot, then X
            pieces = data[start + 2:].split(b"h" + data[start:start + 1] + b"X")
            if len(pieces) == n:
                self._pieces = pieces
        if self._pieces is None:
            vals = loads(data)[2]
            self._pieces = [None] + (list(vals) if vals else [b""] * n)

    def __getitem__(self, k: int) -> bytes:
        pieces = self._pieces
        if pieces[0] is None:  # unpickled whole
            return pieces[k + 1]
        p = pieces[k]
        return p[4:4 + int.from_bytes(p[:4], "little")].decode("utf-8").encode("latin-1")


def prefix_postings(reader, fieldname: str, prefix: str, fmt) -> Iterator[tuple[str, np.ndarray]]:
    """``(term, segment-local ids)`` for every term of ``fieldname`` in one
    segment reader that starts with ``prefix``, deleted documents included:
    each term's postings from the term info the prefix scan reads anyway
    (inlined, for a term one document has), where Whoosh's
    ``expand_prefix`` and ``postings`` would look every term up again."""
    if not isinstance(reader, SegmentReader):
        return
    terms = reader._terms
    pbytes = reader._text_to_bytes(fieldname, prefix)
    for (fname, tbytes), info in terms.items_from(fieldname, pbytes):
        if fname != fieldname or not tbytes.startswith(pbytes):
            return
        if info.is_inlined():
            ids = np.asarray(info.inlined_postings()[0], dtype=np.int64)
        else:
            m = terms._codec.postings_reader(terms._postfile, info, fmt)
            ids = np.fromiter(m.all_ids(), dtype=np.int64)
        yield tbytes.decode("utf-8"), ids


def positions_decoder(fmt) -> Callable[[bytes], list[int]]:
    """How to decode one posting's positions in ``fmt``: for Whoosh's
    ``Positions`` format (a 4-byte count, then the pickled list of gaps),
    the gaps summed in C rather than in Whoosh's Python loop."""
    if type(fmt) is not Positions:
        return fmt.decoder("positions")

    def decode(value: bytes) -> list[int]:
        return list(accumulate(loads(value[4:] if value.endswith(b".") else value[4:] + b".")))
    return decode
