"""A growable table of numpy columns (records created day by day)."""

from __future__ import annotations

import numpy as np


class Table:
    """Columns of equal length that grow by appending batches."""

    def __init__(self, **dtypes: np.dtype | type) -> None:
        self._dtypes = {name: np.dtype(dtype) for name, dtype in dtypes.items()}
        self._data = {name: np.zeros(16, dtype=dtype) for name, dtype in self._dtypes.items()}
        self.size = 0

    def append_one(self, **values: object) -> int:
        """Append a single row; returns its index."""
        self._reserve(self.size + 1)
        for name, value in values.items():
            self._data[name][self.size] = value
        self.size += 1
        return self.size - 1

    def append(self, **columns: np.ndarray | int) -> np.ndarray:
        """Append rows; returns their indices. Missing columns get zeros."""
        lengths = {np.size(v) for v in columns.values() if np.ndim(v) > 0}
        n = lengths.pop() if lengths else 1
        if lengths:
            raise ValueError("columns of different lengths")
        self._reserve(self.size + n)
        for name, values in columns.items():
            self._data[name][self.size : self.size + n] = values
        start, self.size = self.size, self.size + n
        return np.arange(start, self.size)

    def _reserve(self, needed: int) -> None:
        capacity = len(next(iter(self._data.values())))
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name, column in self._data.items():
            grown = np.zeros(capacity, dtype=column.dtype)
            grown[: self.size] = column[: self.size]
            self._data[name] = grown

    def __getitem__(self, name: str) -> np.ndarray:
        """One column's backing array: index it with row indices below `size` only.

        It may be longer than the table and is replaced when the table grows,
        so do not keep it across appends.
        """
        return self._data[name]

    def __len__(self) -> int:
        return self.size
