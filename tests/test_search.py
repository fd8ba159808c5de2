import math

import pytest

from dataclasses import replace

from kbsearch import search
from kbsearch.ranking import DEFAULT, evidence
from kbsearch.ranking.factors import describes
from kbsearch.errors import KBSearchError
from kbsearch.search import uses_syntax


def top(kb, text, **kw):
    return [h.id for h in kb.search(text, **kw)]


def test_free_text_is_ranked_not_anded(seed_kb):
    # No article has every word, yet the right one comes first.
    assert top(seed_kb, "redirector unable to delete banana zebra")[0] == "Q168845"
    assert top(seed_kb, "client.lkp not updated error 32")[0] == "Q280515"


def test_hits_carry_display_fields(seed_kb):
    h = seed_kb.search("redirector unable to delete")[0]
    assert h.id == "Q168845"
    assert h.title == "Windows NT SMS Clients Produce NT Event 3031"
    assert h.product == "Microsoft Windows NT"
    assert h.versions == ["1.2", "3.51", "4.0"]
    assert h.date == "2001-08-09"
    assert h.score > 0
    assert "redirector was unable to delete" in h.snippet
    marked = {h.snippet[a:b].lower() for a, b in h.spans}
    assert {"redirector", "unable", "delete"} <= marked
    assert set(h.to_dict()) == {"id", "title", "product", "versions", "date", "score", "snippet"}


@pytest.mark.parametrize("text", ["Q168845", "168845", "KB168845", "kb168845"])
def test_article_number_shows_that_article_first(seed_kb, text):
    assert top(seed_kb, text)[0] == "Q168845"


@pytest.mark.parametrize("text, first", [
    ("inventory fails, see Q168845", ["Q168845"]),          # named in free text: that article first
    ("kb280515 and Q168845 both", ["Q280515", "Q168845"]),  # in the order named
    ("redirector Q999999", ["Q168845"]),                    # an unknown number is just a word
    ("cites:q288239", ["Q280515"]),                         # in query syntax a number is a field value
])
def test_article_numbers_named_in_a_query_come_first(seed_kb, text, first):
    assert top(seed_kb, text)[:len(first)] == first


def test_a_named_article_is_not_shown_when_excluded_or_filtered_out(seed_kb):
    assert "Q168845" not in top(seed_kb, "client.lkp Q168845", exclude=["Q168845"])
    assert top(seed_kb, "client.lkp Q168845", keyword="kbnetwork") == ["Q168845"]
    assert top(seed_kb, "client.lkp Q168845", keyword="kbsms200") == ["Q280515"]


def test_unknown_article_number_is_no_error(seed_kb):
    assert seed_kb.search("Q999999") == []


@pytest.mark.parametrize(
    "text, first",
    [
        ('"unable to delete"', "Q168845"),
        ("title:client.lkp", "Q280515"),
        ("symptoms:redirector", "Q168845"),
        ("event AND 3031", "Q168845"),
        ("inventory NOT redirector", "Q280515"),
        ("cites:q288239", "Q280515"),
        ("client*", "Q280515"),
    ],
)
def test_whoosh_syntax(seed_kb, text, first):
    assert top(seed_kb, text)[0] == first


def test_phrase_must_match_as_phrase(seed_kb):
    assert seed_kb.search('"delete unable"') == []


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({"product": "sms"}, ["Q280515"]),
        ({"product": "windows nt"}, ["Q168845"]),
        ({"product": "winnt"}, ["Q168845"]),
        ({"version": "3.51"}, ["Q168845"]),
        ({"version": "2.0"}, ["Q280515"]),
        ({"keyword": "kbsms200bug"}, ["Q280515"]),
        ({"keyword": "KBBUG"}, ["Q168845", "Q280515"]),
    ],
)
def test_filters(seed_kb, kw, expected):
    assert sorted(top(seed_kb, "file server client", **kw)) == expected


@pytest.mark.parametrize("kw, message", [
    ({"version": "4.00"}, r"^--version '4.00' matches no article; closest: 4.0"),
    ({"keyword": "kbbugg"}, r"^--keyword 'kbbugg' matches no article; closest: kbbug"),
    ({"product": "windows 95"}, r"^--product 'windows 95' matches no article; "),
    ({"since": "2005"}, r"^--since/--until '2005-01-01 to …' matches no article; the articles are dated "
                        r"2001-08-09 to 2002-08-06"),
    ({"product": "sms", "version": "3.51"}, r"^the filters match no article together \(--product 'sms': 1; "
                                            r"--version '3.51': 1\)"),
])
def test_a_filter_that_matches_nothing_says_so_and_names_the_closest_values(seed_kb, kw, message):
    with pytest.raises(KBSearchError, match=message):
        seed_kb.search("file server client", **kw)


def test_a_long_lived_process_keeps_its_caches_bounded(seed_index, monkeypatch):
    from kbsearch import KnowledgeBase, engine

    queries = ["redirector unable to delete", "client.lkp not updated error 32", "file server client",
               "event 3031 sms", "despooler error on the site server"]
    filters = [{}, {"product": "sms"}, {"version": "3.51"}, {"keyword": "KBBUG"}, {"product": "windows nt"}]
    with KnowledgeBase.open(seed_index) as kb:
        expected = [top(kb, q, **f) for q in queries for f in filters]
    monkeypatch.setattr(engine, "DF_CACHE_SIZE", 3)
    monkeypatch.setattr(engine, "MASK_CACHE_SIZE", 2)
    with KnowledgeBase.open(seed_index) as kb:
        for _ in range(2):
            assert [top(kb, q, **f) for q in queries for f in filters] == expected
            eng = kb.engine
            assert max(len(eng._anchors), len(eng._docnums), len(eng._df), len(eng._citing)) <= 3
            assert len(eng._masks) <= 2


def test_limit(seed_kb):
    assert len(seed_kb.search("file", limit=1)) == 1
    res = seed_kb.results("file", limit=1)
    assert res.total == 2


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_query(seed_kb, text):
    with pytest.raises(KBSearchError, match="empty query"):
        seed_kb.search(text)


def test_stop_words_only(seed_kb):
    with pytest.raises(KBSearchError, match="only stop words"):
        seed_kb.search("the of and to")


@pytest.mark.parametrize("text", ['"unbalanced', "(open", "AND", "OR NOT", "title:", "*", "?", "a" * 10000, "\x00\x07ctl"])
def test_odd_queries_never_crash(seed_kb, text):
    try:
        seed_kb.search(text)
    except KBSearchError as e:
        assert "\n" not in str(e)


def test_explain_names_terms(seed_kb):
    h = seed_kb.search("redirector unable to delete", explain=True)[0]
    terms = {e["term"] for e in h.explanation["terms"]}
    assert terms == {"redirector", "unabl", "delet"}
    assert all(e["score"] > 0 for e in h.explanation["terms"])
    f = h.explanation["factors"]
    assert f["matched"] == "3/3" and f["coordination"] == 1.0
    assert f["title"] == 1.0  # none of the words is in Q168845's title
    assert f["phrase"] == 1.0 + DEFAULT.phrase / 2  # "redirector unable", not "unable to delete"


