"""The original API's tensor data type: an int with CANN's aclDataType numbering, and a dtype."""

from __future__ import annotations

import enum
from typing import Any

import numpy as np


class TensorType(enum.IntEnum):
    """`int(t)` is the original's code for the type; `t.dtype` (and `np.dtype(t)`) the numpy one.

    A member also compares equal to its numpy type (`t == np.float32`), so code written against
    a numpy `datatype` keeps working.
    """

    DT_FLOAT = 0
    DT_FLOAT16 = 1
    DT_INT8 = 2
    DT_INT32 = 3
    DT_UINT8 = 4
    DT_INT16 = 6
    DT_UINT16 = 7
    DT_UINT32 = 8
    DT_INT64 = 9
    DT_UINT64 = 10
    DT_DOUBLE = 11
    DT_BOOL = 12
    DT_COMPLEX64 = 16
    DT_COMPLEX128 = 17

    @property
    def dtype(self) -> np.dtype:
        return _DTYPES[self]

    @classmethod
    def from_dtype(cls, dtype: Any) -> TensorType:
        dt = np.dtype(dtype)
        for member, d in _DTYPES.items():
            if d == dt:
                return member
        raise ValueError(f"numpy type {dt.name} has no tensor type code")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            return int(self) == int(other)
        if isinstance(other, (np.dtype, type, str)):
            try:
                return self.dtype == np.dtype(other)
            except TypeError:
                return False
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = enum.IntEnum.__hash__

    # Printed by name, as the original prints its type enum; int(t) gives the code.
    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


_DTYPES: dict[TensorType, np.dtype] = {
    TensorType.DT_FLOAT: np.dtype(np.float32),
    TensorType.DT_FLOAT16: np.dtype(np.float16),
    TensorType.DT_INT8: np.dtype(np.int8),
    TensorType.DT_INT32: np.dtype(np.int32),
    TensorType.DT_UINT8: np.dtype(np.uint8),
    TensorType.DT_INT16: np.dtype(np.int16),
    TensorType.DT_UINT16: np.dtype(np.uint16),
    TensorType.DT_UINT32: np.dtype(np.uint32),
    TensorType.DT_INT64: np.dtype(np.int64),
    TensorType.DT_UINT64: np.dtype(np.uint64),
    TensorType.DT_DOUBLE: np.dtype(np.float64),
    TensorType.DT_BOOL: np.dtype(np.bool_),
    TensorType.DT_COMPLEX64: np.dtype(np.complex64),
    TensorType.DT_COMPLEX128: np.dtype(np.complex128),
}
