"""Hypothesis strategies for hostile client frames, derived from the frame types
themselves (``msgspec.inspect`` of ``shared.frames.ClientFrame``), so that a frame
type added later is fuzzed without anyone writing a strategy for it.

Half the frames are well-formed (every field a value its type allows), so that
every handler is reached; in the other half each field is, at random: a value its
type allows, a value at or just past a limit, a character that must not pass (NUL,
lone surrogates), a value of another JSON type (NaN and infinities included), an
oversized value, deep nesting, or missing; these frames may carry unknown fields,
or an unknown type. The result is JSON text, written by hand
where ``json`` would refuse (nesting deeper than its recursion limit).
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import Any

import msgspec.inspect as mi
from hypothesis import strategies as st

from shared.frames import ClientFrame

__all__ = [
    "FIRST_FRAMES",
    "FRAME_TYPES",
    "Raw",
    "any_frame",
    "encode_frame",
    "first_frame",
    "frame_of",
]

FRAME_TYPES: tuple[type, ...] = typing.get_args(ClientFrame)
FIRST_FRAMES = frozenset({"hello", "login", "register"})


@dataclass(frozen=True)
class Raw:
    """JSON text put into a frame as it is (nesting too deep for ``json.dumps``)."""

    text: str


_OMIT = object()

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
"""Any JSON value, NaN and infinities included (JavaScript's spelling, as ``json``
writes them)."""

hostile_text = st.sampled_from(
    ["", "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e", "\x1b[2J", "\uffff", "\U0010ffff"]
)
oversized = st.one_of(
    st.integers(min_value=1_000, max_value=80_000).map(lambda n: "x" * n),
    st.integers(min_value=2**53, max_value=2**64),
    st.integers(min_value=10, max_value=30_000).map(lambda n: Raw("[" * n + "]" * n)),
    st.integers(min_value=10, max_value=5_000).map(lambda n: Raw('{"a":' * n + "1" + "}" * n)),
)


def proper(t: mi.Type) -> st.SearchStrategy[Any]:
    """Values the field's type allows."""
    if isinstance(t, mi.StrType):
        low, high = t.min_length or 0, t.max_length if t.max_length is not None else 64
        return st.one_of(
            st.text(min_size=low, max_size=min(high, 40)),
            st.sampled_from(["general", "alice", "fuzzer", "a" * high]).filter(
                lambda s: low <= len(s) <= high
            ),
        )
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else 0
        high = t.le if t.le is not None else 2**31
        return st.one_of(
            st.just(max(low, 1)),  # protocol 1, room 1 (#general)
            st.integers(min_value=low, max_value=min(high, low + 5)),
            st.integers(min_value=low, max_value=high),
        )
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(list(t.values))
    if isinstance(t, mi.UnionType):
        return st.one_of(*(proper(member) for member in t.types))
    if isinstance(t, mi.ListType):
        return st.lists(proper(t.item_type), max_size=min(t.max_length or 5, 5))
    if isinstance(t, mi.DictType):
        return st.dictionaries(proper(t.key_type).map(str), proper(t.value_type), max_size=4)
    return json_values


def edgy(t: mi.Type) -> st.SearchStrategy[Any]:
    """Values at and just past the field's limits, and characters that must not pass."""
    if isinstance(t, mi.StrType):
        low, high = t.min_length or 0, t.max_length if t.max_length is not None else 64
        edges = [n for n in {low, high, max(low - 1, 0), high + 1} if n <= 20_000]
        return st.one_of(st.sampled_from(edges).map(lambda n: "a" * n), hostile_text)
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else -(2**63)
        high = t.le if t.le is not None else 2**63
        return st.sampled_from([low - 1, low, high, high + 1, -1, 0])
    if isinstance(t, mi.UnionType):
        return st.one_of(*(edgy(member) for member in t.types))
    if isinstance(t, mi.ListType | mi.DictType):
        return st.one_of(
            st.lists(edgy(t.item_type if isinstance(t, mi.ListType) else t.value_type), max_size=3),
            st.integers(1, 50).map(lambda n: [None] * n),
        )
    return json_values


def field_value(t: mi.Type) -> st.SearchStrategy[Any]:
    return st.one_of(proper(t), edgy(t), json_values, oversized, st.just(_OMIT))


def frame_of(cls: type, *, hostile: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Frames of one type: each field proper, at or past its limits, of another type,
    oversized or missing (``hostile``), or every field proper and present."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType) and isinstance(info.tag, str)
    if not hostile:
        return st.fixed_dictionaries({f.encode_name: proper(f.type) for f in info.fields}).map(
            lambda values: {"type": info.tag, **values}
        )
    fields = {f.encode_name: field_value(f.type) for f in info.fields}
    tag = st.one_of(
        st.just(info.tag), st.just(info.tag), st.just(info.tag), json_values, st.just(_OMIT)
    )
    extra = st.dictionaries(st.text(max_size=8), json_values, max_size=2)

    def build(parts: tuple[Any, dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        kind, values, unknown = parts
        frame = {**unknown, **{k: v for k, v in values.items() if v is not _OMIT}}
        if kind is not _OMIT:
            frame["type"] = kind
        return frame

    return st.tuples(tag, st.fixed_dictionaries(fields), extra).map(build)


def _frames(types: list[type]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        *(frame_of(cls) for cls in types), *(frame_of(cls, hostile=False) for cls in types)
    )


any_frame = _frames(list(FRAME_TYPES))
"""A frame of any type: half of them hostile, half well-formed."""
first_frame = _frames(
    [cls for cls in FRAME_TYPES if getattr(mi.type_info(cls), "tag", None) in FIRST_FRAMES]
)
"""A hello, login or register: half of them hostile, half well-formed."""


def encode_frame(frame: dict[str, Any]) -> str:
    """JSON text of a frame; ``Raw`` values are written as they are."""
    parts = []
    for key, value in frame.items():
        text = value.text if isinstance(value, Raw) else json.dumps(value, allow_nan=True)
        parts.append(f"{json.dumps(key)}:{text}")
    return "{" + ",".join(parts) + "}"
