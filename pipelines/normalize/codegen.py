"""Python source of a compiled tuple of fields (see compiled.py for what it does).

Three shapes of function, all with the same per-field code:

- `fill(source, used, row, warnings)` for an `ObjectReader`: adds the keys it used;
- `fill(source, row, warnings) -> kept` for a flat object: returns the keys among
  `consumed_keys(fields)` that stay unused (so extra needs no set of used keys);
- `read(source, used, warnings) -> value` for one field.

Keys are tracked as "kept" (unused although a field could map them) when every key
appears in one field only; then a used key needs no bookkeeping at all, and the
reader shape adds them all at once at the end. Otherwise each key is added as it
is used, exactly as an interpreter would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.normalize.fields import INT64_MAX, INT64_MIN, Field, as_boolean, as_integer, as_text
from pipelines.normalize.timestamps import parse_timestamp

READER, FLAT, READ = "reader", "flat", "read"
SIGNATURES = {
    READER: "def fill(source, used, row, warnings):",
    FLAT: "def fill(source, row, warnings):",
    READ: "def read(source, used, warnings):",
}

# Epochs in seconds within (-6e10, 1e11) are years 68..5138: no milliseconds rule and
# no range check applies, so micros = round(seconds * 1e6) exactly as parse_timestamp.
_SECONDS_RANGE = "-60_000_000_000 < v < 100_000_000_000"
FAST_PATHS: dict[Callable[[Any], Any], tuple[tuple[str, str], ...]] = {
    as_text: (("type(v) is str", "v"),),
    as_integer: (("type(v) is int and INT64_MIN <= v <= INT64_MAX", "v"),),
    as_boolean: (("v is True or v is False", "v"),),
    parse_timestamp: (
        (f"type(v) is float and {_SECONDS_RANGE}", "round(v * 1_000_000)"),
        (f"type(v) is int and {_SECONDS_RANGE}", "v * 1_000_000"),
    ),
}


def consumed_keys(fields: tuple[Field, ...]) -> tuple[str, ...]:
    """Every key the fields may map, epoch keys and ISO twins, in field order."""
    return tuple(key for field in fields for key in (*field.keys, *field.iso_keys))


def keys_are_distinct(fields: tuple[Field, ...]) -> bool:
    keys = consumed_keys(fields)
    return len(set(keys)) == len(keys)


def generate(fields: tuple[Field, ...], table: str, shape: str) -> tuple[str, dict[str, Any]]:
    """(source, namespace) of the function of `shape` for `fields`."""
    track_kept = keys_are_distinct(fields)
    namespace: dict[str, Any] = {
        "INT64_MIN": INT64_MIN,
        "INT64_MAX": INT64_MAX,
        "consumed": frozenset(consumed_keys(fields)),
        "consumed_in_order": consumed_keys(fields),
    }
    lines = [SIGNATURES[shape], "    get = source.get"]
    if track_kept:
        lines.append("    kept = []")
    else:
        lines.append("    used = set()" if shape == FLAT else "    add = used.add")
        if shape == FLAT:
            lines.append("    add = used.add")
    for index, field in enumerate(fields):
        namespace[f"convert_{index}"] = field.convert
        namespace[f"iso_{index}"] = field.iso_keys
        namespace[f"warning_{index}"] = f"{table}.{field.column}: "
        lines += _FieldWriter(index, field, track_kept).lines()
    lines += _epilogue(fields, shape, track_kept)
    return "\n".join(lines) + "\n", namespace


def _epilogue(fields: tuple[Field, ...], shape: str, track_kept: bool) -> list[str]:
    lines = []
    if shape == READER and track_kept:
        lines.append("    used.update(consumed.difference(kept) if kept else consumed)")
    if shape == READ:
        if track_kept:
            lines.append("    used.update(consumed.difference(kept) if kept else consumed)")
        return [*lines, "    return c0"]
    lines += [f"    row[{field.column!r}] = c{index}" for index, field in enumerate(fields)]
    if shape == FLAT:
        if track_kept:
            lines.append("    return kept")
        else:
            lines.append("    return [key for key in consumed_in_order if key not in used]")
    return lines


class _FieldWriter:
    """The code of one field: a chain of lookups, each found value converted in place."""

    def __init__(self, index: int, field: Field, track_kept: bool) -> None:
        self.index = index
        self.field = field
        self.track_kept = track_kept
        self.candidates = (*field.keys, *field.iso_keys)

    def lines(self) -> list[str]:
        return [f"    # {self.field.column} <- {', '.join(self.candidates)}", *self._chain(0, 1)]

    def _chain(self, position: int, depth: int) -> list[str]:
        indent = "    " * depth
        key = self.candidates[position]
        lines = [f"{indent}v = get({key!r})", f"{indent}if v is not None:"]
        lines += self._convert(position, depth + 1)
        lines.append(f"{indent}else:")
        if not self.track_kept:
            lines.append(f"{indent}    add({key!r})")
        if position + 1 < len(self.candidates):
            return lines + self._chain(position + 1, depth + 1)
        return [*lines, f"{indent}    c{self.index} = None"]

    def _convert(self, position: int, depth: int) -> list[str]:
        indent = "    " * depth
        value = f"c{self.index}"
        success = self._on_success(position)
        lines = []
        for number, (check, expression) in enumerate(FAST_PATHS.get(self.field.convert, ())):
            lines += [f"{indent}{'if' if number == 0 else 'elif'} {check}:"]
            lines += [
                f"{indent}    {value} = {expression}",
                *(indent + "    " + s for s in success),
            ]
        body_indent = indent
        if lines:
            lines.append(f"{indent}else:")
            body_indent = indent + "    "
        lines += [
            f"{body_indent}{value}, problem = convert_{self.index}(v)",
            f"{body_indent}if problem is None:",
            *(f"{body_indent}    {statement}" for statement in success or ["pass"]),
            f"{body_indent}else:",
            f"{body_indent}    {value} = None",
            f'{body_indent}    warnings[f"{{warning_{self.index}}}{{problem}}"] += 1',
        ]
        if self.track_kept:
            lines.append(f"{body_indent}    kept.extend({self._unused_on_failure(position)!r})")
        return lines

    def _on_success(self, position: int) -> list[str]:
        """Marks of a converted value: its key and the ISO twins used, later aliases not."""
        if not self.track_kept:
            iso_update = [f"used.update(iso_{self.index})"] if self.field.iso_keys else []
            return [f"add({self.candidates[position]!r})", *iso_update]
        epoch_keys = self.field.keys
        later_aliases = epoch_keys[position + 1 :] if position < len(epoch_keys) else ()
        return [f"if {alias!r} in source: kept.append({alias!r})" for alias in later_aliases]

    def _unused_on_failure(self, position: int) -> tuple[str, ...]:
        """A rejected value: its key and every candidate after it were never marked."""
        return self.candidates[position:]
