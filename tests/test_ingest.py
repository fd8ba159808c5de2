import os
import shutil

import pytest

from kbsearch import KnowledgeBase
from kbsearch.analysis import analyze_list
from kbsearch.errors import KBSearchError
from kbsearch.ingest import article_document, find_files, index_paths
from kbsearch.ranking import INDEX_DEFAULT
from kbsearch.article import parse_file

from .conftest import DATA


def ids(index):
    with KnowledgeBase.open(index) as kb:
        return sorted(kb.engine.iter_ids())


def test_build_and_count(seed_index):
    assert ids(seed_index) == ["Q168845", "Q280515"]


def test_rerun_is_incremental(tmp_path, seed_dir, seed_index):
    report = index_paths(str(seed_index), [str(seed_dir)])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 2)


def test_changed_file_is_updated(seed_dir, seed_index):
    p = seed_dir / "Q168845.TXT"
    p.write_bytes(p.read_bytes().replace(b"Produce NT Event 3031", b"Produce Event 3031 Again"))
    os.utime(p, ns=(1, 1))
    report = index_paths(str(seed_index), [str(seed_dir)])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    with KnowledgeBase.open(seed_index) as kb:
        assert kb.get("Q168845").title.endswith("Again")
        assert kb.stats()["articles"] == 2


def test_gone_file_is_removed(seed_dir, seed_index):
    (seed_dir / "Q280515.TXT").unlink()
    report = index_paths(str(seed_index), [str(seed_dir)])
    assert report.removed == 1
    assert ids(seed_index) == ["Q168845"]


def test_other_roots_are_left_alone(tmp_path, seed_index):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(DATA / "Q168845.TXT", other / "copy.txt")
    report = index_paths(str(seed_index), [str(other)])
    # Same Q-number, same date: the later path wins, and nothing is removed.
    assert report.removed == 0
    assert len(report.duplicates) == 1
    assert ids(seed_index) == ["Q168845", "Q280515"]


def test_rebuild_replaces_everything(tmp_path, seed_dir, seed_index):
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(DATA / "Q280515.TXT", only / "Q280515.txt")
    report = index_paths(str(seed_index), [str(only)], rebuild=True)
    assert report.added == 1
    assert ids(seed_index) == ["Q280515"]