def test_explain_title_factor(seed_kb):
    # Every word is in the title "Windows NT SMS Clients Produce NT Event 3031".
    f = seed_kb.search("sms event 3031", explain=True)[0].explanation["factors"]
    assert f["title"] == round(1.0 + DEFAULT.title, 3)


def test_get(seed_kb):
    art = seed_kb.get("KB280515")
    assert art.id == "Q280515"
    assert art.section("cause").startswith("This issue can occur")
    with pytest.raises(KBSearchError, match="not in the index"):
        seed_kb.get("Q1")
    with pytest.raises(KBSearchError, match="not an article id"):
        seed_kb.get("hello")


def test_syntax_total_is_counted_in_full(seed_kb):
    res = seed_kb.results("title:3031")
    assert [h.id for h in res.hits] == ["Q168845"] and res.total == 1
    # counted in full, not estimated from the hits asked for
    assert seed_kb.results("title:3031 OR title:lkp", limit=1).total == 2


def test_stats(seed_kb):
    st = seed_kb.stats()
    assert st["articles"] == 2
    assert st["products"] == {"Microsoft Systems Management Server": 1, "Microsoft Windows NT": 1}


@pytest.mark.parametrize(
    "text, syntax",
    [
        ("redirector unable to delete", False),
        ("Win32 Error = 32", False),
        ("can't open c:\\config.sys", False),
        ('"exact phrase"', True),
        ("title:printer", True),
        ("a AND b", True),
        ("print*", True),
        ("error -2147467259 occurred", False),
        ("printer -laser", True),
        ("printer AND (laser OR inkjet)", True),
        ("title:printer^2", True),
        # Quoted phrases: a query alone or with other syntax, free text among plain words.
        ('"exact phrase" "another one"', True),
        ('word 97 grammar check fails "not enough memory"', False),
        ('dhcp "freezes" on nt4', False),
        ('printer "out of paper" -laser', True),
        ('printer symptoms:"out of paper"', True),
        ('printer "out of paper"~2', True),
        # Pasted error messages: brackets, parentheses, lone quotes, capitals.
        ("[Microsoft][ODBC SQL Server Driver]String data right truncation", False),
        ("error F2328 WAITFORMULTIPLEOBJECTS already typed MTTEST.FOR(19", False),
        ('Driver]"Optional feature not implemented', False),
        ("not registered Looking for object with CLSID {...}", False),
        ("FILE NOT FOUND", False),
        ("NOT READY READING DRIVE A", False),
        # Runs of asterisks are a message's decoration, one is a wildcard.
        ("0x0000000A IRQL_NOT_LESS_OR_EQUAL*** Address 804242a6 has base at", False),
        ("unable to find the collection \\..\\msdn***.col", False),
        ("cvpack INTERNAL ERROR exception code - 0xc0000005 *****", False),
        ("***STOP: 0x0000001E", False),
        ("*print", True),
        ("printer* driver", True),
    ],
)
def test_uses_syntax(text, syntax):
    assert uses_syntax(text) is syntax


def _kb_article(number: int, title: str, sections: dict[str, str]) -> str:
    body = "".join(f"{h}\n{'=' * len(h)}\n\n{t}\n\n" for h, t in sections.items())
    return f"DOCUMENT:Q{number}  01-JAN-2000  [exchange]\nTITLE   :{title}\nPRODUCT :Exchange\n\n{body}"


def _index_articles(tmp_path, articles: dict[int, tuple[str, dict[str, str]]], weights=None):
    """Index ``{number: (title, sections)}`` at ``tmp_path/ix``, from files in
    ``tmp_path/src`` (with the given :class:`IndexWeights`, if any)."""
    from kbsearch import ingest

    src = tmp_path / "src"
    src.mkdir()
    for n, (title, sections) in articles.items():
        (src / f"Q{n}.TXT").write_text(_kb_article(n, title, sections))
    ingest.index_paths(str(tmp_path / "ix"), [str(src)], procs=1, **({"weights": weights} if weights else {}))
    return tmp_path / "ix"


def _citing_pair(tmp_path, weights=None):
    """Q100001, and Q100002 which sends the reader to it for "how to configure deleted item retention"."""
    return _index_articles(tmp_path, weights=weights, articles={
        100001: ("XADM: Set Deleted Mail Message Retention Time", {
            "SUMMARY": "This article describes how to set the deleted item retention period on the private\n"
                       "and public information stores.",
        }),
        100002: ("XADM: Dumpster Cleanup Runs Nightly", {
            "MORE INFORMATION": "The dumpster is emptied by the online maintenance job.\n\n"
                                "For additional information about how to configure deleted item retention, click\n"
                                "the article number below to view the article in the Microsoft Knowledge Base:\n\n"
                                "   Q100001 XADM: Set Deleted Mail Message Retention Time",
        }),
        **{n: (title, {"SYMPTOMS": title + " on the information store."})
           for n, title in ((100003, "XADM: Mailbox Quota Warnings Sent Twice"),
                            (100004, "XCLN: Outlook Cannot Open Folder"))},
    })


@pytest.mark.parametrize("reference_weight, stride, first", [
    (None, None, "Q100001"),   # as shipped: the article pointed to comes first
    (1.0, 1, "Q100002"),       # lead-ins counted like prose: the one pointing to it wins
])
def test_citing_lead_ins_do_not_outrank_the_cited_article(tmp_path, monkeypatch, reference_weight, stride, first):
    from kbsearch import KnowledgeBase
    from kbsearch.ranking import IndexWeights

    weights = IndexWeights() if reference_weight is None else IndexWeights(reference=reference_weight,
                                                                           reference_stride=stride)
    # anchor_weight 0: this test is about the citing article's own weight
    with KnowledgeBase.open(_citing_pair(tmp_path, weights), ranking=replace(DEFAULT, anchor_weight=0.0)) as kb:
        assert top(kb, "configure deleted item retention")[0] == first


def test_topic_a_citing_article_gives_counts_for_the_cited_one(tmp_path):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_citing_pair(tmp_path)) as kb:
        # "configure" is only in Q100002's lead-in, which names it as Q100001's topic.
        with_topic = {h.id: h for h in kb.search("configure", explain=True)}
        assert set(with_topic) == {"Q100001", "Q100002"}
        assert with_topic["Q100001"].explanation["terms"][0]["cited_as"] == 1
        assert with_topic["Q100002"].explanation["terms"][0]["cited_as"] == 0
        # The topic counts towards the title factor, as if Q100001's title said "configure".
        assert with_topic["Q100001"].explanation["factors"]["title"] == round(1.0 + DEFAULT.title, 3)
        assert with_topic["Q100002"].explanation["factors"]["title"] == 1.0
        # Treating Q100002 as not indexed takes its topic (and its citation) with it.
        assert top(kb, "configure", exclude=["Q100002"]) == []
        h = kb.search("deleted retention", explain=True, exclude=["Q100002"])[0]
        assert h.id == "Q100001" and h.explanation["factors"]["cited_by"] == 0
        assert kb.search("deleted retention", explain=True)[0].explanation["factors"]["cited_by"] == 1


