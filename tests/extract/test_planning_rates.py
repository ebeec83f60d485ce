"""The rate each API is planned at: a stated budget, else the limit measured at the host."""

from __future__ import annotations

import pytest

from pipelines.client.rates import Rate, RateSpecError
from pipelines.client.settings import api_host
from pipelines.extract.planning import rates_per_second, remembered_at


def test_limits_are_remembered_per_host_with_its_port() -> None:
    assert api_host("https://eu.api.capillarytech.com/api_gateway") == "eu.api.capillarytech.com"
    assert api_host("http://127.0.0.1:8123") == "127.0.0.1:8123"
    limits = {"127.0.0.1:8123": {"badge_meta": "8/1.004s"}, "eu.api.capillarytech.com": {}}
    assert remembered_at(limits, "127.0.0.1:8123") == {"badge_meta": Rate(8, 1.004)}
    assert remembered_at(limits, "127.0.0.1:9999") == {}


def test_an_unreadable_remembered_limit_names_the_record_the_api_and_the_host() -> None:
    with pytest.raises(RateSpecError, match="night record's limit of badge_meta at h:1"):
        remembered_at({"h:1": {"badge_meta": "fast"}}, "h:1")


def test_a_budget_wins_then_the_limit_measured_at_the_host_then_the_pace_achieved() -> None:
    rates, sources = rates_per_second(
        {"badge_meta": Rate(60, 60.0)},
        found={"badge_meta": 9.0, "customer_badges": 3.0, "customer_badge_detail": 4.0},
        limits={"badge_meta": 7.0, "customer_badges": 8.0 / 1.004},
    )
    assert rates == {
        "badge_meta": 1.0,
        "customer_badges": pytest.approx(8.0 / 1.004),
        "customer_badge_detail": 4.0,
    }
    assert sources == {
        "badge_meta": "budget 60/min",
        "customer_badges": "limit measured at this host earlier",
        "customer_badge_detail": "measured on the last night",
    }
