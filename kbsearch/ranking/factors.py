"""The ranking's factors: each a named component that says when it applies
and computes its value, and the breakdown a scored hit carries.

A score is a base (the BM25 sum of the first pass) times the factors that
apply to how the query was read (:data:`QUOTED`, :data:`SHOWN`,
:data:`WORDS`). The pipeline (:mod:`.pipeline`) calls these components and
records each value it multiplies in a :class:`Breakdown`; ``--explain``
renders that record, so what it shows is what the score was made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .config import RankingConfig

# How free text was read: as a quoted message an article shows word for
# word (ranked on the quote, without the title factors), as a message or
# label one of the best articles shows whole (not a subject: no subject
# prior or topic authority), or as plain words.
QUOTED, SHOWN, WORDS = "quoted message", "shown whole", "words"
READINGS = (QUOTED, SHOWN, WORDS)
# Hits no factor applies to: a query in Whoosh syntax (Whoosh's BM25F score)
# and an article the query names (shown first).
SYNTAX, NAMED = "syntax", "named article"

# The stages a factor is applied in, in order.
FIRST_PASS, RERANK, QUOTE, HEAD = "first pass", "rerank", "quote", "head"


class Factor:
    """One multiplier of the score. ``readings``: the readings it applies
    to; ``not_for``: what to say where a reading leaves it out (empty: it is
    simply not shown)."""

    name: str = ""
    stage: str = ""
    config: str = ""                      # the RankingConfig field that weighs it
    readings: tuple[str, ...] = READINGS
    not_for: dict[str, str] = {}

    def applies(self, reading: str) -> bool:
        return reading in self.readings

    def note(self, reading: str) -> str:
        """Why the factor is left out for ``reading`` ("" if it applies or goes unsaid)."""
        return "" if self.applies(reading) else self.not_for.get(reading, "")


class Coordination(Factor):
    """Documents that match more of the query's distinct words."""

    name, stage, config = "coordination", FIRST_PASS, "coordination"

    def value(self, cfg: RankingConfig, matched: np.ndarray, n_terms: int) -> np.ndarray:
        return 1.0 - cfg.coordination + cfg.coordination * matched / n_terms


class Exact(Factor):
    """Articles that have the rare exact tokens the query has (an error
    code, a file name, an identifier: what a pasted message is recognised
    by), by their idf share; what few articles say outweighs many common
    words."""

    name, stage, config = "exact", FIRST_PASS, "exact"

    def value(self, cfg: RankingConfig, share: np.ndarray) -> np.ndarray:
        return 1.0 + cfg.exact * share


class Title(Factor):
    """A title that says most of the query: its idf-weighted share, squared."""

    name, stage, config = "title", FIRST_PASS, "title"
    readings = (SHOWN, WORDS)
    not_for = {QUOTED: "quoted message: ranked on the quote"}

    def value(self, cfg: RankingConfig, share: np.ndarray) -> np.ndarray:
        return 1.0 + cfg.title * share ** 2


class TitleCover(Factor):
    """A title that is little more than the query: the share of its words
    that are query words, squared."""

    name, stage, config = "title_cover", FIRST_PASS, "title_cover"
    readings = (SHOWN, WORDS)

    def value(self, cfg: RankingConfig, cover: np.ndarray) -> np.ndarray:
        return 1.0 + cfg.title_cover * cover ** 2


class Citations(Factor):
    """The citation prior: articles many others cite are the canonical ones."""

    name, stage, config = "citations", RERANK, "citations"

    def value(self, cfg: RankingConfig, cited: np.ndarray) -> np.ndarray:
        return 1.0 + cfg.citations * np.log1p(cited)


class Authority(Factor):
    """Topic authority (HITS within the results): for a query of few words,
    the articles that several of its own best matches cite."""

    name, stage, config = "authority", RERANK, "authority"
    readings = (WORDS,)
    not_for = {SHOWN: "not for a query an article shows whole"}

    def weight(self, cfg: RankingConfig, ramp: float) -> float:
        return cfg.authority * (1.0 - ramp)

    def value(self, weight: float, nearby: np.ndarray) -> np.ndarray:
        return 1.0 + weight * np.log1p(nearby)


class Phrase(Factor):
    """Adjacent query words found at their distance in the document (or side
    by side in a topic a citing article gives it)."""

    name, stage, config = "phrase", RERANK, "phrase"

    def value(self, cfg: RankingConfig, share: float) -> float:
        return 1.0 + cfg.phrase * share