def test_words_side_by_side_in_a_topic_are_phrase_evidence(tmp_path):
    from kbsearch import KnowledgeBase

    def phrase(kb, text, **kw):
        return {h.id: h for h in kb.search(text, explain=True, **kw)}["Q100001"].explanation["factors"]["phrase"]

    with KnowledgeBase.open(_citing_pair(tmp_path)) as kb:
        # "configure deleted" is never in Q100001's text, but Q100002 calls it that.
        assert phrase(kb, "configure deleted") == 1.0 + DEFAULT.phrase
        assert phrase(kb, "configure deleted", exclude=["Q100002"]) == 1.0
        # Topic words that do not stand side by side give none.
        assert phrase(kb, "configure retention") == 1.0


@pytest.mark.parametrize("changed, old, new", [
    ("Q100002.TXT", "emptied", "cleared"),   # the citing article: its old copy must not count too
    ("Q100001.TXT", "private", "mailbox"),   # the cited one: the topic goes to its new copy
])
def test_reindexed_articles_keep_topics_right(tmp_path, changed, old, new):
    from kbsearch import KnowledgeBase, ingest

    ix = _citing_pair(tmp_path)
    f = tmp_path / "src" / changed
    f.write_text(f.read_text().replace(old, new))
    ingest.index_paths(str(ix), [str(tmp_path / "src")], procs=1)
    with KnowledgeBase.open(ix) as kb:
        assert kb.engine.live_mask() is not None  # the old copy is still in the segments, deleted
        h = {h.id: h for h in kb.search("configure", explain=True)}["Q100001"]
        assert h.explanation["terms"][0]["cited_as"] == 1
        assert kb.search("configure")[0].id == "Q100001"


def test_topics_given_in_two_segments_count_together(tmp_path):
    from kbsearch import KnowledgeBase, ingest

    ix = _citing_pair(tmp_path)
    # A second run adds another article giving Q100001 the same topic: its
    # topic is in a new segment, beside the first run's.
    (tmp_path / "src" / "Q100005.TXT").write_text(_kb_article(100005, "XADM: Store Grows After Cleanup", {
        "MORE INFORMATION": "For more information about how to configure deleted item retention, click\n"
                            "the article number below to view the article in the Microsoft Knowledge Base:\n\n"
                            "   Q100001 XADM: Set Deleted Mail Message Retention Time",
    }))
    ingest.index_paths(str(ix), [str(tmp_path / "src")], procs=1)
    with KnowledgeBase.open(ix) as kb:
        eng = kb.engine
        assert len(eng._leaves()) == 2
        [(target, citing)] = eng.anchors("configur")
        assert target == eng.docnum_for("Q100001")
        assert sorted(citing.tolist()) == sorted(eng.docnum_for(i) for i in ("Q100002", "Q100005"))

        def cited_as(**kw):
            return {h.id: h for h in kb.search("configure", explain=True, **kw)}["Q100001"].explanation[
                "terms"][0]["cited_as"]

        assert cited_as() == 2
        assert cited_as(exclude=["Q100005"]) == 1


def test_index_made_before_topics_still_works(tmp_path, monkeypatch):
    from kbsearch import KnowledgeBase, engine, ingest

    new_schema = engine.make_schema

    def old_schema():
        s = new_schema()
        s.remove("anchor")
        return s

    monkeypatch.setattr(engine, "make_schema", old_schema)
    ix = _citing_pair(tmp_path)
    monkeypatch.setattr(engine, "make_schema", new_schema)
    f = tmp_path / "src" / "Q100002.TXT"
    f.write_text(f.read_text().replace("emptied", "cleared"))
    ingest.index_paths(str(ix), [str(tmp_path / "src")], procs=1)  # no error for the missing field
    with KnowledgeBase.open(ix) as kb:
        assert top(kb, "deleted item retention")[0] == "Q100001"
        assert top(kb, "configure") == ["Q100002"]  # no topics in this index


def test_exclude_in_syntax_queries(tmp_path):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_citing_pair(tmp_path)) as kb:
        res = kb.results("title:xadm", exclude=["Q100002", "Q100004", "not-an-id", "Q999999"])
        assert sorted(h.id for h in res.hits) == ["Q100001", "Q100003"]
        assert res.total == 2  # Q100004 (XCLN) never matched, so only one is taken off


def _vocabulary_pair(tmp_path):
    """Q200001 says what a user means in KB words; Q200002 shares the user's other words."""
    return _index_articles(tmp_path, {
        200001: ("DHCP Server Service Hangs on Windows NT 4.0", {
            "SYMPTOMS": "The DHCP Server service hangs when you start DHCP Manager on a computer running\n"
                        "Windows NT Server 4.0.",
        }),
        200002: ("How to Open DHCP Manager Remotely", {
            "SUMMARY": "This article describes how to open DHCP Manager on a server from another server,\n"
                       "to manage the DHCP server from your desk.",
        }),
    })


@pytest.mark.parametrize("thesaurus, first", [(True, "Q200001"), (False, "Q200002")])
def test_query_words_match_the_kb_words_for_them(tmp_path, monkeypatch, thesaurus, first):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_vocabulary_pair(tmp_path)) as kb:
        hits = kb.search("dhcp server freezes when i open dhcp manager on nt4", explain=True, vocabulary=thesaurus)
        assert hits[0].id == first
        h = {h.id: h for h in hits}["Q200001"]
        rows = {e["term"]: e for e in h.explanation["terms"]}
        if thesaurus:
            # "freezes" counted as the article's "hangs", "nt4" as its "NT 4.0", and the snippet shows them.
            assert rows["freez"]["matched_as"] == ["hang"] and rows["freez"]["sections"] == ["title", "symptoms"]
            assert rows["4.0"]["matched_as"] == [] and "nt" in rows
            marked = {h.snippet[a:b].lower() for a, b in h.spans}
            assert {"hangs", "4.0"} <= marked
        else:
            assert "freez" not in rows and "nt4" not in rows


def test_a_jargon_word_counts_less_than_the_word_itself(tmp_path):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_vocabulary_pair(tmp_path)) as kb:
        as_typed = kb.search("dhcp server hangs", explain=True)[0]
        as_jargon = kb.search("dhcp server freezes", explain=True)[0]
        assert as_typed.id == as_jargon.id == "Q200001"
        w = {e["term"]: e["weight"] for e in as_typed.explanation["terms"]}["hang"]
        assert {e["term"]: e["weight"] for e in as_jargon.explanation["terms"]}["freez"] == pytest.approx(w / 2, abs=1e-3)


def test_a_quoted_word_or_vocabulary_off_matches_only_the_words_typed(tmp_path):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_vocabulary_pair(tmp_path)) as kb:
        assert top(kb, "freezes") == ["Q200001"]
        assert top(kb, '"freezes"') == []
        assert top(kb, "freezes", vocabulary=False) == []
        assert top(kb, "hangs", vocabulary=False) == ["Q200001"]
        # among free words too: "freezes" in quotes is not the article's "hangs"
        assert top(kb, 'dhcp "freezes"') == ["Q200002", "Q200001"]
        assert top(kb, "dhcp freezes") == ["Q200001", "Q200002"]


