"""Two words typed apart that the archive writes as one ("mind maze": MindMaze)."""

from dataclasses import replace

import pytest

from kbsearch import KnowledgeBase, compounds
from kbsearch.ranking import DEFAULT
from kbsearch.search import query_terms

from .test_search import _index_articles

ARTICLES = {
    # The archive writes the game's name as one word.
    **{770000 + i: (f"Encarta MindMaze Problem {i}", {"SYMPTOMS": f"MindMaze shows message {i} for a player."})
       for i in range(3)},
    770010: ("Player Message Rejected", {"SYMPTOMS": "A player message is rejected."}),
    # "addressbook" is an identifier a few articles use; the archive's words are "address book".
    **{770100 + i: (f"AddressBook Property {i}", {"SYMPTOMS": f"The AddressBook property {i} is empty."})
       for i in range(3)},
    **{770200 + i: (f"Address Book Entry {i}", {"SYMPTOMS": f"The address book loses entry {i}."})
       for i in range(40)},
}


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    return _index_articles(tmp_path_factory.mktemp("compounds"), ARTICLES)


def _joined(kb: KnowledgeBase, text: str, weight: float = 1.0, quoted=()) -> dict[str, list]:
    out = compounds.join(kb.engine, query_terms(text), text, weight, as_typed=quoted)
    return {q.term: [a for a, _ in q.alternatives] for q in out}


def test_words_typed_apart_find_the_one_word_the_archive_writes(ix):
    with KnowledgeBase.open(ix, ranking=replace(DEFAULT, compounds=0.0)) as kb:
        assert kb.search("mind maze player message")[0].id == "Q770010"
    with KnowledgeBase.open(ix) as kb:
        assert _joined(kb, "mind maze rejects") == {"mind": ["mindmaz"], "maze": ["mindmaz"], "reject": []}
        hits = kb.search("mind maze player message", explain=True)
        assert hits[0].id.startswith("Q77000")
        # One word stands for both typed words: they are side by side.
        assert hits[0].breakdown.factor("phrase").value > 1.0


def test_a_joined_word_rarer_than_the_words_is_not_their_spelling(ix):
    with KnowledgeBase.open(ix) as kb:
        # 3 articles write "addressbook", 43 have "book": not the archive's spelling.
        assert _joined(kb, "address book empty") == {"address": [], "book": [], "empti": []}


def test_quoted_words_parts_of_one_word_and_a_weight_of_zero_join_nothing(ix):
    with KnowledgeBase.open(ix) as kb:
        assert _joined(kb, '"mind maze" player', quoted=[(0, 11)])["mind"] == []
        assert _joined(kb, "mind maze", weight=0.0) == {"mind": [], "maze": []}
        assert _joined(kb, "mind, maze")["mind"] == ["mindmaz"]  # punctuation between is no gap
        assert _joined(kb, "mind the maze")["mind"] == []  # a stop word between is
