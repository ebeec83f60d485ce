"""The customers to extract: `CAPILLARY_CUSTOMERS`, a CSV or Parquet file.

Column `customer_id` is required; `identifier_type` is optional and says how the id
identifies the customer (id, email, mobile, externalId, cardNumber; default id). A bad
row stops the run before any API call, with an error naming the file, the line and
the problem.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.client.endpoints import IDENTIFIER_TYPES
from pipelines.lake.keys import CustomerRef


class CustomerFileError(ValueError):
    pass


def load_customers(path: Path) -> list[CustomerRef]:
    if not path.exists():
        raise CustomerFileError(f"{path}: customers file not found")
    rows = _read_parquet(path) if path.suffix.lower() == ".parquet" else _read_csv(path)
    customers: list[CustomerRef] = []
    seen: set[CustomerRef] = set()
    for line, row in rows:
        customer = _validate(path, line, row)
        if customer not in seen:
            seen.add(customer)
            customers.append(customer)
    return customers


def _read_csv(path: Path) -> list[tuple[int, dict[str, str | None]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        _check_header(path, reader.fieldnames or [])
        return [(reader.line_num, row) for row in reader]


def _read_parquet(path: Path) -> list[tuple[int, dict[str, str | None]]]:
    table = pq.read_table(path)
    _check_header(path, table.column_names)
    return [
        (i + 1, {k: None if v is None else str(v) for k, v in row.items()})
        for i, row in enumerate(table.to_pylist())
    ]


def _check_header(path: Path, columns: list[str]) -> None:
    if "customer_id" not in columns:
        raise CustomerFileError(
            f"{path}: no 'customer_id' column (columns found: {', '.join(columns) or 'none'})"
        )


def _validate(path: Path, line: int, row: dict[str, str | None]) -> CustomerRef:
    customer_id = (row.get("customer_id") or "").strip()
    identifier_type = (row.get("identifier_type") or "").strip() or "id"
    where = f"{path}:{line}" if path.suffix.lower() != ".parquet" else f"{path} row {line}"
    if not customer_id:
        raise CustomerFileError(f"{where}: empty customer_id")
    if identifier_type not in IDENTIFIER_TYPES:
        raise CustomerFileError(
            f"{where}: unknown identifier_type {identifier_type!r} "
            f"(expected one of {', '.join(IDENTIFIER_TYPES)})"
        )
    return CustomerRef(customer_id, identifier_type)
