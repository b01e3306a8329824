"""Outcomes: what became of each application, one small integer code each.

An application is paid in full or in part, or refused for a reason (the pool was empty, a
cap shared by programs was used up, the program's count was full, it ranked out); or it
never reached a pool (outside the policy's window, excluded by a stacking rule, a
case-by-case application reported as exposure).  ``SKIPPED`` marks one the firm did not
make after all (a one-time award already paid, years used up).  The codes index
:data:`OUTCOMES`, the names written to the ``awards`` table.
"""

from __future__ import annotations

OUTCOMES = ("full", "partial", "pool_empty", "firm_cap", "count_limit", "ranked_out",
            "out_of_window", "stacked", "exposure")
FULL, PARTIAL, POOL_EMPTY, FIRM_CAP, COUNT_LIMIT, RANKED_OUT, OUT_OF_WINDOW, STACKED, EXPOSURE = range(9)
SKIPPED = -1  # the firm did not apply after all (one-time award already paid, years used up)
DECIDED = (FULL, PARTIAL, POOL_EMPTY, FIRM_CAP, COUNT_LIMIT, RANKED_OUT)
CANDIDATE = 0  # sampled, not yet decided by an engine
