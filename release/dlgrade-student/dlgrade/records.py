"""Plain-data records: what the kernel hands to the grader.

A record carries only JSON scalars, strings, lists and dicts. Arrays are
tagged dicts with a float64/int64/bool payload, so nothing the kernel
produces is ever unpickled or imported by the grader. Decoding is strict:
anything unexpected raises ``RecordError`` and the check fails closed.
"""
from __future__ import annotations

import json
import math

import numpy as np

MIME = "application/vnd.dlgrade.record+json"
FORMAT_VERSION = 1
MAX_RECORD_BYTES = 4_000_000
_MAX_DEPTH = 12


class RecordError(ValueError):
    """A record is missing, malformed, oversized or of the wrong kind."""


def _float_list(a: np.ndarray) -> list:
    # json cannot spell NaN/inf portably, so they travel as strings.
    out = []
    for v in a.ravel().tolist():
        out.append(v if math.isfinite(v) else repr(v))
    return out


def encode(value, depth: int = 0):
    """Turn a student's return value into plain JSON-able data.

    Runs in the kernel. Unknown objects become an ``opaque`` marker rather
    than an error so the grader can explain what was returned.
    """
    if depth > _MAX_DEPTH:
        return {"__kind__": "opaque", "type": "too deeply nested"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)) and np.ndim(value) == 0:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return {"__kind__": "int", "v": str(int(value))}
        v = float(value)
        return {"__kind__": "float", "v": v if math.isfinite(v) else repr(v),
                "dtype": str(np.asarray(value).dtype)}
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, (frozenset, set)):
        items = [encode(v, depth + 1) for v in value]
        return {"__kind__": "set", "items": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(value, (list, tuple)):
        return {"__kind__": "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        # in a canonical order: a dict built from a set of strings iterates differently in
        # every process, and the same cases must encode the same way everywhere
        pairs = [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]
        return {"__kind__": "dict", "pairs": sorted(pairs, key=lambda p: json.dumps(p[0], sort_keys=True))}
    return {"__kind__": "opaque", "type": type(value).__name__}


def _encode_array(a: np.ndarray) -> dict:
    kind = a.dtype.kind
    if kind == "b":
        data, dtype = a.ravel().tolist(), "bool"
    elif kind in "iu":
        data, dtype = [str(v) for v in a.ravel().tolist()], "int64"
    elif kind == "f":
        data, dtype = _float_list(a.astype(np.float64)), "float64"
    elif kind == "c":
        return {"__kind__": "opaque", "type": f"complex array {a.shape}"}
    else:
        return {"__kind__": "opaque", "type": f"array of dtype {a.dtype}"}
    return {"__kind__": "array", "shape": list(a.shape), "dtype": dtype,
            "source_dtype": str(a.dtype), "data": data}


class Opaque:
    """Stands for a returned object the record could not represent."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self):
        return f"<unrepresentable {self.type_name}>"


MAX_INT_DIGITS = 400


def _int(v) -> int:
    text = str(v)
    if len(text) > MAX_INT_DIGITS:
        raise RecordError(f"an integer of {len(text)} digits (more than {MAX_INT_DIGITS})")
    try:
        return int(text)
    except ValueError:
        raise RecordError(f"bad integer {text[:40]!r}") from None


def _num(v) -> float:
    if isinstance(v, bool):
        raise RecordError("boolean where a number belongs")
    if isinstance(v, (int, float)):
        return float(v)
    if v in ("nan", "inf", "-inf"):
        return float(v)
    raise RecordError(f"bad number {v!r}")


def decode(data, depth: int = 0):
    """Inverse of :func:`encode`, run in the grader. Strict about types."""
    if depth > _MAX_DEPTH + 1:
        raise RecordError("record nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if not isinstance(data, dict) or "__kind__" not in data:
        raise RecordError(f"unexpected value of type {type(data).__name__}")
    kind = data["__kind__"]
    if kind == "int":
        return _int(data.get("v"))
    if kind == "float":
        return _num(data.get("v"))
    if kind == "array":
        return _decode_array(data)
    if kind in ("list", "tuple", "set"):
        items = data.get("items")
        if not isinstance(items, list):
            raise RecordError("sequence without items")
        vals = [decode(v, depth + 1) for v in items]
        if kind == "set":
            try:
                return frozenset(vals)
            except TypeError as exc:
                raise RecordError("set of unhashable values") from exc
        return tuple(vals) if kind == "tuple" else vals
    if kind == "dict":
        pairs = data.get("pairs")
        if not isinstance(pairs, list):
            raise RecordError("dict without pairs")
        out = {}
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                raise RecordError("malformed dict pair")
            try:
                out[decode(pair[0], depth + 1)] = decode(pair[1], depth + 1)
            except TypeError as exc:
                raise RecordError("unhashable dict key") from exc
        return out
    if kind == "opaque":
        return Opaque(str(data.get("type", "?")))
    raise RecordError(f"unknown kind {kind!r}")


def _decode_array(data: dict) -> np.ndarray:
    shape, dtype, flat = data.get("shape"), data.get("dtype"), data.get("data")
    if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise RecordError("bad array shape")
    if not isinstance(flat, list) or len(flat) != int(np.prod(shape, dtype=np.int64)):
        raise RecordError("array data does not match its shape")
    if dtype == "float64":
        arr = np.array([_num(v) for v in flat], dtype=np.float64)
    elif dtype == "int64":
        try:
            arr = np.array([_int(v) for v in flat], dtype=np.int64)
        except OverflowError:
            raise RecordError("an integer outside int64 in an integer array") from None
    elif dtype == "bool":
        if not all(isinstance(v, bool) for v in flat):
            raise RecordError("bad boolean array")
        arr = np.array(flat, dtype=bool)
    else:
        raise RecordError(f"unsupported dtype {dtype!r}")
    arr = arr.reshape(shape)
    arr.flags.writeable = False
    return arr


def source_dtypes(data) -> list[str]:
    """Dtypes the student's arrays had before they were widened to float64."""
    found = []
    if isinstance(data, dict):
        if data.get("__kind__") == "array":
            found.append(str(data.get("source_dtype", "")))
        for v in data.values():
            found.extend(source_dtypes(v))
    elif isinstance(data, list):
        for v in data:
            found.extend(source_dtypes(v))
    return found


def dumps(record: dict) -> str:
    text = json.dumps(record, allow_nan=False)
    if len(text) > MAX_RECORD_BYTES:
        raise RecordError(f"record is {len(text)} bytes, over the {MAX_RECORD_BYTES} limit")
    return text


def load_output_record(output) -> dict:
    """Pull one record out of a notebook output, or raise RecordError."""
    data = output.get("data", {}) if hasattr(output, "get") else {}
    raw = data.get(MIME)
    if raw is None:
        raise RecordError("output holds no record")
    if isinstance(raw, str):
        if len(raw) > MAX_RECORD_BYTES:
            raise RecordError("record is oversized")
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise RecordError(f"record is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise RecordError("record is not an object")
    if len(json.dumps(raw, default=str)) > MAX_RECORD_BYTES:
        raise RecordError("record is oversized")
    if raw.get("format") != FORMAT_VERSION:
        raise RecordError("record has an unknown format version")
    return raw
