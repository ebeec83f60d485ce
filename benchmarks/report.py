"""The benchmark's table and its closing ratio lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEADER = ("run", "requests", "seconds", "req/s", "rows/s", "CPU %", "peak RSS MiB")


@dataclass
class Row:
    label: str
    requests: int | None
    seconds: float
    rows: int | None  # raw records (a floor replays one request per record)
    cpu_seconds: float
    peak_rss_mib: float

    @classmethod
    def from_figures(cls, label: str, figures: dict[str, Any], peak_rss_mib: float) -> Row:
        return cls(
            label=label,
            requests=figures["requests"],
            seconds=figures["seconds"],
            rows=figures["raw_records"],
            # CPU over the wall time of the measured part, so start-up is left out
            cpu_seconds=figures["cpu_seconds"] * figures["seconds"] / figures["wall_seconds"],
            peak_rss_mib=peak_rss_mib,
        )

    @property
    def requests_per_second(self) -> float | None:
        return None if self.requests is None else self.requests / self.seconds

    @property
    def rows_per_second(self) -> float | None:
        return None if self.rows is None else self.rows / self.seconds

    def cells(self) -> tuple[str, ...]:
        return (
            self.label,
            _number(self.requests),
            f"{self.seconds:.2f}",
            _number(self.requests_per_second),
            _number(self.rows_per_second),
            f"{100 * self.cpu_seconds / self.seconds:.0f}",
            f"{self.peak_rss_mib:.1f}",
        )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def format_table(rows: list[Row]) -> str:
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]

    def render(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    rule = "-" * len(render(HEADER))
    return "\n".join([render(HEADER), rule, *(render(cells) for cells in lines[1:])])


def ratio_lines(
    extraction: Row, floor: Row, scaled: Row, scale: float, whole_run: Row | None
) -> list[str]:
    """The closing lines; the extraction/floor ratio comes last."""
    assert extraction.requests_per_second and floor.requests_per_second
    whole = "skipped" if whole_run is None else f"{whole_run.seconds / extraction.seconds:.2f}"
    return [
        f"whole-run/extraction time ratio: {whole}",
        f"peak RSS {scale:g}x/1x: {scaled.peak_rss_mib / extraction.peak_rss_mib:.2f}",
        "extraction/floor requests-per-second ratio: "
        f"{extraction.requests_per_second / floor.requests_per_second:.2f}",
    ]
