"""Epoch and ISO spellings of the vendor, as the spec shows them."""

from __future__ import annotations

from pipelines.sandbox.timefmt import broken_ms_iso_text, epoch_text, iso_text

SECOND = 1_000_000


def test_epoch_spellings_match_the_spec_examples() -> None:
    assert epoch_text(1_765_185_213_630_000, "frac9") == "1765185213.630000000"
    assert epoch_text(1_728_281_969_300_000, "short") == "1728281969.3"
    assert epoch_text(1_719_898_518_011_293, "short") == "1719898518.011293"
    assert epoch_text(1_716_803_487 * SECOND, "int") == "1716803487"
    assert epoch_text(1_716_803_487_500_000, "int") == "1716803487.5"
    assert epoch_text(1_765_178_896 * SECOND, "ms") == "1765178896000.000000000"


def test_iso_twins_in_utc_and_india_offset() -> None:
    assert iso_text(1_764_654_607 * SECOND) == "2025-12-02T05:50:07Z"
    assert iso_text(1_716_803_487 * SECOND, offset=True) == "2024-05-27T15:21:27+05:30"
    assert iso_text(1_719_898_518_011_293, offset=True) == "2024-07-02T11:05:18.011+05:30"


def test_millisecond_epochs_get_the_vendors_broken_iso_twin() -> None:
    assert broken_ms_iso_text(1_765_178_896 * SECOND) == "+57906-04-18T07:06:40Z"
    assert broken_ms_iso_text(1_796_275_142_001_000) == "+58891-09-10T13:13:21Z"
