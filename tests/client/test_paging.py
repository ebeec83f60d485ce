import asyncio

import pytest

from pipelines.client.endpoints import LIST_ENDPOINT
from pipelines.client.http import ApiResponse
from pipelines.client.paging import PageNumberPaginator


class PagedSource:
    """A fake paged list endpoint: serves `items` in pages, optionally shifting between calls."""

    def __init__(self, items: list[str], *, with_pagination: bool = True, shift: int = 0):
        self.items = items
        self.with_pagination = with_pagination
        self.shift = shift
        self.calls: list[tuple[int, int]] = []

    async def fetch(self, page: int, limit: int) -> ApiResponse:
        self.calls.append((page, limit))
        offset = self.shift * (len(self.calls) - 1) if limit < len(self.items) else 0
        order = self.items[offset % len(self.items) :] + self.items[: offset % len(self.items)]
        chunk = order[page * limit : (page + 1) * limit]
        data: dict = {"badges": [{"badgeMetaId": i} for i in chunk]}
        if self.with_pagination:
            total_pages = -(-len(self.items) // limit)
            data["pagination"] = {
                "page": page,
                "size": limit,
                "total": len(self.items),
                "totalPages": total_pages,
            }
        return ApiResponse("/list", 200, b"", {"data": data}, attempts=1)


def fetch_all(source: PagedSource, page_size: int):
    paginator = PageNumberPaginator(page_size, LIST_ENDPOINT.paging)
    return asyncio.run(paginator.fetch_all(source.fetch))


ITEMS = [f"b{i:02d}" for i in range(23)]


def test_fetches_every_page_once_and_keeps_order():
    source = PagedSource(ITEMS)
    result = fetch_all(source, 10)
    assert [e["badgeMetaId"] for e in result.entries] == ITEMS
    assert sorted(source.calls) == [(0, 10), (1, 10), (2, 10)]
    assert result.total == 23 and result.mismatch is None and not result.refetched
    assert [page for page, _ in result.pages] == [0, 1, 2]


def test_without_pagination_block_pages_until_a_short_page():
    source = PagedSource(ITEMS, with_pagination=False)
    result = fetch_all(source, 10)
    assert [e["badgeMetaId"] for e in result.entries] == ITEMS
    assert source.calls == [(0, 10), (1, 10), (2, 10)]
    assert result.total is None


def test_single_short_page_without_pagination_is_one_call():
    source = PagedSource(ITEMS[:4], with_pagination=False)
    result = fetch_all(source, 10)
    assert len(result.entries) == 4 and source.calls == [(0, 10)]


def test_drift_between_pages_is_detected_and_repaired_by_one_whole_list_request():
    source = PagedSource(ITEMS, shift=3)
    result = fetch_all(source, 10)
    assert result.refetched and result.discarded_pages == 3
    assert result.mismatch is None
    assert [e["badgeMetaId"] for e in result.entries] == ITEMS
    assert source.calls[-1] == (0, 23)


@pytest.mark.parametrize("page_size", [1, 5, 23, 50])
def test_any_page_size_gives_the_whole_list(page_size):
    result = fetch_all(PagedSource(ITEMS), page_size)
    assert [e["badgeMetaId"] for e in result.entries] == ITEMS


def test_an_entry_a_page_repeats_is_no_shifted_order_whether_the_total_counts_it_or_not():
    source = PagedSource(["b0", "b1", "b0", "b2"])  # its pagination says total 4
    result = fetch_all(source, 10)
    assert result.mismatch is None and not result.refetched and source.calls == [(0, 10)]
    assert [e["badgeMetaId"] for e in result.entries] == ["b0", "b1", "b2"]
    paginator = PageNumberPaginator(10, LIST_ENDPOINT.paging)
    assert paginator._verify(result.pages, total=3).mismatch is None  # total of distinct ones
    assert paginator._verify(result.pages, total=5).mismatch is not None


def test_an_entry_on_two_pages_is_fetched_again_whole_and_then_a_repeat_of_the_vendor():
    source = PagedSource(["b0", "b1", "b0"])  # on pages 0 and 1 of size 2, total 3
    result = fetch_all(source, 2)
    assert result.refetched and result.mismatch is None
    assert source.calls[-1] == (0, 3)
    assert [e["badgeMetaId"] for e in result.entries] == ["b0", "b1"]


def test_a_shift_that_repeats_an_entry_on_two_pages_is_still_a_mismatch():
    source = PagedSource(ITEMS, shift=3)
    paginator = PageNumberPaginator(10, LIST_ENDPOINT.paging)
    pages = [(page, asyncio.run(source.fetch(page, 10))) for page in range(3)]
    assert paginator._verify(pages, total=23).mismatch is not None
