import pytest

from kbsearch.analysis import STOP_WORDS, UNSTEMMED, analyze, analyze_list, analyze_spans, stem, stemmed


def terms(text):
    return [t for _, t in analyze(text)]


@pytest.mark.parametrize(
    "token",
    ["0x0000000a", "c0000005", "perfctrs.dll", "win32", "3.51", "4.0.1381", "file_flag_delete_on_close", "q168845"],
)
def test_technical_tokens_stay_whole(token):
    assert token in terms(f"see {token.upper()} here") or token in terms(f"see {token} here")


def test_joined_tokens_are_also_split_at_index_time():
    assert terms("Client.lkp") == ["client.lkp", "client", "lkp"]
    assert [t for _, t in analyze("Client.lkp", split_compounds=False)] == ["client.lkp"]


def test_numbers_are_not_split():
    assert terms("version 3.51") == ["version", "3.51"]


def test_words_are_stemmed_and_lowercased():
    assert terms("Printers Printing DELETED") == ["printer", "print", "delet"]
    assert stem("errors") == "error"


def test_stop_words_drop_but_keep_positions():
    assert list(analyze("unable to delete the file")) == [(0, "unabl"), (2, "delet"), (4, "file")]
    assert "not" not in STOP_WORDS  # error messages turn on negations


def test_apostrophes():
    assert terms("client's don't") == ["client", "dont"]


def test_spans_point_at_the_source_text():
    text = "The redirector was unable to delete client.lkp"
    for pos, term, a, b in analyze_spans(text):
        assert text[a:b].lower().startswith(term[:4])
    assert [p for p, *_ in analyze_spans(text)] == [p for p, _ in analyze(text, split_compounds=False)]


@pytest.mark.parametrize("text", ["", "   ", "!!! ??? ...", "\x00\x01", "ü" * 5, "日本語のテキスト", "a" * 10000])
def test_odd_text_does_not_crash(text):
    list(analyze(text))
    list(analyze_spans(text))


@pytest.mark.parametrize("pieces", [
    ["When you run it, you get:", "   Access is denied.", "Then it stops."],
    ["It ends with a stop word the", "of the next piece counts on", "from there"],
    ["client.lkp is read", "   version 3.51 and the FILE_FLAG_DELETE_ON_CLOSE flag"],
    ["", "   ", "only the third piece has words"],
])
def test_pieces_are_numbered_as_the_whole_text(pieces):
    from kbsearch.analysis import analyze_pieces

    parts = analyze_pieces(pieces, 7)
    assert len(parts) == len(pieces)
    assert [t for part in parts for t in part] == analyze_list("\n\n".join(pieces), 7)


@pytest.mark.parametrize("text, expected", [
    ("WINS servers", ["wins", "server"]),   # not "win", which users type for Windows
    ("IIS 4.0", ["iis", "4.0"]),            # not "ii"
    ("NetBIOS names", ["netbios", "name"]),
    ("BIOS settings", ["bios", "set"]),
    ("IFS drivers", ["ifs", "driver"]),     # not the stop word "if"
    ("Windows wins", ["window", "wins"]),   # the name is kept whole whatever its case
])
def test_names_the_stemmer_would_cut_into_another_word_stay_whole(text, expected):
    assert terms(text) == expected
    assert all(stemmed(n) != n for n in UNSTEMMED)  # each one is there for a reason
