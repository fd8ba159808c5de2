import pytest

from kbsearch.analysis import analyze_spans
from kbsearch.thesaurus import JARGON_WEIGHT, expand


def words(text):
    return [(q.position, q.term, dict(q.alternatives)) for q in expand(list(analyze_spans(text)))]


@pytest.mark.parametrize("text, expected", [
    # Compact product tokens become the words articles use, the original kept
    # as an alternative of each of them (an article that writes "NT4" says
    # "4.0" too); later words move on so phrases still line up.
    ("nt4 dhcp", [(0, "nt", {"nt4": 1.0}), (1, "4.0", {"nt4": 1.0, "4": 1.0}), (2, "dhcp", {})]),
    ("nt351", [(0, "nt", {"nt351": 1.0}), (1, "3.51", {"nt351": 1.0})]),
    ("win2k server", [(0, "window", {"win2k": 1.0}), (1, "2000", {"win2k": 1.0}), (2, "server", {})]),
    ("w95", [(0, "window", {"w95": 1.0}), (1, "95", {"w95": 1.0, "95.0": 1.0})]),
    ("ie55", [(0, "internet", {"ie55": 1.0}), (1, "explor", {"ie55": 1.0}), (2, "5.5", {"ie55": 1.0})]),
    ("vb6", [(0, "visual", {"vb6": 1.0}), (1, "basic", {"vb6": 1.0}), (2, "6.0", {"vb6": 1.0, "6": 1.0})]),
    ("sp6a", [(0, "servic", {"sp6a": 1.0}), (1, "pack", {"sp6a": 1.0}), (2, "6a", {"sp6a": 1.0})]),
    ("iis4", [(0, "iis", {"iis4": 1.0}), (1, "4.0", {"iis4": 1.0, "4": 1.0})]),
    ("sql65", [(0, "sql", {"sql65": 1.0}), (1, "6.5", {"sql65": 1.0})]),
    ("sql2k", [(0, "sql", {"sql2k": 1.0}), (1, "2000", {"sql2k": 1.0})]),
    ("office97", [(0, "offic", {"office97": 1.0}), (1, "97", {"office97": 1.0, "97.0": 1.0})]),
    ("excel2000", [(0, "excel", {"excel2000": 1.0}), (1, "2000", {"excel2000": 1.0})]),
    # Short forms: one way ("win" in articles is mostly WIN.INI).
    ("win 95", [(0, "win", {"window": 1.0}), (1, "95", {"95.0": 1.0})]),
    ("windows", [(0, "window", {})]),
    # A bare version number also matches its N.0 form, and the other way round.
    ("nt 4", [(0, "nt", {}), (1, "4", {"4.0": 1.0})]),
    ("nt 4.0", [(0, "nt", {}), (1, "4.0", {"4": 1.0})]),
    # Other spellings of one word: full weight, both ways.
    ("can't", [(0, "cant", {"cannot": 1.0})]),
    ("cannot", [(0, "cannot", {"cant": 1.0})]),
    ("doesn't print", [(0, "doesnt", {"not": 1.0}), (1, "print", {})]),
    ("e-mail", [(0, "e-mail", {"email": 1.0})]),
    ("slow", [(0, "slow", {"slowli": 1.0, "perform": JARGON_WEIGHT})]),
    ("grayed", [(0, "gray", {"grey": 1.0, "unavail": JARGON_WEIGHT, "dim": JARGON_WEIGHT})]),
    ("wfw", [(0, "wfw", {"wfwg": 1.0})]),
    ("administer", [(0, "administ", {"administr": 1.0})]),
    # Short forms one way: "config" finds "configuration"; "configure" not "config".
    ("config sync", [(0, "config", {"configur": 1.0}), (1, "sync", {"synchron": 1.0})]),
    ("configuration", [(0, "configur", {})]),
    # User words for a failure: the KB's terms, at less than full weight.
    ("freezes", [(0, "freez", {a: JARGON_WEIGHT for a in ("hang", "hung", "lockup", "respond")})]),
    ("missing", [(0, "miss", {"lost": JARGON_WEIGHT, "disappear": JARGON_WEIGHT})]),
    ("manage", [(0, "manag", {"administ": JARGON_WEIGHT, "administr": JARGON_WEIGHT})]),
    ("corrupted pc", [(0, "corrupt", {"damag": JARGON_WEIGHT}), (1, "pc", {"comput": JARGON_WEIGHT})]),
    ("garbled", [(0, "garbl", {"garbag": 1.0, "corrupt": JARGON_WEIGHT})]),
    ("launches blank", [(0, "launch", {"start": JARGON_WEIGHT, "run": JARGON_WEIGHT}),
                        (1, "blank", {"empti": JARGON_WEIGHT})]),
    ("err msg pw", [(0, "err", {"error": 1.0}), (1, "msg", {"messag": 1.0}), (2, "pw", {"password": 1.0})]),
    # Two-word phrases only as phrases: "box" is a prompt only after "dos".
    ("dos box", [(0, "dos", {}), (1, "box", {"prompt": JARGON_WEIGHT, "session": JARGON_WEIGHT})]),
    ("dos prompt", [(0, "dos", {}), (1, "prompt", {"session": JARGON_WEIGHT})]),
    ("dialog box", [(0, "dialog", {}), (1, "box", {})]),
    ("locks up", [(0, "lock", {a: JARGON_WEIGHT for a in ("hang", "freez", "lockup", "respond")}), (1, "up", {})]),
    ("locks the file", [(0, "lock", {}), (2, "file", {})]),
    ("blue screen", [(0, "blue", {}), (1, "screen", {"stop": JARGON_WEIGHT, "trap": JARGON_WEIGHT})]),
    ("hard drive", [(0, "hard", {}), (1, "drive", {"disk": JARGON_WEIGHT})]),
    # Technical tokens are left alone.
    ("perfctrs.dll", [(0, "perfctrs.dll", {})]),
    # A small code (a STOP code) with and without its zero padding.
    ("0x0000000a perfctrs.dll", [(0, "0x0000000a", {"0xa": 1.0, "0x0a": 1.0, "0000000a": 1.0}),
                                 (1, "perfctrs.dll", {})]),
    ("0x50", [(0, "0x50", {"0x00000050": 1.0, "00000050": 1.0})]),
    ("stop 0000001E", [(0, "stop", {}), (1, "0000001e", {"0x1e": 1.0, "0x0000001e": 1.0})]),
    # A number after "stop" or "bugcheck" is a STOP code, written in hex.
    ("stop 50 page fault", [(0, "stop", {}),
                            (1, "50", {"50.0": 1.0, "0x50": 1.0, "0x00000050": 1.0, "00000050": 1.0}),
                            (2, "page", {}), (3, "fault", {})]),
    ("bugcheck 1e", [(0, "bugcheck", {}), (1, "1e", {"0x1e": 1.0, "0x0000001e": 1.0, "0000001e": 1.0})]),
    ("bug check d1", [(0, "bug", {}), (1, "check", {}),
                      (2, "d1", {"0xd1": 1.0, "0x000000d1": 1.0, "000000d1": 1.0})]),
    # ... not a word or a longer number after it, nor a number elsewhere.
    ("stop dead", [(0, "stop", {}), (1, "dead", {})]),
    ("stop 2000 services", [(0, "stop", {}), (1, "2000", {}), (2, "servic", {})]),
    ("page 50", [(0, "page", {}), (1, "50", {"50.0": 1.0})]),
    ("win31", [(0, "window", {"win31": 1.0}), (1, "3.1", {"win31": 1.0})]),
    ("win32 error 32", [(0, "win32", {}), (1, "error", {}), (2, "32", {"32.0": 1.0})]),
    # An error code in any of the forms Windows shows it: hex with or
    # without "0x", unsigned decimal, a negative's magnitude (VB's
    # "-2147467259"; the analyser drops the sign).
    ("0x80004005", [(0, "0x80004005", {"80004005": 1.0, "2147500037": 1.0, "2147467259": 1.0})]),
    ("error -2147467259", [(0, "error", {}),
                           (1, "2147467259", {"0x80004005": 1.0, "80004005": 1.0, "2147500037": 1.0})]),
    ("c0000005", [(0, "c0000005", {"0xc0000005": 1.0, "3221225477": 1.0, "1073741819": 1.0})]),
    ("3355445011", [(0, "3355445011", {"0xc8000713": 1.0, "c8000713": 1.0})]),  # -939522285: not 10 digits
    ("0xffffffff", [(0, "0xffffffff", {"ffffffff": 1.0, "4294967295": 1.0})]),  # not "1"
    # ... but not eight digits that are a number, nor ten digits past 32 bits.
    ("12345678 0123456789", [(0, "12345678", {}), (1, "0123456789", {})]),
    ("4294967296 9999999999", [(0, "4294967296", {}), (1, "9999999999", {})]),
])
def test_expand(text, expected):
    assert words(text) == expected


def test_expand_keeps_character_offsets_of_what_was_typed():
    text = "dhcp on nt4"
    got = expand(list(analyze_spans(text)))
    assert [(text[q.start:q.end], q.term) for q in got] == [("dhcp", "dhcp"), ("nt4", "nt"), ("nt4", "4.0")]


def test_words_typed_in_quotation_marks_stay_as_typed():
    text = 'dhcp "nt4" freezes on "nt4"'
    typed = [(6, 11), (23, 28)]
    got = expand(list(analyze_spans(text)), as_typed=typed)
    assert [(q.term, dict(q.alternatives)) for q in got][:2] == [("dhcp", {}), ("nt4", {})]
    assert dict(got[2].alternatives).get("hang") == JARGON_WEIGHT  # "freezes" is not quoted
    assert (got[-1].term, got[-1].alternatives) == ("nt4", ())
    assert [q.position for q in got] == [0, 1, 2, 4]  # "on" is a stop word; nothing split
