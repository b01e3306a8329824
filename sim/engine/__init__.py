"""Stage 3, engine: one Monte Carlo run.

Takes the compiled model and run indexes; samples the runs' firms and applications from
named random streams (:mod:`~sim.engine.population`: many runs in one numpy pass, each
run's draws its own), then decides every application of a run against the pools and gives
the run's :class:`~sim.engine.decisions.Decisions`, each application's
:mod:`~sim.engine.outcomes` code among them.  Two engines decide: the SimPy engine
(:mod:`~sim.engine.simpy`, the reference semantics, pools deciding one application at a
time in :mod:`~sim.engine.ledger`) and the fast engine (:mod:`~sim.engine.fast`, whole
pool-years over arrays in :mod:`~sim.engine.vectorised`), which must agree to the yuan.
Both dispatch each pool's rationing rule through one table, :mod:`~sim.engine.rationing`;
:mod:`~sim.engine.choice` picks the engine.  Then, the same for both engines, when each
grant is paid (:mod:`~sim.engine.payments`).  Imports only from the policy and scenario
stages.
"""
