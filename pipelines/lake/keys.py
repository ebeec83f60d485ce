"""Whose rows these are: the identities the archive, the checkpoint and the night record use."""

from __future__ import annotations

from dataclasses import dataclass

CustomerKey = tuple[str, str]  # (customer_id, identifier_type)
PairKey = tuple[str, str, str]  # (customer_id, identifier_type, badge_id)


@dataclass(frozen=True)
class CustomerRef:
    """A customer as the API is asked about it: an id of some identifier type."""

    customer_id: str
    identifier_type: str = "id"

    @property
    def key(self) -> CustomerKey:
        return (self.customer_id, self.identifier_type)
