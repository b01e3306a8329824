"""A posterior: the parameter draws a calibration kept, which each run of a scenario samples one row of.

`sim calibrate` turns a scenario's uncertain numbers (the prior) into draws that reproduce
what was observed last year (the posterior), kept in ``calibration.parquet``: one row per
accepted prior run, its weight, and the value of each parameter in that run.  Parameters
that the observations tie together (more firms and a lower take-up give the same count of
applications) are correlated in those rows, so a calibrated scenario must draw them
**jointly**: a scenario-level ::

    posterior: {file: calibration.parquet, why: "calibrated to observed/binjiang-2025.yaml"}

makes each run pick one row (with probability its weight, by the run's own stream
``posterior``, so the choice depends only on seed and run) and take every value of that
row in place of the prior's draw.  Uncertain numbers the file does not name are drawn from
their prior as before; a common factor named in the file takes the row's normal score, so
numbers loading on it move with the calibrated ones.  Each named parameter's marginal is
the weighted values of its column (a ``choice``), which is what `sim sensitivity` holds at
its 10th and 90th percentile.

This module reads and checks the file; :mod:`sim.engine.parameters` draws from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NOT_PARAMETERS = ("run", "weight", "distance")  # columns of calibration.parquet that are not parameters


@dataclass(frozen=True)
class Draws:
    """The rows of a posterior file: one value of each named parameter per row, and the row's weight."""

    file: str  # as the scenario names it
    names: tuple[str, ...]
    values: np.ndarray  # float64, rows × names, in the parameters' units
    weights: np.ndarray  # float64, summing to 1
    sha256: str

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def marginal(self, name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The distinct values of one parameter, ascending, with their total weights."""
        values, where = np.unique(self.column(name), return_inverse=True)
        weights = np.bincount(where.ravel(), weights=self.weights, minlength=len(values))
        return tuple(values.tolist()), tuple((weights / weights.sum()).tolist())

    def rows(self, u: np.ndarray) -> np.ndarray:
        """The row each uniform number picks, with probability its weight (inverse CDF)."""
        cumulative = np.cumsum(self.weights)
        return np.minimum(np.searchsorted(cumulative / cumulative[-1], u, side="right"), len(self.weights) - 1)

    def without(self, names: set[str]) -> "Draws":
        """The same rows with some parameters left out (those a variant holds fixed)."""
        keep = [i for i, n in enumerate(self.names) if n not in names]
        return Draws(self.file, tuple(self.names[i] for i in keep), self.values[:, keep], self.weights, self.sha256)


def read_draws(path: Path, file: str) -> Draws:
    """Read a posterior file (Parquet: columns ``weight`` and one per parameter).

    Raises ValueError with what is wrong (the caller names the scenario's line).
    """
    import polars as pl

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{file}: no such file (a path relative to the scenario's folder)") from None
    except OSError as exc:
        raise ValueError(f"{file}: cannot be read: {exc.strerror or exc}") from None
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem, said once
        raise ValueError(f"{file}: is not a Parquet file of parameter draws ({type(exc).__name__})") from None
    if "weight" not in frame.columns:
        raise ValueError(f"{file}: has no 'weight' column; give the calibration.parquet `sim calibrate` wrote")
    names = tuple(c for c in frame.columns if c not in NOT_PARAMETERS)
    if not names or frame.height == 0:
        raise ValueError(f"{file}: holds no parameter draws")
    try:
        values = frame.select(names).cast(pl.Float64).to_numpy()
        weights = frame["weight"].cast(pl.Float64).to_numpy()
    except Exception:  # noqa: BLE001
        raise ValueError(f"{file}: every column but run and distance must be numbers") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{file}: holds missing or infinite values")
    if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
        raise ValueError(f"{file}: weights must be 0 or more with a positive total")
    return Draws(file, names, np.ascontiguousarray(values), weights / weights.sum(), hashlib.sha256(raw).hexdigest())
