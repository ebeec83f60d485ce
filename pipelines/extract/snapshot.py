"""Extract one snapshot: every customer's lists, then the badges and pairs they reveal.

Customers stream through a pool of workers. For each one the four list types are
paged concurrently; each badge id seen for the first time schedules its meta call,
and each (customer, badge) pair its detail call, while other customers are still
being listed. Every response goes to the raw archive as it arrives, so memory holds
only the customers in progress. A call that fails for good becomes a failed record
(an `extract_errors` row later) and the run goes on; only refused credentials stop it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

from pipelines.client.errors import ApiCallFailed, AuthenticationFailed
from pipelines.client.http import ApiClient, ApiResponse
from pipelines.client.paging import PagedList, PageNumberPaginator
from pipelines.extract.customers import CustomerRef
from pipelines.extract.incremental import DetailPlan, fingerprint, meta_stamp
from pipelines.extract.progress import ProgressCallback, ProgressTracker
from pipelines.raw import (
    ENDPOINT_DETAIL,
    ENDPOINT_LIST,
    ENDPOINT_META,
    RawArchiveWriter,
    RawRecord,
)

LIST_TYPES = ("AVAILABLE_TO_ISSUE", "AVAILABLE", "EARNED", "EXPIRED")
META_PATH = "/api_gateway/v1/badges/badgeMeta/{badge}"
LIST_PATH = "/api_gateway/v1/badges/customer/{customer}"
DETAIL_PATH = "/api_gateway/v1/badges/management/{customer}/badge/{badge}"
IDENTIFIER_HEADER = "X-CAP-CUSTOMER-IDENTIFIER"


@dataclass
class ExtractReport:
    customers: int = 0
    badges: int = 0
    pairs: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    failed_calls: int = 0
    errors_by_code: Counter[str] = field(default_factory=Counter)
    lists_refetched: int = 0
    details_reused: int = 0
    token_renewals: int = 0
    bytes_received: int = 0
    raw_records: int = 0
    seconds: float = 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def identifier_headers(identifier_type: str | None) -> dict[str, str]:
    """The lookup header for a customer not identified by id (none for an id)."""
    if identifier_type in (None, "id"):
        return {}
    return {IDENTIFIER_HEADER: identifier_type}


class SnapshotExtractor:
    def __init__(
        self,
        client: ApiClient,
        writer: RawArchiveWriter,
        customers: list[CustomerRef],
        *,
        on_progress: ProgressCallback | None = None,
        progress_every: float = 2.0,
        plan: DetailPlan | None = None,
    ) -> None:
        self.client = client
        self.writer = writer
        self.customers = customers
        page_size = client.settings.tuning.page_size
        self.paginator = PageNumberPaginator(page_size, items_key="badges", id_key="badgeMetaId")
        self.progress = ProgressTracker(len(customers), client.stats)
        self._on_progress = on_progress
        self._progress_every = progress_every
        self.plan = plan
        self._meta_calls: dict[str, asyncio.Task[bytes | None]] = {}
        self.report = ExtractReport(customers=len(customers))

    async def run(self) -> ExtractReport:
        started = time.monotonic()
        queue: asyncio.Queue[CustomerRef | None] = asyncio.Queue()
        for customer in self.customers:
            queue.put_nowait(customer)
        workers = min(self.client.settings.tuning.concurrency, max(len(self.customers), 1))
        for _ in range(workers):
            queue.put_nowait(None)
        reporter = None
        if self._on_progress is not None:
            reporter = asyncio.create_task(
                self.progress.report_every(self._progress_every, self._on_progress)
            )
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(workers):
                    group.create_task(self._worker(queue))
            await asyncio.gather(*self._meta_calls.values())
        except* AuthenticationFailed as refused:
            raise refused.exceptions[0] from None  # every worker gets the same refusal
        finally:
            if reporter is not None:
                reporter.cancel()
            for task in self._meta_calls.values():
                task.cancel()
        self.writer.flush()
        return self._finish(time.monotonic() - started)

    def _finish(self, seconds: float) -> ExtractReport:
        stats, report = self.client.stats, self.report
        report.badges = len(self._meta_calls)
        report.details_reused = self.plan.reused if self.plan else 0
        report.calls = Counter(stats.calls)
        report.requests, report.retries = stats.sent, stats.retries
        report.throttled, report.failed_calls = stats.throttled, stats.failed
        report.token_renewals = self.client.token_renewals
        report.bytes_received = stats.bytes_received
        report.raw_records = self.writer.records_written
        report.seconds = seconds
        if self._on_progress is not None:
            self._on_progress(self.progress.figures())
        return report

    async def _worker(self, queue: asyncio.Queue[CustomerRef | None]) -> None:
        while (customer := queue.get_nowait()) is not None:
            await self._extract_customer(customer)
            self.progress.customers_done += 1

    async def _extract_customer(self, customer: CustomerRef) -> None:
        lists = await asyncio.gather(*(self._fetch_list(customer, t) for t in LIST_TYPES))
        entries: dict[str, list[tuple[str, dict]]] = {}
        for list_type, paged in zip(LIST_TYPES, lists, strict=True):
            for entry in paged.entries if paged else []:
                if isinstance(entry.get("badgeMetaId"), str):
                    entries.setdefault(entry["badgeMetaId"], []).append((list_type, entry))
        for badge_id in entries:
            if badge_id not in self._meta_calls:
                self._meta_calls[badge_id] = asyncio.create_task(self._fetch_meta(badge_id))
        self.report.pairs += len(entries)
        await asyncio.gather(*(self._detail(customer, b, e) for b, e in entries.items()))

    async def _detail(
        self, customer: CustomerRef, badge_id: str, entries: list[tuple[str, dict]]
    ) -> None:
        if self.plan is None:
            await self._fetch_detail(customer, badge_id)
            return
        print_ = fingerprint(entries, await self._meta_calls[badge_id])
        if self.plan.reusable(customer, badge_id, print_):
            self.plan.reuse(customer, badge_id, print_)
        elif await self._fetch_detail(customer, badge_id):
            self.plan.fetched(customer, badge_id, print_)

    async def _fetch_list(self, customer: CustomerRef, list_type: str) -> PagedList | None:
        path = LIST_PATH.format(customer=quote(customer.customer_id, safe="@+"))
        headers = identifier_headers(customer.identifier_type)

        async def fetch_page(page: int, limit: int) -> ApiResponse:
            params = {
                "badgeType": list_type,
                "page": page,
                "limit": limit,
                "includeExpired": "true",
            }
            return await self.client.call(ENDPOINT_LIST, path, params, headers)

        try:
            paged = await self.paginator.fetch_all(fetch_page)
        except ApiCallFailed as exc:
            self._record_failure(ENDPOINT_LIST, exc, customer, list_type=list_type)
            return None
        self.report.lists_refetched += paged.refetched
        for page, response in paged.pages:
            self._record_ok(ENDPOINT_LIST, response, customer, list_type=list_type, page=page)
        if paged.mismatch:
            message = "; ".join([paged.mismatch, *paged.problems])
            failure = ApiCallFailed(path, message, error_code="pagination_mismatch")
            self._record_failure(ENDPOINT_LIST, failure, customer, list_type=list_type)
        return paged

    async def _fetch_meta(self, badge_id: str) -> bytes | None:
        """Archives the badge's meta; returns its change stamp (None when the call failed)."""
        path = META_PATH.format(badge=quote(badge_id, safe=""))
        try:
            response = await self.client.call(ENDPOINT_META, path, {"includeStatistics": "true"})
        except ApiCallFailed as exc:
            self._record_failure(ENDPOINT_META, exc, None, badge_id=badge_id)
            return None
        self._record_ok(ENDPOINT_META, response, None, badge_id=badge_id)
        data = response.data.get("data") if isinstance(response.data, dict) else None
        return meta_stamp(data) if isinstance(data, dict) else None

    async def _fetch_detail(self, customer: CustomerRef, badge_id: str) -> bool:
        path = DETAIL_PATH.format(
            customer=quote(customer.customer_id, safe="@+"), badge=quote(badge_id, safe="")
        )
        params = {"includeStatistics": "true"}
        try:
            response = await self.client.call(
                ENDPOINT_DETAIL, path, params, identifier_headers(customer.identifier_type)
            )
        except ApiCallFailed as exc:
            self._record_failure(ENDPOINT_DETAIL, exc, customer, badge_id=badge_id)
            return False
        self._record_ok(ENDPOINT_DETAIL, response, customer, badge_id=badge_id)
        return True

    def _record_ok(
        self, endpoint: str, response: ApiResponse, customer: CustomerRef | None, **where: object
    ) -> None:
        self._archive(
            endpoint,
            customer,
            request_path=response.path,
            ok=True,
            http_status=response.status,
            body=response.body,
            attempts=response.attempts,
            **where,
        )

    def _record_failure(
        self, endpoint: str, exc: ApiCallFailed, customer: CustomerRef | None, **where: object
    ) -> None:
        self.report.errors_by_code[exc.error_code or f"http_{exc.http_status}"] += 1
        self._archive(
            endpoint,
            customer,
            request_path=exc.path,
            ok=False,
            http_status=exc.http_status,
            body=exc.body,
            attempts=exc.attempts,
            error_code=exc.error_code,
            error_message=exc.message,
            **where,
        )

    def _archive(self, endpoint: str, customer: CustomerRef | None, **fields: object) -> None:
        self.writer.append(
            RawRecord(
                endpoint=endpoint,
                customer_id=customer.customer_id if customer else None,
                identifier_type=customer.identifier_type if customer else None,
                received_at=_now(),
                **fields,  # type: ignore[arg-type]
            )
        )
