"""Extract one night: customers' lists, then the badges and pairs they reveal.

Two stages run side by side, each API at its own pace: list workers page a customer's
four lists concurrently and queue its (customer, badge) pairs; detail workers take
them, fetching the pair's detail or reusing the last one (see `incremental`). Each
badge seen for the first time schedules its meta call. Every answer goes to the
checkpoint (see `checkpoint`) as it arrives, so memory holds only the work in progress
and a stopped run resumes where it was. A call that fails for good becomes a failed
record (an `extract_errors` row later) and the run goes on, until the failures can no
longer pass the publish gate (see `gate`); refused credentials or an API that is down
stop it at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from typing import Any

from pipelines.client.endpoints import (
    DETAIL_ENDPOINT,
    LIST_ENDPOINT,
    LIST_TYPES,
    META_ENDPOINT,
)
from pipelines.client.errors import (
    PAGINATION,
    PAGINATION_MISMATCH,
    ApiCallFailed,
    ApiUnavailable,
    AuthenticationFailed,
)
from pipelines.client.http import ApiClient, ApiResponse
from pipelines.client.paging import PagedList, PageNumberPaginator
from pipelines.extract.gate import CallTally, SnapshotRefused, doomed
from pipelines.extract.incremental import DetailPlan, entries_digest, fingerprint, meta_stamp
from pipelines.extract.outcome import ExtractReport, GateWatch
from pipelines.extract.progress import ProgressCallback, ProgressTracker
from pipelines.extract.raw_records import failure_record, ok_record
from pipelines.extract.resume import Resumed
from pipelines.lake.checkpoint import CheckpointWriter
from pipelines.lake.keys import CustomerRef
from pipelines.lake.raw import RawRecord

PENDING_PAIRS = 20_000  # pairs queued for the detail stage before listing waits
FETCHED, ANSWERED, NO_ANSWER = "fetched", "answered", "no answer"


def _first_leaf(group: BaseExceptionGroup) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


class _Customer:
    """A customer in progress: done when its lists and every pair's detail are."""

    def __init__(self, ref: CustomerRef, pairs: int) -> None:
        self.ref = ref
        self.remaining = pairs