class Proximity(Factor):
    """Adjacent query words found near each other, in either order."""

    name, stage, config = "proximity", RERANK, "proximity"

    def value(self, cfg: RankingConfig, share: float) -> float:
        return 1.0 + cfg.proximity * share


class SymptomsQuote(Factor):
    """A quoted message an article shows word for word, in one message."""

    name, stage, config = "symptoms_quote", QUOTE, "symptoms_quote"
    readings = (QUOTED,)

    def value(self, cfg: RankingConfig, word_for_word: bool) -> float:
        return 1.0 + cfg.symptoms_quote if word_for_word else 1.0


class MessageCover(Factor):
    """A quoted message that is most of the article's own message."""

    name, stage, config = "message_cover", QUOTE, "message_cover"
    readings = (QUOTED,)

    def value(self, cfg: RankingConfig, cover: float) -> float:
        return 1.0 + cfg.message_cover * cover


class LeadCover(Factor):
    """A description that says most of what the article's SYMPTOMS says,
    the more so the longer the query (``ramp``)."""

    name, stage, config = "lead_cover", HEAD, "lead_cover"
    readings = (SHOWN, WORDS)

    def value(self, cfg: RankingConfig, ramp: float, cover: float) -> float:
        return 1.0 + cfg.lead_cover * ramp * cover if ramp > 0.0 else 1.0


class Subject(Factor):
    """A query of few words names a subject: SUMMARY-led articles explain one."""

    name, stage, config = "subject", HEAD, "subject"
    readings = (WORDS,)
    not_for = {SHOWN: "an article shows the query whole: not a subject"}

    def value(self, cfg: RankingConfig, ramp: float, summary_led: bool) -> float:
        return 1.0 + cfg.subject * (1.0 - ramp) if summary_led else 1.0


COORDINATION, EXACT, TITLE, TITLE_COVER = Coordination(), Exact(), Title(), TitleCover()
CITATIONS, AUTHORITY, PHRASE, PROXIMITY = Citations(), Authority(), Phrase(), Proximity()
SYMPTOMS_QUOTE, MESSAGE_COVER = SymptomsQuote(), MessageCover()
LEAD_COVER, SUBJECT = LeadCover(), Subject()
# In the order the pipeline applies them (and --explain lists them).
FACTORS: tuple[Factor, ...] = (COORDINATION, EXACT, TITLE, TITLE_COVER, SYMPTOMS_QUOTE, MESSAGE_COVER, LEAD_COVER,
                               SUBJECT, PHRASE, PROXIMITY, CITATIONS, AUTHORITY)


def describes(cfg: RankingConfig, n_words: int) -> float:
    """How much a query of ``n_words`` distinct words is a description
    rather than a topic (the ramp): 0 up to ``cfg.lead_min_words``, 1 from
    ``cfg.lead_full_words``."""
    ramp = (n_words - cfg.lead_min_words) / max(1, cfg.lead_full_words - cfg.lead_min_words)
    return min(1.0, max(0.0, ramp))


@dataclass
class Applied:
    """One factor as the scorer recorded it for one hit: its value and
    whether it was multiplied in (``note``: why not, or what it counted)."""

    name: str
    value: float = 1.0
    applied: bool = True
    note: str = ""


@dataclass
class Breakdown:
    """What one hit's score is made of: ``base`` (``"bm25"``: the first
    pass's BM25 sum; ``"bm25f"``: Whoosh's score of a query in syntax;
    ``"named"``: an article the query names, shown first) times every
    applied factor. ``counts``: what the factors counted (words matched,
    citing articles, citing best matches)."""

    reading: str
    base: str
    base_score: float
    factors: list[Applied] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        """The base times the applied factors: the hit's score."""
        return self.base_score * math.prod(f.value for f in self.factors if f.applied)

    def factor(self, name: str) -> Applied | None:
        return next((f for f in self.factors if f.name == name), None)

    def to_dict(self) -> dict:
        """The JSON form: every factor's value (1 where it is not applied),
        ``applied`` and ``notes`` to tell which counted and why not, and the
        counts."""
        factors: dict = {"matched": self.counts.get("matched", "")} if "matched" in self.counts else {}
        for f in self.factors:
            factors[f.name] = round(f.value, 3) if f.applied else 1.0
        factors.update({k: v for k, v in self.counts.items() if k != "matched"})
        factors["quoted"] = self.reading == QUOTED
        factors["shown"] = self.reading == SHOWN
        return {"reading": self.reading, "base": {self.base: round(self.base_score, 4)}, "factors": factors,
                "applied": [f.name for f in self.factors if f.applied],
                "notes": {f.name: f.note for f in self.factors if f.note}}
