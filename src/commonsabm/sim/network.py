"""The residents' social network: neighbourhood-clustered ties in a sparse matrix."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from commonsabm.params.schema import NetworkConfig


def neighbourhoods(n: int, config: NetworkConfig) -> np.ndarray:
    """Residents are laid out in contiguous neighbourhoods of about the configured size."""
    count = max(1, round(n / config.neighbourhood_size))
    return (np.arange(n) * count // n).astype(np.int32)


def build_ties(rng: np.random.Generator, nbhd: np.ndarray, config: NetworkConfig) -> sparse.csr_matrix:
    """Each resident draws 5-15 contacts, most inside their own neighbourhood; ties are mutual.

    Drawing partners by offset inside the (contiguous) neighbourhood block keeps this
    vectorised: one draw per tie rather than a Python loop over residents.
    """
    n = len(nbhd)
    if n < 2 or config.max_ties == 0:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    half = rng.integers(config.min_ties, config.max_ties + 1, size=n) // 2 + 1
    source = np.repeat(np.arange(n), half)
    counts = np.bincount(nbhd)
    block_start = np.concatenate(([0], np.cumsum(counts)[:-1]))[nbhd[source]]
    block_size = counts[nbhd[source]]
    local = rng.random(len(source)) < config.local_share
    offset = rng.integers(1, np.maximum(block_size, 2), size=len(source))
    within = block_start + (source - block_start + offset) % np.maximum(block_size, 1)
    anywhere = rng.integers(0, n, size=len(source))
    target = np.where(local, within, anywhere)
    keep = target != source
    rows = np.concatenate((source[keep], target[keep]))
    cols = np.concatenate((target[keep], source[keep]))
    ties = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    ties.data[:] = 1.0  # duplicates summed above; a tie is a tie
    return ties


def in_reach(nbhd_count: int, reach: int) -> np.ndarray:
    """Boolean matrix: which neighbourhoods are within reach of which (a ring of places)."""
    idx = np.arange(nbhd_count)
    gap = np.abs(idx[:, None] - idx[None, :])
    gap = np.minimum(gap, nbhd_count - gap)
    return gap <= reach


class ActivePeers:
    """How many of each resident's ties are active this month: ``ties @ active``, kept up to date.

    Only a few residents start or stop volunteering in a month, so the count is moved by the
    ties of those who changed rather than recomputed over every tie; whole numbers in float32,
    exact, so it equals the full product to the last bit (the pinned output checks it).
    Ties are mutual (``build_ties``), so a resident's row lists the residents whose counts
    they enter.
    """

    # above this share of residents changing, the full product is cheaper than the gather
    RECOUNT_SHARE = 0.25

    def __init__(self, ties: sparse.csr_matrix):
        self.ties = ties
        self.basis = np.zeros(ties.shape[0], dtype=bool)
        self.count = np.zeros(ties.shape[0], dtype=np.float32)

    def of(self, active: np.ndarray) -> np.ndarray:
        """The count for ``active`` (boolean, one per resident); the returned array is the
        counter's own and must not be written to."""
        changed = np.flatnonzero(active != self.basis)
        if len(changed) > self.RECOUNT_SHARE * len(active):
            self.count = self.ties @ active.astype(np.float32)
        elif len(changed):
            # the changed residents' rows, transposed, times +1 (started) or -1 (stopped): scipy's
            # compiled slice and product, about twice as fast as gathering the ties' positions and
            # adding them with np.add.at (whole numbers in float32: the same counts to the bit)
            signs = np.where(active[changed], np.float32(1.0), np.float32(-1.0))
            self.count += self.ties[changed].T @ signs
        self.basis = active.copy()
        return self.count
