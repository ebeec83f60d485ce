"""Field specs compiled into straight-line Python, once per tuple of fields and table.

Interpreting a `Field` per value (loop over keys, call the converter, which calls
the timestamp parser, which calls the range check...) costs more than the work it
does. `compiled_fill` (for an ObjectReader), `compiled_flat` (for an object read on
its own) and `compiled_read` (one field) turn fields into one generated function with
the exact semantics of reading them one after the other:

- the first key with a non-null value feeds the column; the null or absent keys
  before it count as used, the keys after it are not visited (they stay for extra);
- ISO twins (`iso_keys`) are looked at only when every epoch key is null;
- a converted value marks its key (and every ISO twin) used; a rejected one leaves
  the column null, its key unused and counts `"<table>.<column>: <problem>"`.

Common values (a str for text, an in-range int, a bool, an epoch in seconds) are
typed inline; anything else goes through the field's own converter, so a custom
converter works too. `compiled_source` shows the generated code (codegen.py writes it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.normalize.codegen import FLAT, READ, READER, generate
from pipelines.normalize.fields import Field

Fill = Callable[[dict[str, Any], set[str], dict[str, Any], Counter[str]], None]
"""fill(source, used keys, row, warnings): sets each field's column in `row`."""
Read = Callable[[dict[str, Any], set[str], Counter[str]], Any]
"""read(source, used keys, warnings): one field's value."""


@dataclass(frozen=True, slots=True)
class FlatFields:
    """Fields of an object read on its own: fill returns the mapped keys left unused."""

    fill: Callable[[dict[str, Any], dict[str, Any], Counter[str]], list[str]]
    consumed: frozenset[str]


# Looked up by identity first (hashing a tuple of fields costs more than a short
# record's whole fill), then by value, so an equal tuple built anew is not compiled again.
_by_identity: dict[tuple[int, str, str], tuple[Any, Any]] = {}
_by_value: dict[tuple[tuple[Field, ...], str, str], Any] = {}


def compiled_fill(fields: tuple[Field, ...], table: str) -> Fill:
    """The generated fill of `fields` for `table` (warning names start with the table)."""
    return _cached(fields, table, READER) or _compiled(fields, tuple(fields), table, READER)


def compiled_flat(fields: tuple[Field, ...], table: str) -> FlatFields:
    """The generated fill of `fields` for objects read with no other key lookups."""
    return _cached(fields, table, FLAT) or _compiled(fields, tuple(fields), table, FLAT)


def compiled_read(field: Field, table: str) -> Read:
    """The generated read of one field for `table`."""
    return _cached(field, table, READ) or _compiled(field, (field,), table, READ)


def _cached(spec: Any, table: str, shape: str) -> Any:
    """The function compiled for this very `spec` object, or None."""
    cached = _by_identity.get((id(spec), table, shape))
    return cached[1] if cached is not None and cached[0] is spec else None


def compiled_source(fields: tuple[Field, ...], table: str, shape: str = READER) -> str:
    """The Python source generated for `fields` (for reading and debugging)."""
    return generate(tuple(fields), table, shape)[0]


def _compiled(spec: Any, fields: tuple[Field, ...], table: str, shape: str) -> Any:
    function = _by_value.get((fields, table, shape))
    if function is None:
        function = _by_value[fields, table, shape] = _build(fields, table, shape)
    _by_identity[id(spec), table, shape] = (spec, function)
    return function


def _build(fields: tuple[Field, ...], table: str, shape: str) -> Any:
    source, namespace = generate(fields, table, shape)
    exec(compile(source, f"<compiled fields of {table}>", "exec"), namespace)
    if shape == FLAT:
        return FlatFields(namespace["fill"], namespace["consumed"])
    return namespace["read" if shape == READ else "fill"]
