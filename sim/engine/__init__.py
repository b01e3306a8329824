"""Stage 3, engine: one Monte Carlo run.

Takes the compiled model and run indexes; samples the runs' firms and applications from
named random streams (many runs in one numpy pass, each run's draws its own), then decides
every application of a run against the pools: the SimPy engine
(the reference semantics) or the vectorised fast engine, which must agree to the yuan.
Gives the run's :class:`Decisions`; then, the same for both engines, when each grant is
paid (:mod:`sim.engine.payments`).  Imports only from the policy and scenario stages.
"""