@pytest.mark.parametrize("text", [
    'dhcp manager fails "the dhcp server service hangs" at startup',
    'dhcp server "freezes" on nt4',
])
def test_a_description_that_quotes_a_message_is_ranked_as_free_text(tmp_path, text):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_vocabulary_pair(tmp_path)) as kb:
        hits = kb.search(text, explain=True)
    # free-text ranking explains its factors; Whoosh's parser has none to give
    assert hits and all("coordination" in h.explanation["factors"] for h in hits)


def _explained(ix, text: str, monkeypatch=None, **weights):
    """Hits with explanations for ``text`` on index ``ix``, ranked with the
    given :class:`RankingConfig` weights (None leaves one as shipped)."""
    from kbsearch import KnowledgeBase

    cfg = replace(DEFAULT, **{name: value for name, value in weights.items() if value is not None})
    with KnowledgeBase.open(ix, ranking=cfg) as kb:
        return kb.search(text, explain=True)


def _ramp(query) -> float:
    """How much ``query`` (text, or analysed words) is a description (the ranking's ramp)."""
    words = search.query_terms(query) if isinstance(query, str) else query
    return describes(DEFAULT, len({q.term for q in words}))


def _quoting_pair(tmp_path):
    """Two articles that quote one message word for word; only Q300001's title repeats it."""
    message = "The spool drive is not ready for printing"
    return _index_articles(tmp_path, {
        300001: ("Err Msg: Spool Drive Not Ready for Printing Reports", {
            "SYMPTOMS": f"When you print a long report in Report Writer, you may receive:\n\n   {message}.",
            "CAUSE": "Report Writer keeps each page of the report in memory until the whole report is\n"
                     "laid out, and a long report with many grouped sections and subtotals exhausts it.",
        }),
        300002: ("Print Manager Stops After a Paper Jam", {
            "SYMPTOMS": f"After a paper jam, Print Manager shows the message\n\n   {message}.\n\n"
                        f"and the message \"{message}\" stays on screen until the spooler restarts.\n"
                        f"Restarting it clears \"{message}\" from the queue.",
        }),
        300003: ("Spool Files Left on Drive After Printing", {
            "SYMPTOMS": "Spool files remain on the drive after printing is finished.",
        }),
    })


@pytest.mark.parametrize("min_pairs, first, quoted", [
    (None, "Q300002", True),   # as shipped: the article that quotes it most, not the one whose title says it
    (0, "Q300001", False),     # off: the title factor decides
])
def test_a_quoted_message_is_ranked_on_the_quote_not_the_title(tmp_path, monkeypatch, min_pairs, first, quoted):
    hits = _explained(_quoting_pair(tmp_path), "spool drive is not ready for printing", monkeypatch,
                      quote_min_pairs=min_pairs)
    assert [h.id for h in hits][:2] == [first, ({"Q300001", "Q300002"} - {first}).pop()]
    by_id = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["quoted"] is quoted for f in by_id.values())
    assert (by_id["Q300001"]["title"] > 1.0) is not quoted


def test_a_short_or_paraphrased_query_keeps_the_title_factor(tmp_path):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_quoting_pair(tmp_path)) as kb:
        for text in ("drive not ready",                   # two pairs: too short to call a quote
                     "printing reports spool not ready drive"):  # no article has the words in this order
            hits = kb.search(text, explain=True)
            assert hits[0].id == "Q300001"
            assert not hits[0].explanation["factors"]["quoted"]


def _titled_pair(tmp_path):
    """Q400001 is titled with its subject alone; Q400002's title names one problem with it."""
    return _index_articles(tmp_path, {
        400001: ("Roaming Profiles Overview", {
            "SUMMARY": "This article describes roaming profiles: where they are kept on the server,\n"
                       "when Windows NT copies them, which registry settings control the copy, and\n"
                       "how an administrator can set a quota on the size of each user's folder.",
        }),
        400002: ("Roaming Profiles Not Copied Back When Logging Off over a Slow Link", {
            "SYMPTOMS": "Roaming profiles are not copied back to the server when you log off over a slow\n"
                        "link, so changes to roaming profiles are lost.",
            "CAUSE": "Windows NT skips roaming profiles on a slow link; see roaming profiles settings.",
        }),
    })


@pytest.mark.parametrize("cover_boost, first", [(None, "Q400001"), (0.0, "Q400002")])
def test_a_title_that_is_the_query_ranks_first(tmp_path, monkeypatch, cover_boost, first):
    # Without the title cover, and without the subject prior (Q400001 is led by a SUMMARY).
    hits = _explained(_titled_pair(tmp_path), "roaming profiles", monkeypatch, title_cover=cover_boost,
                      subject=cover_boost)
    assert [h.id for h in hits] == [first, ({"Q400001", "Q400002"} - {first}).pop()]
    covers = {h.id: h.explanation["factors"]["title_cover"] for h in hits}
    if cover_boost is None:  # 2 of 3 title words, against 2 of a dozen
        assert covers["Q400001"] == round(1 + DEFAULT.title_cover * (2 / 3) ** 2, 3)
        assert 1.0 < covers["Q400002"] < 1.03


def _symptom_or_notes(tmp_path, with_symptom: bool = True, how: str = "shown"):
    """Q500001 has a message as its symptom (``how``: ``shown`` set off from
    its prose, as articles show messages, ``quoted`` in a sentence, or
    ``said`` in a sentence without quotation marks); Q500002's title repeats
    it and its notes quote it."""
    message = "The spool drive is not ready for printing"
    articles = {
        500002: ("Spool Drive Not Ready for Printing Message Explained", {
            "MORE INFORMATION": f"Print Manager shows \"{message}\" while it waits for the drive.",
        }),
        500003: ("Spool Files Left on Drive After Printing", {
            "SYMPTOMS": "Spool files remain on the drive after printing is finished.",
        }),
    }
    if with_symptom:
        articles[500001] = ("Report Writer Stops on Long Reports", {
            "SYMPTOMS": {
                "shown": f"When you print a long report, you may receive:\n\n   {message}.",
                "quoted": f"When you print a long report, you may receive \"{message}\" and it stops.",
                "said": f"When you print a long report, Report Writer says {message.lower()} and stops.",
            }[how],
        })
    return _index_articles(tmp_path, articles)


@pytest.mark.parametrize("boost, first", [(None, "Q500001"), (0.0, "Q500002")])
def test_a_message_quoted_as_a_symptom_ranks_first(tmp_path, monkeypatch, boost, first):
    # (the message cover also lifts only the article that shows the message)
    hits = _explained(_symptom_or_notes(tmp_path), "spool drive is not ready for printing", monkeypatch,
                      symptoms_quote=boost, message_cover=boost)
    assert hits[0].id == first
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["quoted"] for f in factors.values())
    assert factors["Q500001"]["symptoms_quote"] == round(1.0 + (DEFAULT.symptoms_quote if boost is None else boost), 3)
    assert factors["Q500002"]["symptoms_quote"] == 1.0