class SnapshotExtractor:
    def __init__(
        self,
        client: ApiClient,
        writer: CheckpointWriter,
        customers: list[CustomerRef],
        *,
        snapshot_date: dt.date,
        resumed: Resumed | None = None,
        plan: DetailPlan | None = None,
        gate: GateWatch | None = None,
        describe_badges: list[str] | None = None,
        on_progress: ProgressCallback | None = None,
        progress_every: float = 2.0,
    ) -> None:
        self.client = client
        self.writer = writer
        self.customers = customers
        self.snapshot_date = snapshot_date
        self.resumed = resumed or Resumed()
        self.plan = plan
        self.gate = gate
        page_size = client.settings.tuning.page_size
        self.paginator = PageNumberPaginator(page_size, LIST_ENDPOINT.paging)
        self.progress = ProgressTracker(len(customers), client.stats)
        self._on_progress = on_progress
        self._progress_every = progress_every
        self._metas: dict[str, asyncio.Task[bytes | None]] = {}
        self._describe = describe_badges or []  # badges to fetch meta for, listed or not
        self.report = ExtractReport(customers=len(customers))
        self.report.calls_resumed = self.resumed.answered_calls
        self._pagination_failures = 0

    async def run(self) -> ExtractReport:
        started = time.monotonic()
        tick = min(1.0, self.writer.checkpoint_seconds)
        background = [asyncio.create_task(self._checkpoint_every(tick))]
        if self._on_progress is not None:
            background.append(
                asyncio.create_task(
                    self.progress.report_every(self._progress_every, self._on_progress)
                )
            )
        try:
            await self._run_stages()
        finally:
            for task in (*background, *self._metas.values()):
                task.cancel()
            self.writer.flush()  # whatever was answered is kept for a rerun
        return self._finish(time.monotonic() - started)

    async def _run_stages(self) -> None:
        for badge_id in self._describe:
            self._meta_task(badge_id)
        customers: asyncio.Queue[CustomerRef] = asyncio.Queue()
        for customer in self.customers:
            customers.put_nowait(customer)
        pairs: asyncio.Queue[tuple[_Customer, str, bytes] | None] = asyncio.Queue(PENDING_PAIRS)
        workers = min(self.client.settings.tuning.concurrency, max(len(self.customers), 1))
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._list_stage(customers, pairs, workers))
                for _ in range(workers):
                    group.create_task(self._detail_worker(pairs))
            await asyncio.gather(*self._metas.values())
        except* (AuthenticationFailed, ApiUnavailable, SnapshotRefused) as stopped:
            raise _first_leaf(stopped) from None  # every worker meets the same condition

    async def _checkpoint_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.writer.flush_if_due()

    def _finish(self, seconds: float) -> ExtractReport:
        stats, report = self.client.stats, self.report
        report.badges = len(self._metas) + len(
            set(self.resumed.meta_stamps).difference(self._metas)
        )
        report.calls = Counter(stats.calls)
        report.requests, report.retries = stats.sent, stats.retries
        report.throttled_429 = stats.throttled
        tally = self.tally()
        report.failures_by_kind, report.answered_calls = tally.failed, tally.answered
        report.failed_calls = tally.failed_calls
        report.vendor_answers = stats.vendor_answers
        report.token_renewals = self.client.token_renewals
        report.bytes_received = stats.bytes_received
        report.raw_records = self.writer.records_written
        report.seconds = seconds
        report.found_rates = {
            api: throttle.found_rates[-1]
            for api, throttle in self.client.throttles.by_api.items()
            if throttle.found_rates
        }
        report.limits = {
            api: limit
            for api, throttle in self.client.throttles.by_api.items()
            if (limit := throttle.measured) is not None
        }
        if self._on_progress is not None:
            self._on_progress(self.progress.figures())
        return report

    def tally(self) -> CallTally:
        stats = self.client.stats
        failed = Counter(stats.failed)
        if self._pagination_failures:
            failed[PAGINATION] += self._pagination_failures
        answered = self.resumed.answered_calls + stats.calls.total() - stats.failed_calls
        return CallTally(answered=answered, failed=failed)

    # -- the list stage ----------------------------------------------------------------

    async def _list_stage(
        self,
        customers: asyncio.Queue[CustomerRef],
        pairs: asyncio.Queue[tuple[_Customer, str, bytes] | None],
        workers: int,
    ) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(self._list_worker(customers, pairs))
        for _ in range(workers):
            await pairs.put(None)

    async def _list_worker(
        self,
        customers: asyncio.Queue[CustomerRef],
        pairs: asyncio.Queue[tuple[_Customer, str, bytes] | None],
    ) -> None:
        while not customers.empty():
            ref = customers.get_nowait()
            listed = self.resumed.listed.get(ref.key)
            if listed is None:
                listed = await self._list_customer(ref)
            if listed is None:  # a list got no answer: the customer ends here
                self.progress.customers_done += 1
                continue
            customer = _Customer(ref, len(listed))
            self.report.pairs += len(listed)
            for badge_id, _ in listed:
                self._meta_task(badge_id)
            for badge_id, digest in listed:
                await pairs.put((customer, badge_id, digest))
            if not listed:
                self.progress.customers_done += 1

    async def _list_customer(self, ref: CustomerRef) -> list[tuple[str, bytes]] | None:
        """The customer's pairs with their entries digests; None when a list got no answer.

        The four lists are kept together or not at all: a customer with a list that failed
        keeps its rows of the last snapshot (carried forward, with their `fetched_on`)
        rather than mixing tonight's lists with last night's.
        """
        fetched = await asyncio.gather(*(self._fetch_list(ref, t) for t in LIST_TYPES))
        key = ref.key
        if not all(answered for answered, _, _ in fetched):
            failures = [r for _, _, records in fetched for r in records if not r.ok]
            self.writer.add(failures)
            self.report.unlisted.add(key)
            self._watch_gate()
            return None
        self.writer.add([record for _, _, records in fetched for record in records])
        entries: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for list_type, (_, paged, _) in zip(LIST_TYPES, fetched, strict=True):
            for entry in paged.entries if paged else []:
                if isinstance(entry.get("badgeMetaId"), str):
                    entries.setdefault(entry["badgeMetaId"], []).append((list_type, entry))
        listed = [(badge_id, entries_digest(found)) for badge_id, found in entries.items()]
        self.writer.add_pairs([(*key, b, d) for b, d in listed] or [(*key, None, None)])
        if any(paged and paged.mismatch for _, paged, _ in fetched):
            self._watch_gate()  # an inconsistent list counts against the gate
        return listed

    async def _fetch_list(
        self, customer: CustomerRef, list_type: str
    ) -> tuple[bool, PagedList | None, list[RawRecord]]:
        """(answered, the list, its records); a vendor error answer is answered, no list."""

        async def fetch_page(page: int, limit: int) -> ApiResponse:
            request = LIST_ENDPOINT.request(
                customer=customer, list_type=list_type, page=page, limit=limit
            )
            return await self.client.call(request)

        try:
            paged = await self.paginator.fetch_all(fetch_page)
        except ApiCallFailed as exc:
            self.report.errors_by_code[exc.error_code or exc.kind] += 1
            failure = failure_record(LIST_ENDPOINT.name, exc, customer, list_type=list_type)
            return exc.answered, None, [failure]
        self.report.lists_refetched += paged.refetched
        records = [
            ok_record(LIST_ENDPOINT.name, response, customer, list_type=list_type, page=page)
            for page, response in paged.pages
        ]
        if paged.mismatch:
            message = "; ".join([paged.mismatch, *paged.problems])
            path = LIST_ENDPOINT.request(customer=customer).path
            failure = ApiCallFailed(path, message, kind=PAGINATION, error_code=PAGINATION_MISMATCH)
            records.append(
                failure_record(LIST_ENDPOINT.name, failure, customer, list_type=list_type)
            )
            self.report.errors_by_code[PAGINATION_MISMATCH] += 1
            self._pagination_failures += 1
        return True, paged, records

    # -- badge meta ----------------------------------------------------------------------

    def _meta_task(self, badge_id: str) -> None:
        if badge_id not in self._metas:
            self._metas[badge_id] = asyncio.create_task(self._meta_stamp(badge_id))

    async def _meta_stamp(self, badge_id: str) -> bytes | None:
        """The badge's change stamp (None when its meta has none or failed)."""
        if badge_id in self.resumed.meta_stamps:
            return self.resumed.meta_stamps[badge_id]
        try:
            response = await self.client.call(META_ENDPOINT.request(badge=badge_id))
        except ApiCallFailed as exc:
            self._record_failure(META_ENDPOINT.name, exc, None, badge_id=badge_id)
            return None
        self.writer.add([ok_record(META_ENDPOINT.name, response, None, badge_id=badge_id)])
        data = response.data.get("data") if isinstance(response.data, dict) else None
        return meta_stamp(data) if isinstance(data, dict) else None

    # -- the detail stage ----------------------------------------------------------------

    async def _detail_worker(
        self, pairs: asyncio.Queue[tuple[_Customer, str, bytes] | None]
    ) -> None:
        while (job := await pairs.get()) is not None:
            customer, badge_id, digest = job
            await self._detail(customer.ref, badge_id, digest)
            customer.remaining -= 1
            if customer.remaining == 0:
                self.progress.customers_done += 1

    async def _detail(self, customer: CustomerRef, badge_id: str, digest: bytes) -> None:
        key = (*customer.key, badge_id)
        if key in self.resumed.details_done:
            return
        print_ = fingerprint(digest, await self._metas[badge_id])
        plan = self.plan
        if plan is not None and (known := plan.known(key)) is not None and not plan.due(key):
            self.report.pairs_reusable += 1
            if known[0] == print_:
                self.writer.add_decision((*key, print_, known[1], True))
                self.report.details_reused += 1
                return
            self.report.pairs_changed += 1
        outcome = await self._fetch_detail(customer, badge_id)
        if plan is None:
            return
        if outcome == FETCHED:
            self.writer.add_decision((*key, print_, self.snapshot_date, False))
        elif outcome == NO_ANSWER and (known := plan.known(key)) and plan.has_archive(known[1]):
            # keep the last detail (its fetched_on tells its age), as for a failed list
            self.writer.add_decision((*key, known[0], known[1], True))
            self.report.details_kept += 1

    async def _fetch_detail(self, customer: CustomerRef, badge_id: str) -> str:
        """FETCHED, ANSWERED (a vendor error answer) or NO_ANSWER."""
        detail = DETAIL_ENDPOINT
        try:
            response = await self.client.call(detail.request(customer=customer, badge=badge_id))
        except ApiCallFailed as exc:
            self._record_failure(detail.name, exc, customer, badge_id=badge_id)
            return ANSWERED if exc.answered else NO_ANSWER
        self.writer.add([ok_record(detail.name, response, customer, badge_id=badge_id)])
        return FETCHED

    # -- records -------------------------------------------------------------------------

    def _record_failure(
        self, endpoint: str, exc: ApiCallFailed, customer: CustomerRef | None, **where: Any
    ) -> None:
        self.report.errors_by_code[exc.error_code or exc.kind] += 1
        self.writer.add([failure_record(endpoint, exc, customer, **where)])
        if not exc.answered:
            self._watch_gate()

    def _watch_gate(self) -> None:
        if self.gate is None:
            return
        reason = doomed(self.tally(), self.gate.max_failed_share, self.gate.expected_calls)
        if reason is not None:
            raise SnapshotRefused(f"snapshot refused: {reason}")
