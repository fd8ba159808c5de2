import datetime

import pytest

from kbsearch.article import (
    NotAnArticle,
    ProdVer,
    decode_bytes,
    displayed_paragraphs,
    normalize_id,
    parse_article,
    parse_file,
    prose_indent,
    quoted_pieces,
    symptom_pieces,
    reference_runs,
)
from kbsearch.errors import KBSearchError

from .conftest import DATA


@pytest.fixture(scope="module")
def q168845():
    return parse_file(str(DATA / "Q168845.TXT"))


@pytest.fixture(scope="module")
def q280515():
    return parse_file(str(DATA / "Q280515.TXT"))


def test_q168845_header(q168845):
    a = q168845
    assert a.id == "Q168845"
    assert a.number == 168845
    assert a.date == datetime.date(2001, 8, 9)
    assert a.date_text == "09-AUG-2001"
    assert a.tag == "winnt"
    assert a.title == "Windows NT SMS Clients Produce NT Event 3031"
    assert a.product == "Microsoft Windows NT"
    assert a.prod_ver == [ProdVer("winnt", ["1.2", "3.51", "4.0"])]
    assert a.versions == ["1.2", "3.51", "4.0"]
    assert a.platforms == ["winnt"]
    assert a.oper_sys == ""
    assert a.keywords == ["kbinterop", "kbnetwork"]


def test_q168845_body(q168845):
    a = q168845
    assert a.applies_to == [
        "Microsoft Systems Management Server version 1.2",
        "Microsoft Windows NT Server versions 3.51, 4.0",
    ]
    assert [s.heading for s in a.sections] == ["SYMPTOMS", "CAUSE", "STATUS"]
    assert a.section("symptoms").startswith("When adding a Windows NT version 3.51 or 4.00 client")
    assert "The redirector was unable to delete the file specified on server" in a.section("SYMPTOMS")
    assert a.section("cause").endswith("attempts to remove this file which returns event 3031.")
    assert "Contact Microsoft Technical Support" in a.section("status")
    assert a.section("resolution") == ""
    assert a.query_words == "4.00 3.51 1.20 sms ccm winnt"
    assert a.preamble == ""
    assert a.citations == []


def test_q168845_footer(q168845):
    a = q168845
    assert a.footer_keywords == ["kbinterop", "kbnetwork"]
    assert a.technology[:2] == ["kbWinNTsearch", "kbWinNT351search"]
    assert a.technology[-1] == "kbSMS120"
    assert len(a.technology) == 10
    assert a.version_line == "winnt:1.2,3.51,4.0"
    assert a.issue_type == "kbbug"
    assert a.solution_type == "kbfix"
    assert a.legal.startswith("THE INFORMATION PROVIDED IN THE MICROSOFT KNOWLEDGE BASE IS")
    assert a.legal.endswith("Copyright Microsoft Corporation 2001.")


def test_q280515(q280515):
    a = q280515
    assert a.id == "Q280515"
    assert a.date == datetime.date(2002, 8, 6)
    assert a.tag == "sms"
    assert a.title == "SMS: The Client.lkp File Is Not Updated"
    assert a.product == "Microsoft Systems Management Server"
    assert a.prod_ver == [ProdVer("", ["2.0"])]
    assert a.keywords == ["kbsms200", "kbsms200bug", "kbsms120", "kbsms120bug", "kbsms200preSP4fix"]
    assert a.applies_to == ["Microsoft Systems Management Server version 2.0"]
    assert [s.name for s in a.sections] == ["symptoms", "cause", "resolution", "status"]
    assert "Win32 Error = 32" in a.section("symptoms")
    assert a.query_words == "prodsms"
    assert a.version_line == ":2.0"
    assert a.technology == ["kbSMSSearch", "kbSMS200"]
    assert a.issue_type == "kbbug"
    assert a.solution_type == "kbfix"
    # The citation's title wraps onto a second line.
    assert [(c.id, c.title) for c in a.citations] == [
        ("Q288239", "SMS: How to Obtain the Latest Systems Management Server 2.0 Service Pack")
    ]