@pytest.mark.parametrize("word_for_word, first", [(True, "Q510001"), (False, "Q510002")])
def test_the_symptoms_bonus_goes_to_the_message_word_for_word(tmp_path, monkeypatch, word_for_word, first):
    # Both show every adjacent pair of the query's words; only Q510001 shows
    # the words in one run. Q510002's title says the message too, so it wins
    # if the pairs alone earn the bonus (word_for_word=False).
    ix = _index_articles(tmp_path, {
        510001: ("Errors When You Post a Form to the Web Server", {
            "SYMPTOMS": "When you post the form, you may receive the following error message:\n\n"
                        "   HTTP Error 405 Method Not Allowed",
        }),
        510002: ("Err Msg: HTTP Error 405, 405 Method Not Allowed", {
            "SYMPTOMS": "When you browse to the page, you may receive the following error message:\n\n"
                        "   HTTP Error 405, 405 Method Not Allowed",
        }),
    })
    if not word_for_word:
        monkeypatch.setattr(evidence, "shown_whole", lambda *a: True)
    hits = _explained(ix, "HTTP Error 405 Method Not Allowed", monkeypatch)
    assert [h.id for h in hits] == [first, ({"Q510001", "Q510002"} - {first}).pop()]
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["quoted"] for f in factors.values())
    bonus = round(1.0 + DEFAULT.symptoms_quote, 3)
    assert factors["Q510001"]["symptoms_quote"] == bonus
    assert factors["Q510002"]["symptoms_quote"] == (1.0 if word_for_word else bonus)


def _whole_or_longer(tmp_path):
    """Q520001 shows the message the query is; Q520002 shows a longer one
    that holds it, and says its words more often."""
    return _index_articles(tmp_path, {
        520001: ("Cannot Add NetBEUI Protocol", {
            "SYMPTOMS": "When you add the NetBEUI protocol, you may receive the following error message:\n\n"
                        "   Registry service subkey already exists",
        }),
        520002: ("Registry Service Subkey Errors When Adding Network Adapters", {
            "SYMPTOMS": "When you add a second network adapter, you may receive the following error message:\n\n"
                        "   The registry service subkey already exists for adapter 2. Remove the adapter from\n"
                        "   the registry and restart Setup.\n\n"
                        "The registry service subkey of the first adapter is not removed.",
        }),
    })


@pytest.mark.parametrize("cover_boost, first", [(None, "Q520001"), (0.0, "Q520002")])
def test_the_article_whose_message_the_query_is_ranks_above_a_longer_message(tmp_path, monkeypatch,
                                                                                cover_boost, first):
    hits = _explained(_whole_or_longer(tmp_path), "Registry service subkey already exists", monkeypatch,
                      message_cover=cover_boost)
    assert [h.id for h in hits] == [first, ({"Q520001", "Q520002"} - {first}).pop()]
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["quoted"] and f["symptoms_quote"] > 1.0 for f in factors.values())
    if cover_boost is None:  # all of Q520001's message; 5 of Q520002's 12 words (stop words aside)
        assert factors["Q520001"]["message_cover"] == round(1.0 + DEFAULT.message_cover, 3)
        assert factors["Q520002"]["message_cover"] == round(1.0 + DEFAULT.message_cover * 6 / 12, 3)


def test_the_message_cover_is_only_for_a_quoted_message(tmp_path, monkeypatch):
    hits = _explained(_whole_or_longer(tmp_path), "registry subkey", monkeypatch)
    assert hits and all(not h.explanation["factors"]["quoted"] for h in hits)
    assert all(h.explanation["factors"]["message_cover"] == 1.0 for h in hits)


SPOOLER = "spooler service stops when printing large documents from word"


def _lead_pair(tmp_path, lead: str = "SYMPTOMS"):
    """Q530001's ``lead`` section says what SPOOLER describes and little
    else; Q530002 says SPOOLER's words more often, below a SYMPTOMS section
    about something else."""
    return _index_articles(tmp_path, {
        530001: ("Print Jobs Fail on a Busy Server", {
            lead: "The spooler service stops when you print large documents from Word.",
        }),
        530002: ("Large Documents Print Slowly from Word", {
            "SYMPTOMS": "When you send a job to a network printer that uses a third-party port monitor with "
                        "bidirectional support turned on, the queue pauses and the job is held until an "
                        "administrator restarts the computer.",
            "MORE INFORMATION": "The spooler service stops and starts again while Word prints large documents.\n\n"
                                "Printing large documents from Word stops the spooler service when the spooler "
                                "service is short of disk space for large documents.",
        }),
    })


@pytest.mark.parametrize("lead_boost, first", [(None, "Q530001"), (0.0, "Q530002")])
def test_the_article_whose_symptoms_a_description_says_ranks_first(tmp_path, monkeypatch, lead_boost, first):
    hits = _explained(_lead_pair(tmp_path), SPOOLER, monkeypatch, lead_cover=lead_boost)
    assert [h.id for h in hits] == [first, ({"Q530001", "Q530002"} - {first}).pop()]
    covers = {h.id: h.explanation["factors"]["lead_cover"] for h in hits}
    if lead_boost is None:  # every word of Q530001's SYMPTOMS is the query's; few of Q530002's
        share = DEFAULT.lead_cover * _ramp((SPOOLER))
        assert share > 0
        assert covers["Q530001"] == round(1.0 + share, 3)
        assert 1.0 <= covers["Q530002"] < 1.05
    else:
        assert set(covers.values()) == {1.0}


def test_a_summary_counts_as_the_lead_of_an_article_without_symptoms(tmp_path, monkeypatch):
    hits = _explained(_lead_pair(tmp_path, lead="SUMMARY"), SPOOLER, monkeypatch)
    covers = {h.id: h.explanation["factors"]["lead_cover"] for h in hits}
    share = DEFAULT.lead_cover * _ramp((SPOOLER))
    assert covers["Q530001"] == round(1.0 + share * DEFAULT.lead_summary_weight, 3)


@pytest.mark.parametrize("words, part", [(1, 0.0), (3, 0.0), (4, 0.2), (6, 0.6), (8, 1.0), (12, 1.0)])
def test_the_lead_cover_grows_with_the_query_from_a_topic_to_a_description(words, part):
    from kbsearch.thesaurus import QueryTerm

    terms = [QueryTerm(i, f"w{i}", 0, 0) for i in range(words)] + [QueryTerm(words, "w0", 0, 0)]  # one twice
    assert _ramp(terms) == pytest.approx(part)


@pytest.mark.parametrize("subject_boost, first", [(None, "Q400001"), (0.0, "Q400002")])
def test_a_topic_ranks_the_article_that_explains_it_above_a_problem_with_it(tmp_path, monkeypatch,
                                                                             subject_boost, first):
    # The title cover off: the subject prior alone lifts the overview, led by
    # a SUMMARY, above the problem report, led by its SYMPTOMS.
    hits = _explained(_titled_pair(tmp_path), "roaming profiles", monkeypatch, title_cover=0.0,
                      subject=subject_boost)
    assert [h.id for h in hits] == [first, ({"Q400001", "Q400002"} - {first}).pop()]
    boost = DEFAULT.subject if subject_boost is None else subject_boost
    assert {h.id: h.explanation["factors"]["subject"] for h in hits} == {"Q400001": round(1 + boost, 3),
                                                                         "Q400002": 1.0}


