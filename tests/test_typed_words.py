"""What users type: words no article has are named, a word the vocabulary
splits into parts counts as one word, and a rare exact token (a code, a
file name) outweighs many common words."""

import json
from dataclasses import replace

from click.testing import CliRunner

from kbsearch import KnowledgeBase
from kbsearch.cli import cli
from kbsearch.ranking import DEFAULT

from .test_search import _index_articles

PRINTERS = {
    720001: ("Printer Hangs When You Print a Large Document", {
        "SYMPTOMS": "The printer hangs when you print a large document from any program."}),
    720002: ("SNA Server Stops After You Install Windows NT 4.0 Service Pack 3", {
        "SYMPTOMS": "After you install Windows NT 4.0 Service Pack 3, the SNA Server service stops.\n"
                    "Windows NT 4.0 Service Pack 3 is required by the host print service."}),
    # As in the archive, NT 4.0 and its service packs are everywhere, and
    # printers common enough.
    **{720100 + i: (f"Network Adapter {i} Drops Connections", {
        "SYMPTOMS": f"On Windows NT 4.0 with Service Pack {3 if i % 2 else 2}, adapter {i} drops its link."})
       for i in range(6)},
    **{720200 + i: (f"Printer Model {i} Prints Blank Pages", {"SYMPTOMS": f"Printer model {i} prints blank pages."})
       for i in range(6)},
}
STOP = {
    # Many of the pasted message's words, but another code.
    730001: ("Blue Screen STOP Message C0000135 at Startup", {
        "SYMPTOMS": "STOP: c0000135 The registry cannot load the hive file at startup."}),
    # The code, and few other words.
    730002: ("Stop Message When the Registry Is Overrun", {
        "SYMPTOMS": "When you reboot, the following stop screen appears:\n\n   Stop 0xc0000218 (0xe11a30e8)"}),
    **{730100 + i: (f"Hive Tool {i} Reports Registry Sizes", {"SYMPTOMS": f"Hive tool {i} lists the registry file."})
       for i in range(10)},
}
PASTED = "STOP: c0000218 {Registry File Failure} The registry cannot load the hive (file)"


def test_words_no_article_has_are_named(tmp_path):
    ix = _index_articles(tmp_path, PRINTERS)
    with KnowledgeBase.open(ix) as kb:
        res = kb.results("printer zzzqqq hangs thingamajig")
        assert res.hits and res.unmatched == ["zzzqqq", "thingamajig"]
        assert kb.results("printer hangs").unmatched == []
        assert kb.results("printer nt4").unmatched == []  # "nt4" is found as "nt" "4.0"
    out = CliRunner().invoke(cli, ["printer zzzqqq", "--index", str(ix)])
    assert out.exit_code == 0
    assert "No article has: zzzqqq (the hits match the other words)" in out.stderr
    doc = json.loads(CliRunner().invoke(cli, ["printer zzzqqq", "--json", "--index", str(ix)]).stdout)
    assert doc["unmatched"] == ["zzzqqq"]


def test_the_parts_of_one_typed_word_count_as_one_word(tmp_path):
    ix = _index_articles(tmp_path, PRINTERS)
    query = "printer hangs nt4 sp3"
    with KnowledgeBase.open(ix, ranking=replace(DEFAULT, part_share=0.0)) as kb:  # each part a word
        assert kb.search(query)[0].id == "Q720002"  # service pack 3 and nt 4.0 drown "printer"
    with KnowledgeBase.open(ix) as kb:
        hits = kb.search(query, explain=True)
    assert hits[0].id == "Q720001"
    assert hits[0].explanation["factors"]["matched"] == "2/4"  # printer, hangs; of 4 typed words
    shares = {t["term"]: t.get("share", 1.0) for t in hits[1].explanation["terms"]}
    assert shares["servic"] == shares["pack"] == round(1 / 3, 3) and shares["nt"] == 0.5


def test_a_rare_exact_code_outweighs_the_common_words(tmp_path):
    ix = _index_articles(tmp_path, STOP)
    with KnowledgeBase.open(ix, ranking=replace(DEFAULT, exact=0.0)) as kb:
        assert kb.search(PASTED)[0].id == "Q730001"
    with KnowledgeBase.open(ix) as kb:
        hits = kb.search(PASTED, explain=True)
    assert hits[0].id == "Q730002"  # "0xc0000218" is a form of "c0000218"
    assert hits[0].breakdown.factor("exact").value == 1.0 + DEFAULT.exact
    assert hits[1].breakdown.factor("exact").value == 1.0


def test_quantities_and_versioned_names_are_not_exact(tmp_path):
    ix = _index_articles(tmp_path, {
        740001: ("Disks Formatted at 1.2MB Are Unreadable", {"SYMPTOMS": "A 1.2MB disk cannot be read."}),
        740002: ("Format Fails on 1.2 MB Disks", {"SYMPTOMS": "Formatting a 1.2 MB disk fails."}),
        # A name with a version number has other spellings ("AS/400").
        740003: ("AS400 Sessions Hang", {"SYMPTOMS": "AS400 sessions hang."}),
        740004: ("APPC Controller Pending on AS/400", {"SYMPTOMS": "The AS/400 controller stays pending."}),
    })
    with KnowledgeBase.open(ix) as kb:
        for q in ("1.2mb disks unreadable", "format 1.2 mb disk", "as400 controller pending"):
            assert all(not h.breakdown.factor("exact").applied for h in kb.search(q)), q


def test_the_snippet_weighs_words_as_the_ranking_does(tmp_path):
    ix = _index_articles(tmp_path, {
        750001: ("Print Jobs Stop", {
            "SYMPTOMS": "This happens on Windows NT 4.0 with Service Pack 3 installed.\n\n"
                        "The printer hangs and the spooler stops."}),
    })
    with KnowledgeBase.open(ix) as kb:
        hit = kb.search("printer hangs spooler nt4 sp3")[0]
    # Five parts of two typed words ("NT 4.0 Service Pack 3") count as two
    # words, less than the three the other passage has.
    assert hit.snippet == "The printer hangs and the spooler stops."


def test_a_file_name_articles_also_write_bare_is_not_exact(tmp_path):
    ix = _index_articles(tmp_path, {
        760001: ("Resource Compiler Cannot Find Include Files", {"SYMPTOMS": "RC cannot find the include files."}),
        760002: ("RC.EXE Options", {"SYMPTOMS": "RC.EXE takes these options."}),
        760003: ("PERFCTRS.DLL Missing", {"SYMPTOMS": "Counters fail: PERFCTRS.DLL is missing."}),
        **{760100 + i: (f"Resource Script {i}", {"SYMPTOMS": f"RC compiles script {i}."}) for i in range(4)},
    })
    cfg = replace(DEFAULT, exact_max_df=3)  # "rc.exe" is in 1 article, "rc" in 6
    with KnowledgeBase.open(ix, ranking=cfg) as kb:
        hits = kb.search("rc.exe cannot find include files")
        assert hits[0].id == "Q760001"
        assert all(not h.breakdown.factor("exact").applied for h in hits)
        # A file name that articles write only whole stays exact.
        assert kb.search("perfctrs.dll missing")[0].breakdown.factor("exact").applied