def test_no_text_is_lost(q168845, q280515):
    """Every non-blank line of the file lands in some slot of the record."""
    for a in (q168845, q280515):
        slots = " ".join(
            [a.title, a.product, a.query_words, a.legal, a.body, " ".join(a.applies_to)]
            + list(a.footer.values())
        )
        slots = " ".join(slots.split())
        body_start = a.text.index("SYMPTOMS")
        for line in a.text[body_start:].splitlines():
            line = " ".join(line.split())
            if line and set(line) - set("=-"):
                assert line.replace("Additional query words: ", "") in slots or line.split(":")[0].strip() in a.footer


def test_crlf_is_the_same_as_lf():
    data = (DATA / "Q168845.TXT").read_bytes()
    crlf = data.replace(b"\n", b"\r\n")
    a, b = parse_article(data), parse_article(crlf)
    assert a.sections == b.sections
    assert a.footer == b.footer
    assert a.title == b.title


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"   \r\n\r\n  ", "empty"),
        (b"\x00\x01\x02binary\x00junk" * 50, "binary"),
        (bytes(range(1, 32)) * 40, "binary"),
        (b"Just some notes\r\nwithout a header\r\n", "no DOCUMENT"),
        (b"TITLE   :A title but no document line\r\n", "no DOCUMENT"),
        (b"DOCUMENT:  09-AUG-2001  [winnt]\r\n", "no DOCUMENT"),
    ],
)
def test_not_an_article(data, reason):
    with pytest.raises(NotAnArticle, match=reason):
        parse_article(data)


def test_not_an_article_is_our_error_type():
    with pytest.raises(KBSearchError):
        parse_article(b"")


def test_truncated_header_still_parses():
    a = parse_article(b"DOCUMENT:Q123456  01-JAN-2000  [win95x]\r\nTITLE   :Half a head")
    assert a.id == "Q123456"
    assert a.title == "Half a head"
    assert a.sections == []


def test_truncated_means_the_file_stops_after_its_header():
    assert parse_article(b"DOCUMENT:Q123456  01-JAN-2000  [win95x]\r\nTITLE   :Half a head").truncated
    assert not parse_article((DATA / "Q168845.TXT").read_bytes()).truncated
    # blank sections, but the file goes on to its footer: an empty article, not a cut-off one
    blank = (b"DOCUMENT:Q123457  01-JAN-2000  [x]\nTITLE   :Blank\n\nSUMMARY\n=======\n\n \n\n"
             b"Additional query words: wfw\n\n=====\nKeywords          : kbfile\n")
    a = parse_article(blank)
    assert a.body.strip() == "SUMMARY" and not a.truncated


def test_cp1252_is_decoded():
    data = (DATA / "Q168845.TXT").read_bytes()
    data = data.replace(b"Windows NT SMS Clients", b"Windows NT\x92s \x93SMS\x94 Clients\xa0caf\xe9")
    a = parse_article(data)
    assert a.encoding == "cp1252"
    assert a.title.startswith("Windows NT\u2019s \u201cSMS\u201d Clients\u00a0caf\u00e9")


def test_undefined_cp1252_bytes_do_not_crash():
    text, enc = decode_bytes(b"DOCUMENT:Q1  \x81\x8d\x90 caf\xe9")
    assert enc == "cp1252"
    assert "caf\u00e9" in text
    assert "\ufffd" in text


def test_utf8_bom_is_dropped():
    text, enc = decode_bytes(b"\xef\xbb\xbfDOCUMENT:Q1")
    assert (text, enc) == ("DOCUMENT:Q1", "utf-8")


def test_prod_ver_shapes():
    a = parse_article(b"DOCUMENT:Q10022  07-SEP-2001  [word97]\nTITLE   :t\nPROD/VER:WINDOWS:97; winnt:4.0\n")
    assert a.prod_ver == [ProdVer("WINDOWS", ["97"]), ProdVer("winnt", ["4.0"])]
    a = parse_article(b"DOCUMENT:Q32089  07-SEP-2001  [x]\nTITLE   :t\nPROD/VER:3.00 4.00\n")
    assert a.prod_ver == [ProdVer("", ["3.00", "4.00"])]
    a = parse_article(b"DOCUMENT:Q32089  07-SEP-2001  [x]\nTITLE   :t\nPROD/VER::\n")
    assert a.versions == []


