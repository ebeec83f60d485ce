"""Page-number pagination, verified rather than trusted.

The customer-badge lists are paged with 0-based `page` and `limit`, and usually say
`data.pagination = {page, size, total, totalPages}`; single-page answers may omit it.
Pages are fetched concurrently once the first one tells how many there are. The
result is checked: the distinct entries must number `total` with no duplicates
across pages. When order shifted between page requests (an item inserted or removed
elsewhere moves everything along), the whole list is fetched again in one request;
what still does not add up is reported as a mismatch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.client.endpoints import PageNumberPaging
from pipelines.client.http import ApiResponse

FetchPage = Callable[[int, int], Awaitable[ApiResponse]]  # (page, limit) -> response


@dataclass
class PagedList:
    pages: list[tuple[int, ApiResponse]]  # (page number, response) kept for the archive
    entries: list[dict[str, Any]]  # distinct, in list order
    total: int | None  # what the API said, when it said it
    refetched: bool = False
    discarded_pages: int = 0
    mismatch: str | None = None
    problems: list[str] = field(default_factory=list)


def _items(response: ApiResponse, key: str) -> list[dict[str, Any]]:
    data = response.data.get("data") if isinstance(response.data, dict) else None
    items = data.get(key) if isinstance(data, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _pagination(response: ApiResponse) -> dict[str, Any] | None:
    data = response.data.get("data") if isinstance(response.data, dict) else None
    pagination = data.get("pagination") if isinstance(data, dict) else None
    return pagination if isinstance(pagination, dict) else None


class PageNumberPaginator:
    def __init__(self, page_size: int, paging: PageNumberPaging, max_pages: int = 10_000):
        self.page_size = page_size
        self.items_key = paging.items_key
        self.id_key = paging.id_key
        self.max_pages = max_pages

    async def fetch_all(self, fetch: FetchPage) -> PagedList:
        first = await fetch(0, self.page_size)
        pagination = _pagination(first)
        if pagination is None:
            pages = await self._fetch_until_short(fetch, first)
            return self._verify(pages, total=None)
        total_pages = int(pagination.get("totalPages") or 1)
        rest = await asyncio.gather(*(fetch(p, self.page_size) for p in range(1, total_pages)))
        pages = [(0, first), *zip(range(1, total_pages), rest, strict=True)]
        result = self._verify(pages, total=_int(pagination.get("total")))
        if result.mismatch is None or result.total is None:
            return result
        whole = await fetch(0, max(result.total, self.page_size))
        repaired = self._verify([(0, whole)], total=_int((_pagination(whole) or {}).get("total")))
        repaired.refetched = True
        repaired.discarded_pages = len(pages)
        if repaired.mismatch:
            repaired.problems.append(f"first attempt: {result.mismatch}")
        return repaired

    async def _fetch_until_short(
        self, fetch: FetchPage, first: ApiResponse
    ) -> list[tuple[int, ApiResponse]]:
        pages = [(0, first)]
        response = first
        while len(_items(response, self.items_key)) >= self.page_size:
            if len(pages) >= self.max_pages:
                break
            response = await fetch(len(pages), self.page_size)
            if not _items(response, self.items_key):
                break
            pages.append((len(pages), response))
        return pages

    def _verify(self, pages: list[tuple[int, ApiResponse]], total: int | None) -> PagedList:
        """An entry met again on a later page means the order shifted between requests; one
        the same page repeats is the vendor's own repeat (the normalizer resolves it), which
        `total` may count."""
        seen: set[Any] = set()
        entries: list[dict[str, Any]] = []
        duplicates = repeats = 0
        for _, response in pages:
            on_page: set[Any] = set()
            for item in _items(response, self.items_key):
                key = item.get(self.id_key)
                if key in on_page:
                    repeats += 1
                    continue
                on_page.add(key)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                entries.append(item)
        mismatch = None
        if duplicates or (
            total is not None and total not in (len(entries), len(entries) + repeats)
        ):
            mismatch = (
                f"pagination said total {total}, pages held {len(entries)} distinct "
                f"entries and {duplicates} duplicates"
            )
        return PagedList(pages, entries, total, mismatch=mismatch)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