@pytest.mark.parametrize("query, describes", [
    ("roaming profiles", 0.0),
    ("roaming profiles copied to the server", 0.2),
    ("roaming profiles on the server are lost when a slow link skips the copy back", 1.0),
])
def test_the_subject_prior_fades_as_the_query_becomes_a_description(tmp_path, monkeypatch, query, describes):
    assert _ramp((query)) == pytest.approx(describes)
    subject = {h.id: h.explanation["factors"]["subject"] for h in _explained(_titled_pair(tmp_path), query, monkeypatch)}
    assert subject["Q400001"] == round(1 + DEFAULT.subject * (1 - describes), 3)
    assert subject["Q400002"] == 1.0


def _cited_overview(tmp_path):
    """Q600001 explains roaming profiles; three articles that mention them
    send the reader to it, and Q600002, titled more closely, does not."""
    cite = ("For more information, see the following article in the Microsoft Knowledge Base:\n\n"
            "   Q600001 How Windows NT Stores Local and Roaming Profiles")
    return _index_articles(tmp_path, {
        600001: ("How Windows NT Stores Local and Roaming Profiles", {
            "SUMMARY": "This article describes where Windows NT keeps each user's settings, and how\n"
                       "roaming profiles are copied to and from the server."}),
        600002: ("Roaming Profiles and Slow Network Links", {
            "SUMMARY": "This article describes what happens to roaming profiles over a slow link."}),
        600003: ("Roaming Profile Not Saved When You Log Off", {
            "SYMPTOMS": "Changes to your roaming profile are lost when you log off.", "MORE INFORMATION": cite}),
        600004: ("Roaming Profile Folder Grows Large", {
            "SYMPTOMS": "The roaming profile folder on the server grows after each logon.", "MORE INFORMATION": cite}),
        600005: ("Printer Ports Are Lost After Upgrade", {
            "SYMPTOMS": "Printer ports you added are missing after the upgrade.", "MORE INFORMATION": cite}),
    })


@pytest.mark.parametrize("authority_boost, first", [(None, "Q600001"), (0.0, "Q600002")])
def test_a_topic_ranks_the_article_its_best_matches_cite_first(tmp_path, monkeypatch, authority_boost, first):
    hits = _explained(_cited_overview(tmp_path), "roaming profiles", monkeypatch, authority=authority_boost)
    assert [h.id for h in hits[:2]] == [first, ({"Q600001", "Q600002"} - {first}).pop()]
    factors = {h.id: h.explanation["factors"] for h in hits}
    if authority_boost is None:
        # all three citing articles match the topic (the last through its reference to Q600001)
        assert factors["Q600001"]["cited_nearby"] == 3
        assert factors["Q600001"]["authority"] == round(1 + DEFAULT.authority * math.log(4), 3)
    assert all(f["authority"] == 1.0 for i, f in factors.items() if i != "Q600001")


def test_the_topic_authority_counts_only_the_querys_best_matches_not_excluded(tmp_path, monkeypatch):
    from kbsearch import KnowledgeBase

    ix = _cited_overview(tmp_path)
    with KnowledgeBase.open(ix) as kb:
        eng = kb.engine
        assert sorted(eng.citing(eng.docnum_for("Q600001")).tolist()) == sorted(
            eng.docnum_for(f"Q60000{n}") for n in (3, 4, 5))
        assert len(eng.citing(eng.docnum_for("Q600002"))) == 0

        def nearby(**kw):
            return {h.id: h.explanation["factors"]["cited_nearby"]
                    for h in kb.search("roaming profiles", explain=True, **kw)}["Q600001"]

        assert nearby() == 3
        assert nearby(exclude=["Q600003"]) == 2  # an excluded article's citation does not count
    with KnowledgeBase.open(ix, ranking=replace(DEFAULT, authority_depth=1)) as kb:
        assert nearby() == 0  # only the best match counts, and it does not cite Q600001


def test_no_topic_authority_for_a_description(tmp_path, monkeypatch):
    query = "roaming profiles are copied to the server and lost when you log off after a slow link"
    assert _ramp((query)) == 1.0
    hits = _explained(_cited_overview(tmp_path), query, monkeypatch)
    assert all(h.explanation["factors"]["authority"] == 1.0 for h in hits)


def _label_pair(tmp_path):
    """Q550001's SYMPTOMS quotes the label "Save as type"; Q550002, led by a
    SUMMARY, is titled with most of its words."""
    return _index_articles(tmp_path, {
        550001: ("Converters Not Registered After a Custom Setup", {
            "SYMPTOMS": 'When you click Save As on the File menu, the "Save as type" box is empty.',
            "CAUSE": "Setup did not register the text converters.",
        }),
        550002: ("Types You Can Save As", {"SUMMARY": "This article describes which file formats Word offers."}),
    })


@pytest.mark.parametrize("gate, first", [(True, "Q550001"), (False, "Q550002")])
def test_no_subject_prior_for_a_label_an_article_shows_whole(tmp_path, monkeypatch, gate, first):
    # "Save as type" is all of a label Q550001 quotes: something the user saw,
    # not the name of a subject. Without that reading (no message is ever
    # covered), the prior lifts the SUMMARY article above it.
    if not gate:
        monkeypatch.setattr(evidence, "message_cover", lambda *args, **kw: 0.0)
    hits = _explained(_label_pair(tmp_path), "Save as type", monkeypatch)
    assert [h.id for h in hits] == [first, ({"Q550001", "Q550002"} - {first}).pop()]
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["shown"] is gate and not f["quoted"] for f in factors.values())
    assert factors["Q550002"]["subject"] == (1.0 if gate else round(1 + DEFAULT.subject, 3))
    assert all(f["authority"] == 1.0 for f in factors.values())


def test_a_query_that_is_more_than_the_label_gets_the_subject_prior(tmp_path, monkeypatch):
    hits = _explained(_label_pair(tmp_path), "save as type converters", monkeypatch)
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert not factors["Q550002"]["shown"]
    assert factors["Q550002"]["subject"] > 1.0


def test_no_subject_prior_for_a_quoted_message(tmp_path, monkeypatch):
    ix = _index_articles(tmp_path, {
        540001: ("Cannot Add NetBEUI Protocol", {
            "SYMPTOMS": "When you add the NetBEUI protocol, you may receive the following error message:\n\n"
                        "   Registry service subkey already exists",
        }),
        540002: ("How Setup Names Registry Service Subkeys", {
            "SUMMARY": "Setup gives each network service a registry subkey; when the service subkey\n"
                       "already exists, Setup reuses it.",
        }),
    })
    hits = _explained(ix, "Registry service subkey already exists", monkeypatch)
    assert len(hits) == 2 and all(h.explanation["factors"]["quoted"] for h in hits)
    assert all(h.explanation["factors"]["subject"] == 1.0 for h in hits)
    assert all(h.explanation["factors"]["authority"] == 1.0 for h in hits)
    assert hits[0].id == "Q540001"


@pytest.mark.parametrize("query", ["spooler service", "Registry service subkey already exists"])
def test_no_lead_cover_for_a_short_query_or_a_quoted_message(tmp_path, monkeypatch, query):
    src = tmp_path / "a"
    src.mkdir()
    ix = _lead_pair(src) if query.startswith("spooler") else _whole_or_longer(src)
    hits = _explained(ix, query, monkeypatch)
    assert hits and all(h.explanation["factors"]["lead_cover"] == 1.0 for h in hits)