def test_article_id_citations_and_inline_references():
    text = (
        "DOCUMENT:Q100001  01-JAN-2000  [x]\nTITLE   :t\n\n"
        "SYMPTOMS\n========\n\nSee article Q123456 and KB234567 for more.\n\n"
        "REFERENCES\n==========\n\n   ARTICLE-ID: Q345678\n   TITLE     : How to Do Things\n"
    )
    a = parse_article(text)
    cites = {c.id: c.title for c in a.citations}
    assert cites == {"Q123456": "", "Q234567": "", "Q345678": "How to Do Things"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Q168845", "Q168845"),
        ("q168845", "Q168845"),
        ("168845", "Q168845"),
        ("KB168845", "Q168845"),
        (" kb 168845 ", "Q168845"),
        ("Q0168845", "Q168845"),
        ("0", None),
        ("Q", None),
        ("hello", None),
        ("168845 error", None),
        ("", None),
    ],
)
def test_normalize_id(text, expected):
    assert normalize_id(text) == expected


def test_parse_file_missing(tmp_path):
    with pytest.raises(KBSearchError, match="cannot read"):
        parse_file(str(tmp_path / "nope.txt"))


LEAD_IN = ("For additional information about how to configure deleted item retention, click\n"
           "the article number below to view the article in the Microsoft Knowledge Base:")
CITE_LIST = "   Q246283 XADM: Set Deleted Mail Message Retention Time in\n      Exchange Server 5.5"


@pytest.mark.parametrize(
    "text, expected",
    [
        # Plain prose, even with words a lead-in uses.
        ("The following steps fix it.\n\nSee below.", [("The following steps fix it.\n\nSee below.", False)]),
        # A lead-in and the wrapped citation list after it form one run.
        (LEAD_IN + "\n\n" + CITE_LIST, [(LEAD_IN + "\n\n" + CITE_LIST, True)]),
        # The article's own sentence before a lead-in stays its own.
        ("Items go to the .pst file. " + LEAD_IN + "\n\n" + CITE_LIST,
         [("Items go to the .pst file. ", False), (LEAD_IN + "\n\n" + CITE_LIST, True)]),
        # Prose after a citation list is the article's again.
        (LEAD_IN + "\n\n" + CITE_LIST + "\n\nRestart the server.",
         [(LEAD_IN + "\n\n" + CITE_LIST, True), ("Restart the server.", False)]),
        # ARTICLE-ID / TITLE blocks and bare citation lists.
        ("   ARTICLE-ID: Q345678\n   TITLE     : How to Do Things", [("   ARTICLE-ID: Q345678\n   TITLE     : How to Do Things", True)]),
        ("Q123456 How to Do Things", [("Q123456 How to Do Things", True)]),
        ("For more information, please see the following article(s) in the Microsoft\nKnowledge Base:",
         [("For more information, please see the following article(s) in the Microsoft\nKnowledge Base:", True)]),
        ("", []),
    ],
)
def test_reference_runs(text, expected):
    assert reference_runs(text) == expected


def test_reference_runs_on_a_real_article(q280515):
    runs = [run for s in q280515.sections for run in reference_runs(s.text)]
    # Nothing is lost: the runs hold every word of the sections.
    assert sorted(" ".join(t for t, _ in runs).split()) == sorted(" ".join(s.text for s in q280515.sections).split())


