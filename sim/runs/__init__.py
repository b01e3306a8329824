"""Stage 4, runs: many runs, on any executor, to Parquet.

Takes a scenario and Monte Carlo settings; runs batches of runs on this process, local
worker processes or a Dask cluster; sums each run's decisions into tables and writes them
as Parquet parts with a manifest, resumably.  Gives a run folder and
:func:`~sim.runs.storage.scan` to read it.  Imports only from earlier stages.
"""