def test_a_message_symptoms_quotes_in_a_sentence_makes_the_query_a_quoted_message(tmp_path, monkeypatch):
    # SYMPTOMS' prose quotes it ("... you may receive "The spool drive ..." and
    # it stops"), as older articles cite a message: no title factor for any
    # article, and the bonus for the one whose symptom it is.
    hits = _explained(_symptom_or_notes(tmp_path, how="quoted"), "spool drive is not ready for printing", monkeypatch)
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["quoted"] and f["title"] == 1.0 and f["title_cover"] == 1.0 for f in factors.values())
    assert factors["Q500001"]["symptoms_quote"] == round(1.0 + DEFAULT.symptoms_quote, 3)
    assert factors["Q500002"]["symptoms_quote"] == 1.0


@pytest.mark.parametrize("with_symptom, how", [(False, "shown"), (True, "said")])
def test_a_query_no_article_shows_as_a_symptom_is_not_a_quoted_message(tmp_path, monkeypatch, with_symptom, how):
    hits = _explained(_symptom_or_notes(tmp_path, with_symptom, how), "spool drive is not ready for printing",
                      monkeypatch)
    assert hits[0].id == "Q500002"
    assert not hits[0].explanation["factors"]["quoted"] and hits[0].explanation["factors"]["title"] > 1.0


def test_an_index_without_the_message_field_reads_quotes_in_all_of_symptoms(tmp_path, monkeypatch):
    from kbsearch import engine

    ix = _symptom_or_notes(tmp_path, how="said")
    monkeypatch.setattr(engine.Engine, "has_field", lambda self, name: name != "message")
    factors = {h.id: h.explanation["factors"] for h in _explained(ix, "spool drive is not ready for printing",
                                                                  monkeypatch)}
    assert factors["Q500001"]["quoted"] and factors["Q500001"]["symptoms_quote"] > 1.0


@pytest.mark.parametrize("how, query, ids", [
    ("shown", 'message:"spool drive is not ready"', ["Q500001"]),
    ("shown", "message:spool", ["Q500001"]),
    ("quoted", 'message:"spool drive is not ready"', ["Q500001"]),
    ("quoted", "message:report", []),  # the sentence around a quote is not the message
    ("said", "message:spool", []),
    ("shown", "symptoms:spool", ["Q500001", "Q500003"]),
])
def test_the_message_field_holds_what_symptoms_shows_or_quotes(tmp_path, how, query, ids):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_symptom_or_notes(tmp_path, how=how)) as kb:
        assert sorted(h.id for h in kb.search(query)) == ids


def _near_or_far(tmp_path):
    """Two articles with the same words, as often, in sections of one length:
    Q600001 has the query's words close together, Q600002 far apart."""
    filler = "on the third floor of the old building beside the stairs at the back"
    return _index_articles(tmp_path, {
        600001: ("Report Pages Print Wrong on Model 5 Units", {
            "SYMPTOMS": f"Output from the printer is garbled with this driver. It stands {filler} {filler}.",
        }),
        600002: ("Report Pages Print Wrong on Model 7 Units", {
            "SYMPTOMS": f"Output from the office {filler} printer is {filler} garbled with this driver.",
        }),
    })


@pytest.mark.parametrize("boost", [None, 0.0])
def test_query_words_near_each_other_rank_first(tmp_path, monkeypatch, boost):
    hits = _explained(_near_or_far(tmp_path), "printer driver garbled output", monkeypatch,
                      proximity=boost)
    scores = {h.id: h.score for h in hits}
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["phrase"] == 1.0 for f in factors.values())  # no two query words side by side
    if boost is None:
        # all three pairs near in Q600001; in Q600002 only "garbled with this driver"
        assert [h.id for h in hits] == ["Q600001", "Q600002"]
        assert factors["Q600001"]["proximity"] == round(1 + DEFAULT.proximity, 3)
        assert factors["Q600002"]["proximity"] == round(1 + DEFAULT.proximity / 3, 3)
    else:
        assert scores["Q600001"] == pytest.approx(scores["Q600002"])
        assert all(f["proximity"] == 1.0 for f in factors.values())


@pytest.mark.parametrize("a, b, window, near", [
    ({5}, [15], 10, True),
    ({5}, [16], 10, False),
    ({20}, [10], 10, True),     # either order
    ({5}, [5], 10, False),      # the same position is not a neighbour
    ({5}, [5, 7], 10, True),
    ({5, 500}, [130], 10, False),
    ({5}, [6], 0, False),       # window 0: off
])
def test_near(a, b, window, near):
    assert evidence._near(a, b, window) is near


def _quote_far_down(tmp_path):
    """Q700001's title says the message and its notes quote it; Q700002, a
    long article, quotes it as its symptom and starts well behind."""
    message = "The spool drive is not ready for printing"
    filler = " ".join(f"Paragraph {i} says how the report writer lays out grouped sections, subtotals and page breaks."
                      for i in range(30))
    return _index_articles(tmp_path, {
        700001: ("Err Msg: Spool Drive Not Ready for Printing", {
            "MORE INFORMATION": f"Print Manager shows \"{message}\" while it waits for the spool drive.",
        }),
        700002: ("Report Writer Stops on Long Reports", {
            "SYMPTOMS": f"When you print a long report, you may receive:\n\n   {message}.\n\n{filler}",
        }),
    })


@pytest.mark.parametrize("limit, scope, quoted", [
    (1, None, True),    # one hit asked for: the quote is still looked for among the top QUOTE_SCOPE
    (10, None, True),
    (1, 1, False),      # looking only where the first hit could be misses it
])
def test_a_quoted_message_reads_the_same_for_any_limit(tmp_path, monkeypatch, limit, scope, quoted):
    from kbsearch import KnowledgeBase

    cfg = DEFAULT if scope is None else replace(DEFAULT, quote_scope=scope)
    with KnowledgeBase.open(_quote_far_down(tmp_path), ranking=cfg) as kb:
        hits = kb.search("spool drive is not ready for printing", limit=limit, explain=True)
    assert len(hits) == min(limit, 2)
    assert all(h.explanation["factors"]["quoted"] is quoted for h in hits)
    assert (hits[0].explanation["factors"]["title"] == 1.0) is quoted


@pytest.mark.parametrize("scope, quoted", [(None, True), (10, False)])
def test_a_message_shown_below_the_top_ten_still_makes_a_quoted_message(tmp_path, monkeypatch, scope, quoted):
    # a dozen articles repeat the message in their titles and only mention
    # it; the one that shows it starts below them all
    from kbsearch import KnowledgeBase

    message = "The spool drive is not ready for printing"
    filler = " ".join(f"Paragraph {i} says how the report writer lays out grouped sections." for i in range(30))
    articles = {700100 + i: (f"Err Msg: Spool Drive Not Ready for Printing on Printer Model {i}", {
        "MORE INFORMATION": f"Model {i} spool drive is not ready for printing until it warms up.",
    }) for i in range(12)}
    articles[700200] = ("Report Writer Stops on Long Reports", {
        "SYMPTOMS": f"When you print a long report, you may receive:\n\n   {message}.\n\n{filler}",
    })
    cfg = DEFAULT if scope is None else replace(DEFAULT, quote_scope=scope)
    with KnowledgeBase.open(_index_articles(tmp_path, articles), ranking=cfg) as kb:
        hits = kb.search("spool drive is not ready for printing", limit=20, explain=True)
    assert all(h.explanation["factors"]["quoted"] is quoted for h in hits)
    bonus = {h.id: h.explanation["factors"]["symptoms_quote"] for h in hits}
    assert bonus.pop("Q700200") == (round(1.0 + DEFAULT.symptoms_quote, 3) if quoted else 1.0)
    assert set(bonus.values()) == {1.0}
    if not quoted:  # the premise: it starts below the top ten
        assert [h.id for h in hits].index("Q700200") >= 10


