"""SQL models: one SELECT per file in `sql/`, built into schema `analytics`.

Each file starts with a header comment:

    -- <name>: <one-line summary>
    -- grain: <what one row is>
    -- key: <column>, <column>
    -- columns:
    --   <column>: <meaning>
    -- <free text: definitions, null handling>

Dependencies are read from the SQL text itself (`main.<table>`, `analytics.<model>`),
so the order models are built in, and the asset graph, follow the SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MODEL_SCHEMA = "analytics"

_REFERENCE = re.compile(r"\b(main|analytics)\.([A-Za-z_][A-Za-z0-9_]*)\b")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


@dataclass(frozen=True)
class ModelHeader:
    name: str
    summary: str
    grain: str
    key: tuple[str, ...]
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)


def model_names() -> list[str]:
    """Every model, by file name, sorted."""
    return sorted(path.stem for path in SQL_DIR.glob("*.sql"))


def model_sql(name: str) -> str:
    """The SQL text of a model, header included."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no model {name!r} (looked for {path})")
    return path.read_text(encoding="utf-8")


def model_dependencies(name: str) -> set[str]:
    """The `main.<table>` and `analytics.<model>` names the model's SQL reads."""
    code = _STRING_LITERAL.sub("''", _strip_comments(model_sql(name)))
    references = {f"{schema}.{table}" for schema, table in _REFERENCE.findall(code)}
    references.discard(f"{MODEL_SCHEMA}.{name}")
    return references


def model_build_order() -> list[str]:
    """Model names ordered so that every model comes after the models it reads."""
    graph = {
        name: {
            ref.split(".", 1)[1]
            for ref in model_dependencies(name)
            if ref.startswith(MODEL_SCHEMA + ".")
        }
        for name in model_names()
    }
    return list(TopologicalSorter(graph).static_order())


def build_model(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """(Re)creates `analytics.<name>` from the model's SELECT; returns its row count."""
    select = model_sql(name).strip().rstrip(";")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {MODEL_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {MODEL_SCHEMA}.{name} AS\n{select}")
    row = con.execute(f"SELECT count(*) FROM {MODEL_SCHEMA}.{name}").fetchone()
    return int(row[0]) if row else 0


def build_all_models(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Builds every model in dependency order; returns rows per model."""
    return {name: build_model(con, name) for name in model_build_order()}


def model_header(name: str) -> ModelHeader:
    """The parsed header comment of a model."""
    lines = _header_lines(model_sql(name))
    if not lines or ":" not in lines[0]:
        raise ValueError(f"model {name!r} has no '-- {name}: summary' header line")
    title, summary = (part.strip() for part in lines[0].split(":", 1))
    if title != name:
        raise ValueError(f"model {name!r} header names {title!r}")
    fields_: dict[str, str] = {}
    columns: dict[str, str] = {}
    notes: list[str] = []
    in_columns = False
    for line in lines[1:]:
        indented = line.startswith("  ")
        text = line.strip()
        if in_columns and line.startswith("    ") and columns:
            last = next(reversed(columns))
            columns[last] = f"{columns[last]} {text}"
            continue
        if in_columns and indented and ":" in text:
            column, meaning = (part.strip() for part in text.split(":", 1))
            columns[column] = meaning
            continue
        in_columns = False
        label, _, value = text.partition(":")
        if label in ("grain", "key"):
            fields_[label] = value.strip()
        elif label == "columns":
            in_columns = True
        elif text:
            notes.append(text)
    key = tuple(part.strip() for part in fields_.get("key", "").split(",") if part.strip())
    return ModelHeader(name, summary, fields_.get("grain", ""), key, columns, notes)


def _header_lines(sql: str) -> list[str]:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].removeprefix(" "))
    return lines


def _strip_comments(sql: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", sql))
