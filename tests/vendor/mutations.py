"""Hypothesis strategies that mutate a vendor example the ways the vendor may, though no
example shows it: a field of the wrong type or deleted, an unknown key at any depth, a list
that is not a list or an item that is not an object, odd values (unicode, empty strings,
huge or negative numbers), and a list, at any depth, with an entry repeated, its entries
reordered, or an entry repeated with one value changed."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]
KINDS = ("wrong_type", "deleted", "unknown_key", "not_a_list", "item_not_object", "odd_value")
LIST_KINDS = ("repeated", "reordered", "conflicting")

ODD_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF), max_size=12),
    st.just(""),
    st.integers(min_value=2**63, max_value=2**80),
    st.integers(max_value=-1, min_value=-(2**70)),
    st.sampled_from([1e308, -1e308, -0.5, 1.7976931348623157e308]),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=8), ODD_VALUES
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@dataclass(frozen=True)
class Mutation:
    kind: str
    path: Path  # where, from the answer's top
    value: Any = None
    # a list mutation: the path (below `path`) of the value a conflicting entry changed
    changed: Path = ()

    def describe(self) -> str:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)
        return f"{self.kind} at {where or '.'}: {self.value!r}"[:200]


def nodes(value: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    """Every node of a JSON value below `data`, with its path."""
    found = [(path, value)]
    if isinstance(value, dict):
        for key, child in value.items():
            found += nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += nodes(child, (*path, index))
    return found


def _type_of(value: Any) -> str:
    return (
        "number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else (type(value).__name__)
    )


@st.composite
def mutations(draw: st.DrawFn, answer: dict[str, Any]) -> Mutation:
    """One mutation of an answer's `data`, of any kind that fits the node drawn."""
    inside = [(p, v) for p, v in nodes(answer["data"], ("data",)) if len(p) > 1]
    kind = draw(st.sampled_from(KINDS))
    if kind == "unknown_key":
        objects = [p for p, v in nodes(answer["data"], ("data",)) if isinstance(v, dict)]
        path = draw(st.sampled_from(objects))
        key = draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in _at(answer, path)))
        return Mutation(kind, (*path, key), draw(ANY_JSON))
    if kind == "deleted":
        members = [p for p, _ in inside if isinstance(p[-1], str)]
        return Mutation(kind, draw(st.sampled_from(members)))
    if kind == "not_a_list":
        lists = [p for p, v in inside if isinstance(v, list)]
        if lists:
            return Mutation(kind, draw(st.sampled_from(lists)), draw(SCALARS | st.just({})))
    if kind == "item_not_object":
        items = [p for p, v in inside if isinstance(p[-1], int) and isinstance(v, dict)]
        if items:
            return Mutation(kind, draw(st.sampled_from(items)), draw(SCALARS))
    path, current = draw(st.sampled_from(inside))
    if kind == "odd_value":
        return Mutation(kind, path, draw(ODD_VALUES))
    other = ANY_JSON.filter(lambda v: _type_of(v) != _type_of(current))
    return Mutation("wrong_type", path, draw(other))


def mutated(answer: dict[str, Any], mutation: Mutation) -> dict[str, Any]:
    """A copy of the answer with the mutation applied."""
    copied = copy.deepcopy(answer)
    parent = _at(copied, mutation.path[:-1])
    if mutation.kind == "deleted":
        del parent[mutation.path[-1]]
    else:
        parent[mutation.path[-1]] = mutation.value
    return copied


def _at(value: Any, path: Path) -> Any:
    for part in path:
        value = value[part]
    return value


@st.composite
def list_mutations(draw: st.DrawFn, answer: dict[str, Any]) -> Mutation | None:
    """One list of an answer's `data`, at any depth, with an entry repeated (inserted at any
    place), its entries reordered, or an entry repeated with one scalar in it changed; None
    when the answer holds no list that can be so changed."""
    lists = [(p, v) for p, v in nodes(answer["data"], ("data",)) if isinstance(v, list) and v]
    kind = draw(st.sampled_from(LIST_KINDS))
    if kind == "reordered":
        lists = [(p, v) for p, v in lists if len({json_key(item) for item in v}) > 1]
    if kind == "conflicting":
        lists = [(p, v) for p, v in lists if any(_scalars(item) for item in v)]
    if not lists:
        return None
    path, entries = draw(st.sampled_from(lists))
    entries = copy.deepcopy(entries)
    if kind == "reordered":
        reordered = draw(st.permutations(entries).filter(lambda order: order != entries))
        return Mutation(kind, path, reordered)
    index = draw(st.sampled_from([i for i, item in enumerate(entries) if kind == "repeated"
                                  or _scalars(item)]))  # fmt: skip
    entry = copy.deepcopy(entries[index])
    changed: Path = ()
    if kind == "conflicting":
        changed = draw(st.sampled_from(_scalars(entry)))
        current = _at(entry, changed)
        other = ODD_VALUES.filter(lambda v: not (type(v) is type(current) and v == current))
        if changed:
            _at(entry, changed[:-1])[changed[-1]] = draw(other)
        else:
            entry = draw(other)
    at_place = draw(st.integers(0, len(entries)))
    entries.insert(at_place, entry)
    return Mutation(kind, path, entries, (at_place, *changed))


def json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _scalars(value: Any, path: Path = ()) -> list[Path]:
    """Paths of the non-null scalars in a value (the value itself when it is one)."""
    if isinstance(value, dict):
        return [p for key, child in value.items() for p in _scalars(child, (*path, key))]
    if isinstance(value, list):
        return [p for i, child in enumerate(value) for p in _scalars(child, (*path, i))]
    return [] if value is None else [path]
