"""Device and CPU-side states as JSON-able data and back: frozen dataclasses of ints,
tuples and bytes become plain lists and dicts (``$b`` for bytes, ``$d`` for dicts
with non-string keys), and are rebuilt exactly, nested state dataclasses too."""

from __future__ import annotations

import dataclasses
import functools
import typing

_SCALARS = frozenset({int, str, bool, type(None)})


class CheckpointError(Exception):
    """A checkpoint cannot be taken or does not fit this board."""


def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def to_plain(value):
    """A device state (frozen dataclass of ints, tuples, bytes) as JSON-able data."""
    if dataclasses.is_dataclass(value):
        out = {}
        for name in _field_names(type(value)):
            v = getattr(value, name)
            out[name] = v if type(v) in _SCALARS else to_plain(v)
        return out
    if isinstance(value, (bytes, bytearray)):
        return {"$b": bytes(value).hex()}
    if isinstance(value, (tuple, list)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {"$d": [[to_plain(k), to_plain(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise CheckpointError(f"cannot save a {type(value).__name__} in a checkpoint")


def from_plain(value):
    if isinstance(value, list):
        return tuple(from_plain(v) for v in value)
    if isinstance(value, dict):
        if "$b" in value:
            return bytes.fromhex(value["$b"])
        if "$d" in value:
            return tuple((from_plain(k), from_plain(v)) for k, v in value["$d"])
        return {k: from_plain(v) for k, v in value.items()}
    return value


@functools.lru_cache(maxsize=None)
def _nested_kinds(cls) -> tuple[frozenset, dict]:
    """The field names of ``cls`` and, per field, the state dataclass it holds
    (directly or as Optional[...]); cached: a restore rebuilds a thousand
    exception records, and typing.get_type_hints is slow."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:
        hints = {}
    kinds = {}
    for name in _field_names(cls):
        hint = hints.get(name)
        inner = [t for t in typing.get_args(hint) if dataclasses.is_dataclass(t)] if hint is not None else []
        kind = hint if dataclasses.is_dataclass(hint) else (inner[0] if inner else None)
        if kind is not None:
            kinds[name] = kind
    return frozenset(_field_names(cls)), kinds


@functools.cache
def _defaulted(cls) -> frozenset:
    """The fields of a dataclass that have a default."""
    return frozenset(f.name for f in dataclasses.fields(cls)
                     if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)


def _state_of(cls, plain: dict):
    """Rebuild a state dataclass (nested state dataclasses too) from ``to_plain`` data."""
    fields, kinds = _nested_kinds(cls)
    if not isinstance(plain, dict) or not plain.keys() <= fields or not fields - plain.keys() <= _defaulted(cls):
        # a field added later with a default may be missing (a session recorded before it)
        raise CheckpointError(f"saved {cls.__name__} has fields {sorted(plain) if isinstance(plain, dict) else plain!r}")
    out = {}
    for k, v in plain.items():
        kind = kinds.get(k)
        if kind is not None and isinstance(v, dict) and "$b" not in v and "$d" not in v:
            out[k] = _state_of(kind, v)
        else:
            out[k] = from_plain(v)
    return cls(**out)