@pytest.mark.parametrize(
    "body, topics",
    [
        (LEAD_IN + "\n\n" + CITE_LIST, {"Q246283": "how to configure deleted item retention"}),
        # A topic that wraps, ending in "view": the comma ends it, not the word.
        ("For more information about how to\nview the dumpster, see the following article in the Microsoft\n"
         "Knowledge Base:\n\n   Q178630 XADM: How to Recover Items",
         {"Q178630": "how to view the dumpster"}),
        # No topic named, or no article number after the lead-in.
        ("For additional information, click the following article number to view the article in the\n"
         "Microsoft Knowledge Base:\n\n   Q288239 SMS: How to Obtain the Latest Service Pack", {"Q288239": ""}),
        ("For more information about ODBC, see the ODBC documentation. See also Q123456.", {"Q123456": ""}),
        # Every article listed after a lead-in gets its topic, up to the next lead-in.
        ("For more information about the dumpster, click the article numbers below to view the articles\n"
         "in the Microsoft Knowledge Base:\n\n   Q178630 XADM: How to Recover Items\n"
         "   Q246283 XADM: Deleted Item Retention\n\n"
         "For additional information, click the article number below to view the article in the\n"
         "Microsoft Knowledge Base:\n\n   Q288239 SMS: How to Obtain the Latest Service Pack\n\n"
         "For more information about service packs, see the following article in the Microsoft\n"
         "Knowledge Base:\n\n   Q152734 How to Obtain the Latest Windows NT 4.0 Service Pack",
         {"Q178630": "the dumpster", "Q246283": "the dumpster", "Q288239": "", "Q152734": "service packs"}),
    ],
)
def test_citation_topics(body, topics):
    a = parse_article(f"DOCUMENT:Q100002  01-JAN-2000  [x]\nTITLE   :t\n\nMORE INFORMATION\n================\n\n{body}\n")
    assert {c.id: c.topic for c in a.citations} == topics


def test_messages_are_what_symptoms_sets_off_from_its_prose(q168845):
    assert q168845.messages == [
        "The redirector was unable to delete the file specified on server\n"
        "SMSLOGONSERVER when it was closed by the application. The data contains the\n"
        "name of the file."
    ]


@pytest.mark.parametrize("text, indent, shown", [
    ("You see:\n\n   Access is denied.\n\nThen it stops.", 0, [False, True, False]),
    # older articles indent their prose too: only deeper paragraphs are shown text
    ("   You see:\n\n      Access is denied.\n\n   Then it stops.", 3, [False, True, False]),
    # a paragraph is as deep as its least-indented line
    ("You see:\n\n   Access is\ndenied.", 0, [False, False]),
    ("   Only a message.", 3, [False]),
    ("", 0, []),
])
def test_displayed_paragraphs(text, indent, shown):
    assert prose_indent(text) == indent
    paras = displayed_paragraphs(text, indent)
    assert [s for _, s in paras] == shown
    assert "\n\n".join(p for p, _ in paras) == text.strip("\n")


def test_messages_leave_out_prose_mentions_and_cited_articles():
    a = parse_article(
        "DOCUMENT:Q123456  01-JAN-1999  [winnt]\nTITLE   :Printing Stops\n\n"
        "SYMPTOMS\n========\n\nThe status bar says \"Printer not ready\", and then:\n\n"
        "   Print job 4 could not be sent.\n\n"
        "For more information, click the article number below to view the article in the\n"
        "Microsoft Knowledge Base:\n\n   Q234567 How to Clear the Print Queue\n\n"
        "CAUSE\n=====\n\n   An indented paragraph in CAUSE.\n"
    )
    assert a.messages == ["Print job 4 could not be sent."]
    assert a.quotes == ["Printer not ready"]  # what the prose quotes is kept apart


def test_symptom_pieces_say_what_each_piece_of_symptoms_is():
    from kbsearch.analysis import analyze_list

    text = 'You see "Access is denied" and then:\n\n   Error 5.\n\nIt stops.'
    pieces = symptom_pieces(text, prose_indent(text))
    assert pieces == [("You see \"", "prose"), ("Access is denied", "quoted"), ("\" and then:", "prose"),
                      ("   Error 5.", "shown"), ("It stops.", "prose")]
    # no word is lost or split
    assert [t for p, _ in pieces for _, t in analyze_list(p)] == [t for _, t in analyze_list(text)]


@pytest.mark.parametrize("paragraph, quoted", [
    ('You receive "Access is denied" and it stops.', ["Access is denied"]),
    ('Click "Add/Remove Programs", then "OK".', ["Add/Remove Programs"]),  # one word is a name, not a quote
    ('The message\n"Cannot find\nthe file" appears.', ["Cannot find\nthe file"]),
    ('An unclosed "quote runs on', []),
    ('No quotes at all.', []),
    ('"Two words" only', ["Two words"]),
])
def test_quoted_pieces(paragraph, quoted):
    pieces = quoted_pieces(paragraph)
    assert [p for p, q in pieces if q] == quoted
    assert "".join(p for p, _ in pieces) == paragraph
