"""Named random streams, one per process, all derived from the run's single seed.

Each stream is keyed by a stable hash of its name, so adding a process (or a policy module)
never shifts the draws of the others: the basis of common random numbers across policy arms.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            key = zlib.crc32(name.encode())
            ss = np.random.SeedSequence(entropy=self.seed, spawn_key=(key,))
            self._streams[name] = np.random.Generator(np.random.PCG64(ss))
        return self._streams[name]
