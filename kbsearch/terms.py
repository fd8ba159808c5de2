"""The index's term conventions: field names and the terms made of citations.

Written by :mod:`kbsearch.ingest`, read by :mod:`kbsearch.engine` and the
ranking; defined here once so that writer and readers cannot drift apart.
"""

from __future__ import annotations

# Fields a query may name in syntax (``title:foo``); the first is the default.
TEXT_FIELDS = ("body", "title", "symptoms", "message", "product")
KEYWORD_FIELDS = ("version", "keyword", "tag", "issue", "cites", "id", "date")
# The fields that hold an article's words (what a syntax query's terms are
# highlighted from).
WORD_FIELDS = ("body", "title", "symptoms", "message")

# The field of each article's distinct surface words (lower-cased, as
# written): the spelling vocabulary (:mod:`kbsearch.spelling`).
WORDS_FIELD = "words"

# The field of each article's abbreviation definitions (:mod:`kbsearch.abbreviations`):
# ``<short>=<long>`` in analysed form, the long form's words separated by
# spaces (``ts=termin servic``). A short form's terms are found by prefix.
ABBREV_FIELD = "abbrev"
ABBREV_SEP = "="

# ``anchor`` terms are ``<word>@<cited id>``: a query word finds the articles
# whose citing articles give them a topic with that word ("For more
# information about <topic>, click ..."), and which citing article said so.
# Two words next to each other in a topic are also indexed as
# ``<word>><word>@<cited id>``, the topic's phrase evidence.
ANCHOR_SEP = "@"
ANCHOR_PAIR = ">"


def anchor_key(*words: str) -> str:
    """The anchor look-up key of one topic word, or of two adjacent ones."""
    return ANCHOR_PAIR.join(words)


def anchor_term(key: str, cited_id: str) -> str:
    """The ``anchor`` term for look-up ``key`` (:func:`anchor_key`) given to
    the article ``cited_id``."""
    return f"{key}{ANCHOR_SEP}{cited_id.lower()}"


def anchor_prefix(key: str) -> str:
    """What every ``anchor`` term of ``key`` starts with, whichever article it names."""
    return key + ANCHOR_SEP


def split_anchor(term: str) -> tuple[str, str]:
    """``(key, cited id)`` of an ``anchor`` term; the id upper-cased, as
    the ``id`` field holds it."""
    key, _, cited = term.rpartition(ANCHOR_SEP)
    return key, cited.upper()


def cites_term(article_id: str) -> str:
    """How the ``cites`` field names the article ``article_id``."""
    return article_id.lower()
