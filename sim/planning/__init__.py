"""Stage 6, planning: questions answered by running scenarios again.

Sizing (the budget per pool and year at a target risk, confirmed by a second run) and
sweeps (a grid of what-ifs with common random numbers).  Uses every earlier stage.
"""
