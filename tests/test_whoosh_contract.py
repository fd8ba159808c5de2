"""Contract tests for :mod:`kbsearch.whoosh_internals`: what the engine writes
and reads through Whoosh's private API is what Whoosh's own writer writes and
its own matchers read.

The corpus is the two seed articles plus synthetic ones made from them: enough
documents for posting lists longer than one W3 block (128 postings) beside
one-posting lists (inlined in the term dictionary), with titles and bodies of
varied lengths.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import whoosh
from click.testing import CliRunner
from whoosh import index as windex
from whoosh.writing import SegmentWriter

from kbsearch import engine, whoosh_internals
from kbsearch.article import parse_article
from kbsearch.cli import cli
from kbsearch.errors import KBSearchError
from kbsearch.ingest import article_document, index_paths

from .conftest import SEEDS

WORD_FIELDS = ("body", "title", "symptoms", "message")
# More than one W3 postings block (128) for the words every article shares.
SYNTHETIC = 140
EXTRA_WORDS = "gizmo sprocket widget flange ratchet gasket bracket spindle".split()


def synthetic(i: int) -> bytes:
    """Seed article ``i % 2`` as ``Q9<i>``, with a title of its own (a few
    words, some unique to it), a body paragraph of ``i``-dependent length and
    a citation with a topic (``anchor`` terms)."""
    seed = SEEDS[i % 2].read_bytes()
    lines = seed.split(b"\n")
    qid = f"Q9{i:05d}"
    lines[0] = lines[0].replace(lines[0].split()[0], f"DOCUMENT:{qid}".encode())
    words = " ".join(EXTRA_WORDS[: 1 + i % len(EXTRA_WORDS)])
    lines[1] = f"TITLE   :Synthetic {words} unique{i} article".encode()
    extra = "\n".join(["", "MORE INFORMATION", "================", "",
                       " ".join(EXTRA_WORDS[(i + k) % len(EXTRA_WORDS)] for k in range(i % 37)) + f" tail{i}",
                       "",
                       f"For more information about {EXTRA_WORDS[i % len(EXTRA_WORDS)]} gaskets, click the "
                       "article number below to view the article in the Microsoft Knowledge Base:",
                       "",
                       "   Q168845 Windows NT SMS Clients Produce NT Event 3031",
                       ""])
    at = lines.index(b"CAUSE")  # the extra section goes before CAUSE
    return b"\n".join(lines[:at] + [extra.encode()] + lines[at:])


def small(i: int) -> bytes:
    """A short article without SYMPTOMS (so without ``symptoms`` and ``message``)."""
    return (f"DOCUMENT:Q8{i:05d}  01-JAN-2000  [winnt]\n"
            f"TITLE   :Small article {i} about gaskets\n"
            "PRODUCT :Microsoft Windows NT\n"
            "KEYWORDS:kbsmall\n\n"
            "======================================================================\n\n"
            "CAUSE\n=====\n\n"
            f"A gasket number {i} fails when the spindle turns{' twice' * i}.\n").encode()


def write_corpus(folder: Path, names_and_bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in names_and_bytes:
        (folder / name).write_bytes(data)


def corpus_files() -> list[tuple[str, bytes]]:
    files = [(s.name, s.read_bytes()) for s in SEEDS]
    files += [(f"Q9{i:05d}.TXT", synthetic(i)) for i in range(SYNTHETIC)]
    files += [(f"Q8{i:05d}.TXT", small(i)) for i in range(3)]
    return files


def documents(files) -> list[dict]:
    return [article_document(parse_article(data, source=name), name, f"stamp-{name}") for name, data in files]


# --- our segment builder against Whoosh's writer --------------------------------

class _WhooshCountedText(engine._PreAnalyzedText):
    """The pre-analysed text field for Whoosh's own writer.

    Whoosh's writer takes a field's length to be the sum of the frequencies
    ``index()`` yields; ours weighs each occurrence by its section weight
    (``max(1, round(sum of weight * tokens))``, by design). This field hands
    Whoosh that length as the first term's "frequency" (0 for the others),
    so both writers store the same lengths and everything built on them
    (block and term length bounds) can be compared.
    """

    def index(self, value, **kwargs):
        if isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        terms, weights, values, wlen = self.doc_postings(value)
        length = max(1, round(wlen)) if terms else 0
        for i, (tbytes, weight, vbytes) in enumerate(zip(terms, weights, values)):
            yield tbytes, length if i == 0 else 0, weight, vbytes


def reference_schema():
    schema = engine.make_schema()
    for name in list(schema.names()):
        if isinstance(schema[name], engine._PreAnalyzedText):
            fobj = schema[name]
            schema.remove(name)
            schema.add(name, _WhooshCountedText(stored=fobj.stored))
    return schema


@pytest.fixture(scope="module")
def docs():
    return documents(corpus_files())


@pytest.fixture(scope="module")
def built(tmp_path_factory, docs):
    """``(ours, whoosh's)``: readers of the same documents written by
    :func:`engine.write_segment` (committed by :class:`engine.Writer`) and by
    a plain Whoosh ``SegmentWriter`` with the same segment options."""
    base = tmp_path_factory.mktemp("contract")
    ours = str(base / "ours")
    engine.create_index(ours)
    seg = engine.write_segment(ours, iter(docs))
    engine.Writer(engine.open_index(ours)).commit([seg])

    theirs = str(base / "whoosh")
    engine.create_index(theirs)
    w = SegmentWriter(engine.open_index(theirs), **engine._SEGMENT_OPTIONS)
    w.schema = reference_schema()
    for doc in docs:
        w.add_document(**doc)
    w.commit()

    r1, r2 = windex.open_dir(ours, indexname=engine.INDEX_NAME).reader(), windex.open_dir(
        theirs, indexname=engine.INDEX_NAME).reader()
    yield r1, r2
    r1.close()
    r2.close()


def walk(reader, fieldname: str, tbytes: bytes) -> list[tuple]:
    """Every posting as Whoosh's matcher reads it, with its block's bounds."""
    fmt = reader.schema[fieldname].format
    m = reader.postings(fieldname, tbytes)
    out = []
    while m.is_active():
        value = m.value_as("positions") if fmt.supports("positions") else m.value()
        out.append((m.id(), m.weight(), value,
                    m.block_max_weight(), m.block_min_length(), m.block_max_length()))
        m.next()
    return out


def term_stats(reader, fieldname: str, tbytes: bytes) -> tuple:
    ti = reader.term_info(fieldname, tbytes)
    return (ti.doc_frequency(), ti.weight(), ti.min_length(), ti.max_length(), ti.max_weight(),
            ti.min_id(), ti.max_id())


def test_corpus_has_long_and_inline_posting_lists(built):
    ours, _ = built
    dfs = [ours.doc_frequency("body", t) for t in ours.lexicon("body")]
    assert max(dfs) > 128 and min(dfs) == 1
    assert ours.doc_count_all() == len(SEEDS) + SYNTHETIC + 3


@pytest.mark.parametrize("fieldname", [n for n in engine.make_schema().names() if engine.make_schema()[n].indexed])
def test_builder_writes_the_postings_whoosh_writes(built, fieldname):
    ours, theirs = built
    terms = list(ours.lexicon(fieldname))
    assert terms == list(theirs.lexicon(fieldname))
    assert terms, f"no terms in {fieldname}: the corpus should have some"
    for tbytes in terms:
        assert term_stats(ours, fieldname, tbytes) == term_stats(theirs, fieldname, tbytes), (fieldname, tbytes)
        assert walk(ours, fieldname, tbytes) == walk(theirs, fieldname, tbytes), (fieldname, tbytes)


def test_builder_writes_the_lengths_stored_fields_and_columns_whoosh_writes(built):
    ours, theirs = built
    schema = engine.make_schema()
    n = ours.doc_count_all()
    assert n == theirs.doc_count_all()
    for name in schema.names():
        fobj = schema[name]
        if fobj.scorable:
            assert [ours.doc_field_length(d, name) for d in range(n)] == \
                   [theirs.doc_field_length(d, name) for d in range(n)], name
            assert ours.field_length(name) == theirs.field_length(name), name
            assert (ours.min_field_length(name), ours.max_field_length(name)) == \
                   (theirs.min_field_length(name), theirs.max_field_length(name)), name
        if fobj.column_type:
            assert list(ours.column_reader(name)) == list(theirs.column_reader(name)), name
    assert [ours.stored_fields(d) for d in range(n)] == [theirs.stored_fields(d) for d in range(n)]


def test_weighted_field_length_is_the_section_weighted_token_count(built, docs):
    # What _WhooshCountedText hands Whoosh, checked on its own: a long
    # low-weight section lengthens ``body`` less than its token count.
    ours, _ = built
    from whoosh.util.numeric import byte_to_length, length_to_byte

    for d, doc in enumerate(docs[:5]):
        wlen = sum(w * len(toks) for w, toks in doc["body"])
        assert ours.doc_field_length(d, "body") == byte_to_length(length_to_byte(max(1, round(wlen))))


def test_positions_are_encoded_as_whoosh_encodes_them():
    fmt = engine.make_schema()["body"].format
    lists = [[0], [3, 4, 9], list(range(5, 3000, 7))]
    encoded = whoosh_internals.encode_positions(lists)
    assert encoded == [fmt.encode(pl) for pl in lists]
    assert [whoosh_internals.positions_count(v) for v in encoded] == [len(pl) for pl in lists]
    assert [fmt.decode_positions(v) for v in encoded] == lists


def test_positions_read_back_are_the_documents_positions(built, docs):
    ours, _ = built
    for d, doc in enumerate(docs[:4]):
        want: dict[str, list[int]] = {}
        for _, toks in doc["body"]:
            for pos, term in toks:
                want.setdefault(term, []).append(pos)
        for term, poses in want.items():
            m = ours.postings("body", term)
            m.skip_to(d)
            assert m.id() == d and m.value_as("positions") == poses, term


# --- Engine's readers against Whoosh's ------------------------------------------

@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """An index made in two runs (two segments), the second of which
    changes an article of the first (a deletion in the first segment) and
    adds articles without ``symptoms`` or ``message``."""
    base = tmp_path_factory.mktemp("grown")
    files = corpus_files()
    first, second = files[:-3], files[-3:]
    folder, ix = base / "articles", base / "index"
    write_corpus(folder, first)
    index_paths(str(ix), [str(folder)], procs=1)
    changed = folder / "Q900003.TXT"
    changed.write_bytes(changed.read_bytes().replace(b"Synthetic", b"Revised synthetic"))
    os.utime(changed, ns=(1, 1))
    write_corpus(folder, second)
    report = index_paths(str(ix), [str(folder)], procs=1)
    assert (report.added, report.updated) == (3, 1)
    eng = engine.Engine(str(ix))
    yield eng
    eng.close()


def test_grown_index_has_segments_and_a_deletion(grown):
    r = grown._searcher.reader()
    assert len(r.leaf_readers()) >= 2
    assert r.has_deletions()
    assert grown.live_mask() is not None and (~grown.live_mask()).sum() == 1


@pytest.mark.parametrize("fieldname", WORD_FIELDS)
def test_engine_postings_are_whoosh_postings(grown, fieldname):
    r = grown._searcher.reader()
    live = grown.live_mask()
    fmt = grown.schema[fieldname].format
    terms = list(r.lexicon(fieldname))
    assert len(terms) > 10
    for tbytes in terms:
        term = tbytes.decode("utf-8")
        p = grown.postings(fieldname, term)
        # Deleted documents stay in the engine's postings until a merge (the
        # ranking drops them with live_mask), as in Whoosh's doc frequency.
        assert p.df == r.doc_frequency(fieldname, term), term
        assert np.all(np.diff(p.ids) > 0), term
        keep = live[p.ids]
        got = [(int(d), float(w), p.positions(int(d)))
               for d, w in zip(p.ids[keep], p.weights[keep])]
        m = r.postings(fieldname, tbytes)  # deleted documents filtered out
        want = []
        while m.is_active():
            want.append((m.id(), float(np.float32(m.weight())), m.value_as("positions")))
            m.next()
        assert fmt.supports("positions")
        assert got == want, (fieldname, term)
    assert grown.postings(fieldname, "nosuchwordanywhere") is None


def test_engine_postings_of_a_field_the_index_lacks(grown):
    assert grown.postings("nosuchfield", "word") is None


@pytest.mark.parametrize("fieldname", [n for n in engine.make_schema().names() if engine.make_schema()[n].scorable])
def test_engine_field_lengths_are_whoosh_field_lengths(grown, fieldname):
    r = grown._searcher.reader()
    lengths = grown.field_lengths(fieldname)
    assert lengths.dtype == np.float32
    want = [r.doc_field_length(d, fieldname) or 0 for d in range(r.doc_count_all())]
    assert lengths.tolist() == want
    assert lengths.any()


def test_lengths_and_postings_are_read_a_column_and_a_block_at_a_time(grown):
    # The fast paths are taken, not their (correct but slow) fallbacks: a
    # renamed private attribute would otherwise only show as slow queries.
    from whoosh.util.numeric import length_to_byte

    leaves = grown._searcher.reader().leaf_readers()
    for r, _ in leaves:
        col = whoosh_internals.length_column(r, "body")
        assert col is not None
        assert col.tolist() == [length_to_byte(r.doc_field_length(d, "body")) for d in range(r.doc_count_all())]
    r = max((r for r, _ in leaves), key=lambda r: r.doc_count_all())
    fmt = grown.schema["body"].format
    blocks = list(whoosh_internals.read_postings_blocks(r, "body", "event", fmt, True))
    assert r.doc_frequency("body", "event") > 128
    assert len(blocks) > 1 and all(len(b[0]) <= 128 for b in blocks)
    assert sum(len(b[0]) for b in blocks) == sum(len(b[2]) for b in blocks) == r.doc_frequency("body", "event")
    # Read lazily: the same ids and weights, the values of every full block
    # left undecoded (and then cut out of the block, not unpickled whole).
    lazy = list(whoosh_internals.read_postings_lazily(r, "body", "event", fmt))
    assert len(lazy) == len(blocks)
    for (ids, ws, vals), (lids, lws, lvals) in zip(blocks, lazy):
        assert ids.tolist() == lids.tolist() and ws.tolist() == lws.tolist()
        assert callable(lvals) or len(ids) < 4
        got = lvals() if callable(lvals) else lvals
        assert [got[i] for i in range(len(ids))] == list(vals)
        if callable(lvals):
            assert isinstance(got, whoosh_internals.BlockValues) and got._pieces[0] is not None


def test_positions_read_are_bounded_and_read_again_when_dropped(grown, monkeypatch):
    eng = engine.Engine(grown.path)
    monkeypatch.setattr(eng, "READ_POSTINGS", 100)
    try:
        common = sorted(eng.lexicon("body"), key=lambda t: -eng.doc_frequency("body", t))[:2]
        a, b = (eng.postings("body", t) for t in common)
        assert min(a.df, b.df) > 100
        want = {d: grown.postings("body", common[0]).positions(d) for d in a.ids.tolist()}
        assert {d: a.positions(d) for d in a.ids.tolist()} == want
        assert a.read == a.df
        for d in b.ids.tolist():
            b.positions(d)
        assert a.read == 0 and eng._read_postings_held == b.read  # a's blocks dropped, not the list
        assert {d: a.positions(d) for d in a.ids.tolist()} == want
    finally:
        eng.close()


def test_docnums_read_from_the_id_column_are_whoosh_first_ids(grown, monkeypatch):
    # After ID_MAP_AFTER look-ups, docnum_for answers from the id column read
    # at once: the same live documents (the grown index has a deletion).
    ids = list(grown._searcher.reader().column_reader("id")) + ["Q1", "nosuch"]
    one_by_one = {i: grown.docnum_for(i) for i in ids}
    assert grown._id_map is None and any(d is None for d in one_by_one.values())
    fresh = engine.Engine(grown.path)
    monkeypatch.setattr(fresh, "ID_MAP_AFTER", 0)
    try:
        assert {i: fresh.docnum_for(i) for i in ids} == one_by_one
        assert fresh._id_map
    finally:
        fresh.close()


def test_engine_reads_an_empty_index(tmp_path):
    engine.create_index(str(tmp_path / "ix"))
    eng = engine.Engine(str(tmp_path / "ix"))
    try:
        assert eng.postings("body", "word") is None
        assert eng.field_lengths("body").tolist() == []
        assert eng.live_mask() is None
        assert eng.docnum_for("Q1") is None
    finally:
        eng.close()


# --- the version check ------------------------------------------------------------

def test_installed_whoosh_is_the_one_the_internals_were_written_for():
    assert whoosh.versionstring() == whoosh_internals.WHOOSH_VERSION
    whoosh_internals.check_whoosh_version(whoosh.versionstring())
    whoosh_internals.require_supported_whoosh()


@pytest.mark.parametrize("found", ["2.7.4", "2.7.6", "3.0.0", ""])
def test_another_whoosh_is_refused_in_one_line(found):
    with pytest.raises(KBSearchError) as e:
        whoosh_internals.check_whoosh_version(found)
    msg = str(e.value)
    assert "\n" not in msg
    assert f"(found {found})" in msg
    assert "pip install 'Whoosh-Reloaded==2.7.5'" in msg


def test_another_whoosh_stops_the_cli_with_one_line(monkeypatch, seed_index, tmp_path):
    monkeypatch.setattr(whoosh_internals, "FOUND_VERSION", "2.7.4")
    runner = CliRunner()
    for args in (["redirector", "--index", str(seed_index)],
                 ["index", str(tmp_path), "--index", str(tmp_path / "new")]):
        r = runner.invoke(cli, args, catch_exceptions=False)
        assert r.exit_code == 1, args
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and "Whoosh-Reloaded 2.7.5 (found 2.7.4)" in lines[0], (args, r.output)
    with pytest.raises(KBSearchError, match="found 2.7.4"):
        engine.write_segment(str(seed_index), iter([]))


def test_write_term_writes_the_bytes_of_whooshs_term_writer(tmp_path, docs, monkeypatch):
    """Each term through :func:`whoosh_internals.write_term`, then each
    through the field writer's own ``start_term`` / ``add`` / ``finish_term``:
    the same segment files, byte for byte."""

    def whoosh_term(fw, tbytes, docnums, weights, values, lengths):
        fw.start_term(tbytes)
        for d, w, v, n in zip(docnums, weights, values, lengths):
            fw.add(d, w, v, n)
        fw.finish_term()

    def build(path) -> dict[str, bytes]:
        engine.create_index(str(path))
        engine.write_segment(str(path), iter(docs))
        return {n.split(".", 1)[1]: (path / n).read_bytes() for n in os.listdir(path) if n.startswith("kb_")}

    ours = build(tmp_path / "ours")
    monkeypatch.setattr(whoosh_internals, "write_term", whoosh_term)
    theirs = build(tmp_path / "theirs")
    assert {"trm", "pst"} <= set(ours)
    assert ours == theirs