def test_bad_files_are_skipped_and_reported(tmp_path, seed_dir):
    (seed_dir / "empty.txt").write_bytes(b"")
    (seed_dir / "junk.TXT").write_bytes(b"\x00\xff" * 100)
    (seed_dir / "notes.Txt").write_text("just some notes\n")
    (seed_dir / "ignored.doc").write_text("not a .txt file")
    report = index_paths(str(tmp_path / "ix"), [str(seed_dir)])
    assert report.added == 2
    reasons = {os.path.basename(s.path): s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "junk.TXT", "notes.Txt"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["junk.TXT"]
    assert "DOCUMENT" in reasons["notes.Txt"]


def test_truncated_articles_are_indexed_and_named(tmp_path, seed_dir):
    (seed_dir / "Q123456.TXT").write_bytes(b"DOCUMENT:Q123456  01-JAN-2000  [win95x]\r\nTITLE   :Half a head\r\n")
    # an "applies to" list is no body either
    (seed_dir / "Q123457.TXT").write_bytes(
        b"DOCUMENT:Q123457\r\nTITLE   :Cut short\r\n\r\n=====\r\nThe information in this article applies to:\r\n"
        b"\r\n - Microsoft Widget 1.0\r\n-----\r\n")
    report = index_paths(str(tmp_path / "ix"), [str(seed_dir)])
    assert report.added == 4 and report.skipped == []
    assert [(os.path.basename(t.path), t.id) for t in report.truncated] == [
        ("Q123456.TXT", "Q123456"), ("Q123457.TXT", "Q123457")]
    with KnowledgeBase.open(tmp_path / "ix") as kb:
        assert kb.get("Q123456").title == "Half a head"
        assert [h.id for h in kb.search("cut short")] == ["Q123457"]
    # an unchanged file is not read again, so not reported again
    assert index_paths(str(tmp_path / "ix"), [str(seed_dir)]).truncated == []


def test_duplicate_q_numbers_newer_wins(tmp_path):
    d = tmp_path / "dups"
    d.mkdir()
    data = (DATA / "Q168845.TXT").read_bytes()
    (d / "a.txt").write_bytes(data.replace(b"09-AUG-2001", b"09-AUG-2002").replace(b"Event 3031", b"Event NEWER"))
    (d / "b.txt").write_bytes(data)
    report = index_paths(str(tmp_path / "ix"), [str(d)])
    assert report.added == 1
    assert [(x.id, os.path.basename(x.kept), os.path.basename(x.dropped)) for x in report.duplicates] == [
        ("Q168845", "a.txt", "b.txt")
    ]
    with KnowledgeBase.open(tmp_path / "ix") as kb:
        assert kb.get("Q168845").title.endswith("NEWER")


def test_losing_duplicate_adds_no_segments(tmp_path, seed_dir, seed_index):
    # The loser is re-read and reported on every run, but never committed.
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(seed_dir / "Q168845.TXT", extra / "Q168845.TXT")
    os.utime(extra / "Q168845.TXT", ns=(1, 1))
    roots = [str(seed_dir), str(extra)]
    first = index_paths(str(seed_index), roots)  # same date: the later path wins
    assert [(d.id, d.kept) for d in first.duplicates] == [("Q168845", str(extra / "Q168845.TXT"))]
    assert (first.added, first.updated) == (0, 1)
    files_after = []
    for _ in range(2):
        report = index_paths(str(seed_index), roots)
        assert [(d.id, d.kept) for d in report.duplicates] == [("Q168845", str(extra / "Q168845.TXT"))]
        assert (report.added, report.updated) == (0, 0)
        files_after.append(sorted(os.listdir(seed_index)))
    assert files_after[0] == files_after[1]
    with KnowledgeBase.open(seed_index) as kb:
        assert kb.stats()["articles"] == 2


def test_many_small_runs_merge_segments(tmp_path, seed_dir, seed_index):
    # Each run that changes an article adds a segment; small ones get merged.
    from kbsearch import engine

    src = (seed_dir / "Q168845.TXT").read_bytes()
    counts = []
    for i in range(12):
        (seed_dir / "Q168845.TXT").write_bytes(src.replace(b"Event 3031", f"Event 3031 run{i}".encode()))
        os.utime(seed_dir / "Q168845.TXT", ns=(i + 10, i + 10))
        assert index_paths(str(seed_index), [str(seed_dir)]).updated == 1
        counts.append(len(engine.open_index(str(seed_index))._segments()))
    assert max(counts) <= 6 and counts[-1] < 12
    with KnowledgeBase.open(seed_index) as kb:
        assert kb.stats()["articles"] == 2
        assert [h.id for h in kb.search("run11")] == ["Q168845"]
        assert kb.search("run10") == []


def test_single_file_any_name(tmp_path):
    f = tmp_path / "article.dat"
    shutil.copy(DATA / "Q280515.TXT", f)
    report = index_paths(str(tmp_path / "ix"), [str(f)])
    assert report.added == 1


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(KBSearchError, match="no such file or directory"):
        index_paths(str(tmp_path / "ix"), [str(tmp_path / "nope")])


def test_no_paths_is_an_error(tmp_path):
    with pytest.raises(KBSearchError, match="nothing to index"):
        index_paths(str(tmp_path / "ix"), [])


def test_symlink_loop_does_not_hang(tmp_path, seed_dir):
    os.symlink(seed_dir, seed_dir / "loop")
    report = index_paths(str(tmp_path / "ix"), [str(seed_dir)])
    assert report.added == 2


def test_find_files_walks_recursively_any_case(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.txt", "a/b/y.TXT", "a/b/z.TxT", "a/b/no.md"):
        (tmp_path / name).write_text("x")
    found = find_files([str(tmp_path)], [])
    assert sorted(os.path.basename(k) for k in found) == ["x.txt", "y.TXT", "z.TxT"]


def test_second_writer_is_refused(seed_index, seed_dir):
    from kbsearch import engine

    ix = engine.open_index(str(seed_index))
    holder = engine.Writer(ix)
    try:
        with pytest.raises(KBSearchError, match="locked by another"):
            index_paths(str(seed_index), [str(seed_dir)])
    finally:
        holder.cancel()
    # The index is intact and writable again.
    assert ids(seed_index) == ["Q168845", "Q280515"]
    index_paths(str(seed_index), [str(seed_dir)])


def test_document_fields():
    art = parse_file(str(DATA / "Q168845.TXT"))
    doc = article_document(art, "/x/Q168845.TXT", "1:2")
    assert doc["id"] == "Q168845"
    assert doc["date"] == "2001-08-09"
    assert doc["tag"] == "winnt"
    assert doc["issue"] == "kbbug"
    assert set(doc["version"].split()) >= {"4.0", "3.51", "1.2", "winnt:4.0"}
    assert {"kbinterop", "kbnetwork", "kbbug", "kbfix", "kbsms120"} <= set(doc["keyword"].split())
    # Title terms carry the title's weight inside the body composite.
    title_weight, title_terms = doc["body"][0]
    assert title_weight == 4.0
    assert [t for _, t in title_terms][:3] == ["window", "nt", "sms"]
    assert "symptoms" in doc and "cause" not in doc and "resolution" not in doc


def test_reference_paragraphs_are_weighted_down_and_spaced():
    doc = article_document(parse_file(str(DATA / "Q280515.TXT")), "/x/Q280515.TXT", "1:2")
    refs = [toks for w, toks in doc["body"] if w == INDEX_DEFAULT.reference and toks[0][1] != "microsoft"]  # not "applies to"
    assert len(refs) == 1
    terms = [t for _, t in refs[0]]
    # The lead-in and the cited title ("SMS: How to Obtain the Latest ... Service Pack").
    assert terms[:3] == ["addit", "inform", "click"] and "q288239" in terms and terms[-1] == "pack"
    positions = [p for p, _ in refs[0]]
    assert all(b - a >= INDEX_DEFAULT.reference_stride for a, b in zip(positions, positions[1:]))
    # The same section's own prose keeps its weight and adjacent positions.
    own = [toks for w, toks in doc["body"] if w == 1.0 and any(t == "obtain" for _, t in toks) and toks[-1][1] == "2.0"]
    assert own and any(b[0] - a[0] == 1 for a, b in zip(own[0], own[0][1:]))


def test_citation_topics_become_anchor_terms():
    art = parse_file(str(DATA / "Q280515.TXT"))
    art.citations[0].topic = "obtaining service packs"
    doc = article_document(art, "/x/Q280515.TXT", "1:2")
    # Each word, and each two words side by side (the topic's phrase evidence).
    assert doc["anchor"].split() == ["obtain>servic@q288239", "obtain@q288239", "pack@q288239",
                                     "servic>pack@q288239", "servic@q288239"]


def test_topic_phrases_pair_words_as_a_query_analyses_them():
    art = parse_file(str(DATA / "Q280515.TXT"))
    art.citations[0].topic = "the client.lkp file; how to use it"
    terms = article_document(art, "/x/Q280515.TXT", "1:2")["anchor"].split()
    pairs = {t for t in terms if ">" in t}
    # A joined token pairs whole, as a query keeps it; "; " joins two topics, which do not pair.
    assert pairs == {"client.lkp>file@q288239", "how>use@q288239"}
    assert {"client@q288239", "lkp@q288239", "client.lkp@q288239"} <= set(terms)


def test_the_message_symptoms_shows_is_a_field_at_the_bodys_positions():
    doc = article_document(parse_file(str(DATA / "Q168845.TXT")), "/x/Q168845.TXT", "1:2")
    [(_, shown)] = doc["message"]
    assert [t for _, t in shown][:4] == ["redirector", "unabl", "delet", "file"]
    assert [t for _, t in shown][-2:] == ["name", "file"]
    body = {pt for _, toks in doc["body"] for pt in toks}
    symptoms = {pt for _, toks in doc["symptoms"] for pt in toks}
    assert set(shown) <= symptoms <= body
    # the prose before it ("The description of event 3031 is as follows:") is not in it
    assert "descript" in {t for _, t in symptoms} and "descript" not in {t for _, t in shown}
    # and its words stand where they stood before the field was added
    text = "SYMPTOMS\n" + parse_file(str(DATA / "Q168845.TXT")).section("symptoms")
    start = min(p for p, _ in symptoms)
    assert sorted(symptoms) == sorted(analyze_list(text, start))


@pytest.mark.parametrize("symptoms, message, weight", [
    # set off from the prose: in the message field, weighing as a message
    ("Copying client.lkp fails with this line in the log:\n\n   Failed, Win32 Error = 32\n",
     ["fail", "win32", "error", "32"], INDEX_DEFAULT.message),
    # quoted in the prose: in the message field, weighing as the prose around it
    ("Copying client.lkp fails with \"Failed, Win32 Error = 32\" in the log.\n",
     ["fail", "win32", "error", "32"], INDEX_DEFAULT.of("symptoms")),
    # one quoted word is a name, not a message; unquoted prose is never one
    ("Copying \"client.lkp\" fails with Failed, Win32 Error = 32 in the log.\n", None, INDEX_DEFAULT.of("symptoms")),
])
def test_what_symptoms_shows_or_quotes_is_in_the_message_field(symptoms, message, weight):
    from kbsearch.article import parse_article

    art = parse_article(f"DOCUMENT:Q123456  01-JAN-1999  [sms]\nTITLE   :Copy Fails\n\nSYMPTOMS\n========\n\n{symptoms}")
    doc = article_document(art, "/x/Q123456.TXT", "1:2")
    symptoms_field = [pt for _, toks in doc["symptoms"] for pt in toks]
    assert "win32" in {t for _, t in symptoms_field}
    weights = {t: w for w, toks in doc["body"] for _, t in toks}
    assert weights["win32"] == weight and weights["log"] == INDEX_DEFAULT.of("symptoms")
    if message is None:
        assert "message" not in doc
    else:
        shown = [pt for _, toks in doc["message"] for pt in toks]
        assert [t for _, t in shown] == message
        assert set(shown) <= set(symptoms_field)  # at the body's positions
    # splitting SYMPTOMS into pieces moves no word
    start = min(p for p, _ in symptoms_field)
    assert sorted(symptoms_field) == sorted(analyze_list("SYMPTOMS\n" + art.section("symptoms"), start))


@pytest.mark.parametrize("parallel", [False, True])
def test_a_rebuild_gives_an_older_index_the_fields_it_lacks(tmp_path, monkeypatch, parallel):
    from kbsearch import engine, ingest

    today = engine.make_schema

    def older():  # the schema before the message field
        schema = today()
        schema.remove("message")
        return schema

    src = tmp_path / "src"
    src.mkdir()
    for name in ("Q168845.TXT", "Q280515.TXT"):
        shutil.copy(DATA / name, src / name)
    ix = str(tmp_path / "ix")
    monkeypatch.setattr(engine, "make_schema", older)
    index_paths(ix, [str(src)], procs=1)
    monkeypatch.setattr(engine, "make_schema", today)
    if parallel:
        monkeypatch.setattr(ingest, "PARALLEL_MIN_FILES", 1)

    def state():
        with KnowledgeBase.open(ix) as kb:
            return kb.stats()["missing_fields"], [h.id for h in kb.search('message:"unable to delete"')]

    assert state() == (["message"], [])
    (src / "Q168845.TXT").touch()
    os.utime(src / "Q168845.TXT", (1, 1))
    index_paths(ix, [str(src)], procs=2)  # an update keeps the index's own fields
    assert state() == (["message"], [])
    report = index_paths(ix, [str(src)], procs=2, rebuild=True)
    assert report.articles == 2
    assert state() == ([], ["Q168845"])


def segment_files(index) -> dict[str, bytes]:
    """The contents of an index's segment files, by kind (one segment each)."""
    names = [n for n in os.listdir(index) if n.startswith("kb_") and "." in n]
    by_kind = {n.split(".", 1)[1]: (index / n).read_bytes() for n in names}
    assert len(by_kind) == len(names)
    return by_kind


@pytest.mark.parametrize("procs", [1, 2])
def test_a_small_memory_budget_spills_postings_and_writes_the_same_index(tmp_path, monkeypatch, procs):
    from kbsearch import engine, ingest

    from .test_whoosh_contract import corpus_files, write_corpus

    folder = tmp_path / "articles"
    files = corpus_files()
    write_corpus(folder, files)
    monkeypatch.setattr(ingest, "PARALLEL_MIN_FILES", 1)
    spills = tmp_path / "spills"
    spill = engine._SegmentBuilder._spill

    def counted(self):  # the workers are forked: they count in a file
        with open(spills, "a") as f:
            f.write("spill\n")
        spill(self)

    monkeypatch.setattr(engine._SegmentBuilder, "_spill", counted)
    held = index_paths(str(tmp_path / "held"), [str(folder)], procs=procs, postings_mb=1e6)
    assert not spills.exists()
    spilled = index_paths(str(tmp_path / "spilled"), [str(folder)], procs=procs, postings_mb=0.05)
    assert len(spills.read_text().split()) >= 10
    for r in (held, spilled):
        assert (r.added, r.articles, r.skipped, r.duplicates) == (len(files), len(files), [], [])
    if procs == 1:  # one worker, one segment: the very same files
        assert segment_files(tmp_path / "held") == segment_files(tmp_path / "spilled")
    assert not [n for n in os.listdir(tmp_path / "spilled") if not n.startswith(("kb_", "_kb_"))]
    queries = ["gasket spindle", "sprocket widget flange", "unique77 article", "unable to delete",
               "title:synthetic gizmo", "sms clients"]
    with KnowledgeBase.open(tmp_path / "held") as a, KnowledgeBase.open(tmp_path / "spilled") as b:
        for q in queries:
            ha, hb = a.search(q, limit=20), b.search(q, limit=20)
            assert ha, q
            assert [(h.id, h.score) for h in ha] == [(h.id, h.score) for h in hb], q

    # An incremental run with a spill changes one article and no other.
    changed = folder / "Q900007.TXT"
    changed.write_bytes(changed.read_bytes().replace(b"Synthetic", b"Revised synthetic"))
    os.utime(changed, ns=(1, 1))
    report = index_paths(str(tmp_path / "spilled"), [str(folder)], procs=procs, postings_mb=0.001)
    assert (report.added, report.updated, report.removed, report.articles) == (0, 1, 0, len(files))
    with KnowledgeBase.open(tmp_path / "spilled") as b:
        assert b.search("revised synthetic")[0].id == "Q900007"
