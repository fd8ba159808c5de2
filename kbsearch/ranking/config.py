"""Every weight of the ranking model, in one frozen object.

:class:`RankingConfig` holds the query-time weights, :class:`IndexWeights`
the index-time ones (changing those needs ``kbsearch index --rebuild``).
Experiments and ablations pass a modified copy
(``dataclasses.replace(DEFAULT, phrase=0.0)``); nothing patches globals.
What each factor rewards, its formula and what it is worth: docs/ranking.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RankingConfig:
    """Query-time weights; a weight of 0 switches its factor off."""

    # First pass: BM25 over the ``body`` composite, for every document.
    k1: float = 1.2                      # BM25 term-frequency saturation
    b: float = 0.75                      # BM25 length normalisation
    coordination: float = 0.3            # lift for matching more of the query's distinct words
    part_share: float = 1.0              # a typed word split into n parts (nt4: nt 4.0) counts each 1/n**this
    exact: float = 3.0                   # lift by the idf share of the query's rare exact tokens (codes, file names) present
    exact_max_df: int = 100              # ... a token counts as rare when at most this many articles have it
    title: float = 0.3                   # lift by the idf-weighted share of the query in the title, squared
    title_cover: float = 0.5             # lift by the share of the title's words that are query words, squared
    abbreviations: float = 0.8           # a long form the archive defines for a query word ("vfp": "visual foxpro") counts this much
    compounds: float = 1.0               # the one word the archive writes for two typed apart ("mind maze": MindMaze) counts this much
    anchor_weight: float = 4.0           # a citing article's topic naming a query word counts as this many occurrences
    topic_as_title: float = 1.0          # ... and counts this much towards the title share, as if the title had it
    prune: bool = True                   # score only the documents that can reach the top (exact: ranking.prune)
    # Rerank: the best documents of the first pass, re-scored on evidence.
    rerank_depth: int = 100              # documents re-scored after the first pass
    citations: float = 0.05              # citation prior: 1 + w·ln(1 + articles citing it)
    phrase: float = 1.0                  # lift by the share of adjacent query-word pairs found at their distance
    proximity: float = 0.3               # lift by the share of adjacent pairs found near each other
    proximity_window: int = 10           # positions within which a pair counts as near
    authority: float = 0.2               # topic authority: 1 + w·(1 - ramp)·ln(1 + best matches citing it)
    authority_depth: int = 50            # the query's best matches whose citations count for the authority
    # Reading: is the query a pasted message an article shows word for word?
    quote_min_pairs: int = 2             # typed adjacent pairs a quoted message needs (0: never read as one)
    quote_field: str = "message"         # where a quote counts: "message" (what SYMPTOMS sets off) or "symptoms"
    quote_scope: int = 40                # a quote counts in the documents that could reach this rank
    symptoms_quote: float = 0.2          # lift for an article that shows the quoted message word for word
    message_cover: float = 0.4           # lift by the share of the article's message the query says
    # Head: the best ``lead_depth`` documents, whatever the number asked for.
    lead_depth: int = 10                 # documents the lead cover and subject prior re-order
    lead_cover: float = 0.75             # lift by the idf share of the article's SYMPTOMS the query says
    lead_summary_weight: float = 0.75    # ... where a SUMMARY leads it instead, counted this much
    lead_min_words: int = 3              # a query of up to this many distinct words names a topic (ramp 0)
    lead_full_words: int = 8             # from this many, a query describes a problem (ramp 1)
    subject: float = 0.15                # lift for a SUMMARY-led article, by (1 - ramp)


DEFAULT = RankingConfig()


def _section_weights() -> dict[str, float]:
    return {"title": 4.0, "symptoms": 3.0, "symptom": 3.0, "cause": 1.5, "summary": 1.5,
            "query words": 2.0, "applies to": 0.5}


@dataclass(frozen=True)
class IndexWeights:
    """Index-time weights of the ``body`` composite (BM25F by construction:
    a term's posting weight is the weighted sum of its occurrences)."""

    sections: dict[str, float] = field(default_factory=_section_weights)  # by section name
    default: float = 1.0                 # any other section, and the preamble
    message: float = 4.0                 # the messages SYMPTOMS sets off from its prose, as much as the title
    reference: float = 0.5               # paragraphs that point to other articles describe those, not this one
    reference_stride: int = 16           # ... their words spaced this far apart: no phrase evidence
    section_gap: int = 100               # positions between sections, so no phrase spans two

    def of(self, section: str) -> float:
        """The weight of the section named ``section``."""
        return self.sections.get(section, self.default)


INDEX_DEFAULT = IndexWeights()


@dataclass(frozen=True)
class SimilarConfig:
    """The weights of "more like this" (:mod:`kbsearch.related`): where an
    article's words count towards its query, and how many terms it keeps."""

    title: float = 2.0                   # a title word counts as this many occurrences
    lead: float = 1.0                    # a word of SYMPTOMS (its messages too), else of SUMMARY, else the first section
    message: float = 2.0                 # a word of a message SYMPTOMS shows, again
    query_words: float = 1.0             # a word of "Additional query words"
    terms: int = 30                      # the most distinctive terms kept (tf x idf)
    message_field: float = 2.0           # BM25 over the ``message`` field for the words of its messages, × this
    rerank_depth: int = 50               # the best articles re-scored on phrase evidence
    phrase: float = 1.0                  # lift by the share of its title's and messages' word pairs found together
    phrase_pairs: int = 40               # the most distinctive pairs (idf sum) looked for


DEFAULT_SIMILAR = SimilarConfig()
