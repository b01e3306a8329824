"""Rank correlation of a segment's firm attributes: firms that rent much compute also buy much corpus.

Drawn one by one, a firm's attributes are independent, so a firm with a huge compute bill
is as likely as any to buy no corpus; real firms are not like that, and pools that pay on
both fill together.  A segment may say how its attributes go together, as rank (Spearman)
correlations, either as pairs::

    correlation: {compute_rental ~ corpus_purchases: 0.6, compute_rental ~ model_purchases: 0.4}

or as a matrix over the attributes it names (symmetric, 1 on the diagonal)::

    correlation:
      attributes: [compute_rental, corpus_purchases]
      matrix: [[1, 0.6], [0.6, 1]]

Pairs not given are uncorrelated.  The sampler draws them with a Gaussian copula: each
attribute's uniform number becomes a normal score, the scores are mixed by the Cholesky
factor of the normal correlation matrix and turned back into uniforms, so every
attribute keeps its distribution exactly and each firm is drawn on its own (no batch of
firms is reordered, unlike Iman–Conover), which keeps runs independent of the batch.  A
rank correlation ``r`` needs a normal correlation ``2 sin(π r / 6)`` (Pearson's formula for
the normal distribution); discrete or clipped attributes have ties, which lower the rank
correlation achieved a little.

A matrix that is not a correlation matrix (a value outside −1…1, a pair that contradicts
two others: a ~ b 0.9, a ~ c 0.9 and b ~ c −0.9 cannot all hold) is refused, naming the
pair and the range its value could take.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from sim.policy.attributes import VOCABULARY


class Correlation(BaseModel):
    """Rank correlations between a segment's attributes, as pairs ``(a, b, r)`` (read from either form)."""

    model_config = ConfigDict(frozen=True)

    pairs: tuple[tuple[str, str, float], ...] = ()
    where: tuple[tuple[str, str, str], ...] = ()  # (a, b, field of the file where that pair is written)

    @model_validator(mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        if isinstance(value, dict) and set(value) >= {"pairs"}:
            return value
        if isinstance(value, dict) and ("matrix" in value or "attributes" in value):
            return _from_matrix(value)
        if isinstance(value, dict):
            return _from_pairs(value)
        raise ValueError("correlation is pairs ({a ~ b: 0.6}) or {attributes: [a, b], matrix: [[1, 0.6], [0.6, 1]]}")

    @property
    def names(self) -> list[str]:
        """The attributes it correlates, in the order first named."""
        out: list[str] = []
        for a, b, _ in self.pairs:
            for name in (a, b):
                if name not in out:
                    out.append(name)
        return out

    def rank_matrix(self) -> np.ndarray:
        """The rank correlation matrix over :attr:`names` (pairs not given are 0)."""
        names = self.names
        index = {n: i for i, n in enumerate(names)}
        m = np.eye(len(names))
        for a, b, r in self.pairs:
            m[index[a], index[b]] = m[index[b], index[a]] = r
        return m

    def normal_matrix(self) -> np.ndarray:
        """The correlation of the normal scores that gives those rank correlations: 2 sin(π r / 6)."""
        m = 2 * np.sin(np.pi * self.rank_matrix() / 6)
        np.fill_diagonal(m, 1.0)
        return m

    def cholesky(self) -> np.ndarray:
        """Lower-triangular L with L Lᵀ = the normal matrix (checked positive semi-definite at load)."""
        m = self.normal_matrix()
        values, vectors = np.linalg.eigh(m)
        if values.min() < 1e-10:  # semi-definite (a perfect correlation): nudge to definite for Cholesky
            m = vectors @ np.diag(np.maximum(values, 1e-10)) @ vectors.T
            d = np.sqrt(np.diag(m))
            m = m / np.outer(d, d)
        return np.linalg.cholesky(m)

    def check(self, attributes: dict) -> None:
        """Refuse attributes the segment does not draw, categories, and a matrix no firms can have."""
        for a, b, r in self.pairs:
            for name in (a, b):
                if name not in attributes:
                    raise ValueError(f"@{self._field(a, b)}: {name} is not an attribute of this segment; give it under "
                                     "attributes first")
                if VOCABULARY[name].kind == "category":
                    raise ValueError(f"@{self._field(a, b)}: {name} is a category, whose values have no order to correlate")
            if a == b:
                raise ValueError(f"@{self._field(a, b)}: an attribute is correlated with itself by definition; name two")
            if not -1 <= r <= 1:
                raise ValueError(f"@{self._field(a, b)}: a correlation lies between -1 and 1; got {r:g}")
        bad = impossible_pair(self.names, self.normal_matrix(), self.rank_matrix())
        if bad is not None:
            a, b, message = bad
            raise ValueError(f"@{self._field(a, b)}: {message}")

    def _field(self, a: str, b: str) -> str:
        for x, y, field in self.where:
            if {x, y} == {a, b}:
                return f"correlation.{field}"
        return "correlation"


def _from_pairs(value: dict) -> dict:
    pairs, where = [], []
    for key, r in value.items():
        names = [n.strip() for n in str(key).split("~")]
        if len(names) != 2 or not all(names):
            raise ValueError(f"@{key}: a pair is written 'a ~ b: r', e.g. 'compute_rental ~ corpus_purchases: 0.6'")
        for name in names:
            if name not in VOCABULARY:
                raise ValueError(f"@{key}: unknown firm attribute {name!r}; see sim/policy/attributes.py")
        try:
            number = float(r)
        except (TypeError, ValueError):
            raise ValueError(f"@{key}: a correlation is a number between -1 and 1; got {r!r}") from None
        pairs.append((names[0], names[1], number))
        where.append((names[0], names[1], str(key)))
    seen: set[frozenset] = set()
    for a, b, _ in pairs:
        if frozenset((a, b)) in seen:
            raise ValueError(f"@{a} ~ {b}: the pair is given twice")
        seen.add(frozenset((a, b)))
    return {"pairs": tuple(pairs), "where": tuple(where)}


def _from_matrix(value: dict) -> dict:
    names, matrix = value.get("attributes"), value.get("matrix")
    extra = set(value) - {"attributes", "matrix"}
    if extra:
        raise ValueError(f"@{sorted(extra)[0]}: unknown field; a matrix is given as attributes: [...] and matrix: [[...]]")
    if not isinstance(names, list) or len(names) < 2:
        raise ValueError("@attributes: name the attributes the matrix's rows and columns stand for (two or more)")
    for name in names:
        if str(name) not in VOCABULARY:
            raise ValueError(f"@attributes: unknown firm attribute {name!r}; see sim/policy/attributes.py")
    if len(set(names)) != len(names):
        raise ValueError("@attributes: an attribute is named twice")
    n = len(names)
    if not isinstance(matrix, list) or len(matrix) != n or any(not isinstance(row, list) or len(row) != n for row in matrix):
        raise ValueError(f"@matrix: must be {n} rows of {n} numbers, one per attribute named")
    try:
        m = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("@matrix: every entry must be a number between -1 and 1") from None
    for i in range(n):
        if m[i, i] != 1:
            raise ValueError(f"@matrix.{i}.{i}: the diagonal of a correlation matrix is 1 ({names[i]} with itself); got {m[i, i]:g}")
    for i, j in itertools.combinations(range(n), 2):
        if m[i, j] != m[j, i]:
            raise ValueError(f"@matrix.{i}.{j}: a correlation matrix is symmetric: {names[i]} ~ {names[j]} is {m[i, j]:g} "
                             f"but {names[j]} ~ {names[i]} is {m[j, i]:g}")
    pairs = tuple((str(names[i]), str(names[j]), float(m[i, j])) for i, j in itertools.combinations(range(n), 2) if m[i, j] != 0)
    where = tuple((str(names[i]), str(names[j]), f"matrix.{i}.{j}") for i, j in itertools.combinations(range(n), 2))
    if not pairs:
        raise ValueError("@matrix: every correlation is 0; leave correlation out")
    return {"pairs": pairs, "where": where}


def impossible_pair(names: list[str], normal: np.ndarray, rank: np.ndarray) -> tuple[str, str, str] | None:
    """A pair whose correlation no firms can have together with the others, and why; None if the matrix is fine.

    The normal matrix must be positive semi-definite.  Three attributes already bound each
    other: given a ~ b and a ~ c, b ~ c must lie in ``ρab ρac ± sqrt((1 − ρab²)(1 − ρac²))`` (in
    normal correlations), which is the range named.  When only four or more together
    conflict, the pair that weighs most in the direction of the negative eigenvalue is named.
    """
    if np.linalg.eigvalsh(normal).min() >= -1e-10:
        return None
    worst = None
    for i, j, k in itertools.permutations(range(len(names)), 3):
        if j > k:
            continue
        a, b = normal[i, j], normal[i, k]
        spread = math.sqrt(max((1 - a * a) * (1 - b * b), 0.0))
        lo, hi = a * b - spread, a * b + spread
        value = normal[j, k]
        miss = max(lo - value, value - hi, 0.0)
        if miss > 1e-9 and (worst is None or miss > worst[0]):
            worst = (miss, j, k, i, lo, hi)
    if worst is not None:
        _, j, k, i, lo, hi = worst
        rlo, rhi = (6 / math.pi * math.asin(v / 2) for v in (lo, hi))
        return (names[j], names[k], f"{names[j]} ~ {names[k]} = {rank[j, k]:g} cannot hold together with "
                f"{names[i]} ~ {names[j]} = {rank[i, j]:g} and {names[i]} ~ {names[k]} = {rank[i, k]:g}: "
                f"it must lie between {rlo:.2f} and {rhi:.2f}; the matrix is not a correlation matrix")
    values, vectors = np.linalg.eigh(normal)
    v = vectors[:, 0]
    weight = np.abs(np.outer(v, v) * normal)
    np.fill_diagonal(weight, 0)
    j, k = np.unravel_index(np.argmax(weight), weight.shape)
    j, k = min(j, k), max(j, k)
    return (names[j], names[k], f"the correlations together are not a correlation matrix (an eigenvalue is "
            f"{values[0]:.3f}); {names[j]} ~ {names[k]} = {rank[j, k]:g} weighs most in the conflict: move it toward 0")