def _wins_and_windows(tmp_path):
    """Q600001 is about WINS; Q600002 about Windows, which it also calls "Win"."""
    return _index_articles(tmp_path, {
        600001: ("WINS Database Replication Fails Between Servers", {
            "SYMPTOMS": "Replication between two WINS servers stops after the first pull.",
        }),
        600002: ("Setup Cannot Find the Win Partition", {
            "SYMPTOMS": "Windows Setup stops when Win is on the second partition.",
        }),
    })


def test_wins_is_not_win(tmp_path):
    from kbsearch import KnowledgeBase

    with KnowledgeBase.open(_wins_and_windows(tmp_path)) as kb:
        assert top(kb, "wins") == ["Q600001"]
        assert top(kb, "win partition")[0] == "Q600002"


def test_an_index_made_when_wins_was_stemmed_still_finds_it(tmp_path, monkeypatch):
    from kbsearch import KnowledgeBase, analysis

    with monkeypatch.context() as m:  # index the way an older kbsearch did: "WINS" as "win"
        m.setattr(analysis, "UNSTEMMED", frozenset())
        m.setattr(analysis, "_stem_cache", {})
        ix = _wins_and_windows(tmp_path)
    monkeypatch.setattr(analysis, "_stem_cache", {})
    with KnowledgeBase.open(ix) as kb:
        assert kb.engine.postings("body", "wins") is None  # really the old analysis
        assert "Q600001" in top(kb, "wins")  # as "win", which is all that index has


def _service_packs(tmp_path):
    """Q610001 writes "SP3"; Q610002 says "Service Pack 2" and a "3" elsewhere;
    Q610003's symptom is a message that says "Service Pack 3"."""
    return _index_articles(tmp_path, {
        610001: ("Setup Fails After You Apply SP3", {
            "SYMPTOMS": "After you apply SP3, Setup fails when it copies the driver files.",
        }),
        610002: ("Setup Fails After You Apply Service Pack 2", {
            "SYMPTOMS": "After you apply Service Pack 2, Setup fails when it copies the driver files.",
            "RESOLUTION": "Copy the files by hand, as step 3 of the setup guide describes.",
        }),
        610003: ("Driver Installation Stops", {
            "SYMPTOMS": "When you install the driver, you may receive:\n\n   Service Pack 3 is required.",
        }),
    })


def test_a_compact_token_matches_every_word_it_stands_for(tmp_path, monkeypatch):
    # "SP3" in a query is "service pack 3" to the thesaurus; an article that
    # writes "SP3" says all three words, side by side.
    hits = _explained(_service_packs(tmp_path), "setup fails after you apply sp3", monkeypatch)
    assert hits[0].id == "Q610001"
    f = hits[0].explanation["factors"]
    assert f["matched"] == "5/5" and f["phrase"] == 1.0 + DEFAULT.phrase


@pytest.mark.parametrize("query, typed", [("sp3", 0), ("setup fails after sp3", 3), ("nt4 dhcp", 1),
                                          ("sms 2.0 sp3", 2), ("windows nt 4.0", 2)])
def test_typed_pairs_do_not_count_the_parts_of_one_word(query, typed):
    qterms = search.query_terms(query)
    found = {q.term: None for q in qterms}
    assert evidence.typed_pairs(qterms, found) == typed


def test_one_compact_token_is_not_a_quoted_message(tmp_path, monkeypatch):
    # Q610003 shows "Service Pack 3" as a message: every pair of the words
    # "sp3" stands for is in it, but the user typed one word, not a quote.
    ix = _service_packs(tmp_path)
    hits = _explained(ix, "sp3", monkeypatch)
    assert hits and not any(h.explanation["factors"]["quoted"] for h in hits)
    hits = _explained(ix, "service pack 3 is required", monkeypatch)
    assert hits[0].id == "Q610003" and hits[0].explanation["factors"]["quoted"]


@pytest.mark.parametrize("written", ["SP3", "Service Pack 3"])
def test_a_message_with_a_compact_token_is_shown_word_for_word(tmp_path, monkeypatch, written):
    # The query types "SP3", which the thesaurus makes three words; the
    # message says it as one word or as three, and either way shows the
    # query word for word (the symptoms bonus), as the other article does not.
    ix = _index_articles(tmp_path, {
        640001: ("Driver Setup Stops", {
            "SYMPTOMS": f"When you install the driver, you may receive:\n\n   {written} is required to run Setup.",
        }),
        640002: ("Setup Messages", {
            "SYMPTOMS": f"When you install the driver, you may receive:\n\n"
                        f"   {written} is required. Setup cannot run. Setup is required to run {written}.",
        }),
    })
    hits = _explained(ix, "SP3 is required to run setup", monkeypatch)
    factors = {h.id: h.explanation["factors"] for h in hits}
    assert all(f["quoted"] for f in factors.values())
    assert factors["Q640001"]["symptoms_quote"] == round(1.0 + DEFAULT.symptoms_quote, 3)
    assert factors["Q640002"]["symptoms_quote"] == 1.0
    assert hits[0].id == "Q640001"


@pytest.mark.parametrize("positions, shown", [(set(), False), ({7}, True)])
def test_one_word_is_shown_whole_only_where_a_message_has_it(monkeypatch, positions, shown):
    monkeypatch.setattr(evidence, "_message_positions", lambda eng, cfg, found, d: lambda term: positions)
    assert evidence.shown_whole(None, DEFAULT, {"spool": None}, [search.QueryTerm(0, "spool", 0, 5)], 0) is shown


@pytest.mark.parametrize("query", ["error -2147467259", "0x80004005",
                                   "error 80004005"])
def test_an_error_code_finds_the_article_that_writes_it_another_way(tmp_path, query):
    from kbsearch import KnowledgeBase

    ix = _index_articles(tmp_path, {
        620001: ("Unspecified Error Opening the Database", {
            "SYMPTOMS": "When you open the database, you may receive:\n\n   Error 0x80004005: Unspecified error",
        }),
        620002: ("Run-Time Error When You Open a Database Twice", {
            "SYMPTOMS": "A run-time error occurs when you open the same database twice.",
        }),
        620003: ("Error -2147467259 Connecting to the Server", {
            "SYMPTOMS": "Connecting to the server fails with run-time error -2147467259.",
        }),
    })
    with KnowledgeBase.open(ix) as kb:
        assert {"Q620001", "Q620003"} <= set(top(kb, query)[:2])
        assert "Q620001" in top(kb, "2147467259") and "Q620003" in top(kb, "0x80004005")
        assert top(kb, "2147467259", vocabulary=False) == ["Q620003"]
