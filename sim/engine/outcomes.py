"""Outcomes: what became of each application, one small integer code each.

An application is sampled as a candidate; an engine then pays it in full or in part, or
refuses it for a reason (the pool was empty, a cap shared by programs was used up, the
program's count was full, it ranked out).  Some never reach a pool (outside the policy's
window, excluded by a stacking rule, a case-by-case application reported as exposure),
and ``SKIPPED`` marks one the firm did not make after all (a one-time award already paid,
years used up).  Every code is distinct: a candidate is 0, the value a fresh array holds,
and is never counted as paid, refused or made; an engine that leaves one undecided fails
(:meth:`sim.engine.decisions.Decisions.settled`).  The codes index :data:`OUTCOMES`, the
names written to the ``awards`` table.
"""

from __future__ import annotations

OUTCOMES = ("candidate", "full", "partial", "pool_empty", "firm_cap", "count_limit", "ranked_out",
            "out_of_window", "stacked", "exposure")
CANDIDATE = 0  # sampled, not yet decided by an engine; never written to a table
FULL, PARTIAL, POOL_EMPTY, FIRM_CAP, COUNT_LIMIT, RANKED_OUT, OUT_OF_WINDOW, STACKED, EXPOSURE = range(1, 10)
SKIPPED = -1  # the firm did not apply after all (one-time award already paid, years used up)
DECIDED = (FULL, PARTIAL, POOL_EMPTY, FIRM_CAP, COUNT_LIMIT, RANKED_OUT)
