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
