"""The ranking model: every weight (:mod:`.config`), the factors
(:mod:`.factors`), the evidence they read (:mod:`.evidence`) and the
stages that apply them (:mod:`.pipeline`). How it works and what each
factor is worth: docs/ranking.md.
"""

from .config import DEFAULT, INDEX_DEFAULT, IndexWeights, RankingConfig
from .factors import FACTORS, QUOTED, SHOWN, WORDS, Applied, Breakdown

__all__ = ["DEFAULT", "FACTORS", "INDEX_DEFAULT", "QUOTED", "SHOWN", "WORDS", "Applied", "Breakdown",
           "IndexWeights", "RankingConfig"]
