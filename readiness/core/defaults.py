"""The defaults of an assessment, each defined here once and imported wherever it is used.

The command line, the notebooks' parameters, the pipeline and the core all take these
values from this module; the report templates read the values actually used from the
results document (``method``), never from here.
"""

from __future__ import annotations

__all__ = [
    "AGREEMENT_SPLIT",
    "BARRIER_LINE",
    "CI_LEVEL",
    "DONT_KNOW_LINE",
    "MAX_ROWS",
    "MAX_UNPACKED_MB",
    "MIN_K",
    "N_BOOT",
    "PORTFOLIO_N_BOOT",
    "ROLE_MIN",
    "SEED",
    "K",
]

#: Smallest peer group whose statistics are shown (``--k``).
K = 5
#: ``--k`` may not go below this: a smaller group could expose a single peer.
MIN_K = 3
#: Fewest respondents in a role for that role's scores to be shown (``--role-min``).
ROLE_MIN = 3
#: Bootstrap resamples for the confidence intervals of one assessment (``--bootstrap``).
N_BOOT = 1000
#: Bootstrap resamples per organization when a portfolio is assessed on the fly.
PORTFOLIO_N_BOOT = 200
#: Seed of the bootstrap: the same input and seed give the same output.
SEED = 0
#: Coverage of every bootstrap interval: on a score, and on the change between two waves
#: (a change is real when its interval excludes zero, ``docs/reassessment.md``).
CI_LEVEL = 0.95
#: A facet scoring below this line is a candidate barrier (``docs/scoring.md``).
BARRIER_LINE = 50.0
#: Agreement r_wg below this: opinions on a facet are split, discuss before acting (``docs/scoring.md``).
AGREEMENT_SPLIT = 0.5
#: A facet where more than this share of the questions asked were answered "don't know"
#: is pointed out: the people asked cannot see the practice (``docs/scoring.md``).
DONT_KNOW_LINE = 1 / 3
#: Most data rows (respondents, organizations) an input file may hold (``--max-rows``);
#: checked before the file is parsed. A firm's overnight batch of a few thousand sites
#: with a hundred respondents each stays well below it.
MAX_ROWS = 1_000_000
#: Most megabytes a workbook (XLSX) or Parquet file may unpack to (``--max-unpacked-mb``);
#: checked before anything is unpacked (a sheet of a million answers unpacks to about 35 MB).
MAX_UNPACKED_MB = 200.0
