"""Stage 3, engine: one Monte Carlo run.

Takes the compiled model and a run index; samples the run's firms and applications from
named random streams, then decides every application against the pools: the SimPy engine
(the reference semantics) or the vectorised fast engine, which must agree to the yuan.
Gives the run's :class:`Decisions`.  Imports only from the policy and scenario stages.
"""
