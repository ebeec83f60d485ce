"""Alerts: a failed night or a stale warehouse, told to a Slack-compatible webhook.

Every alert is logged. It is also posted as `{"text": ...}` to `BADGES_ALERT_WEBHOOK` when
that is set. Posting never raises into the caller and gives up after a few seconds: an
alert that cannot be delivered is logged as such, and the sensor that sent it carries on.
No secret reaches an alert: the texts are built from run metadata, and `redact` removes the
value of every secret variable (the webhook URL included) from whatever is logged or sent.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

WEBHOOK_VARIABLE = "BADGES_ALERT_WEBHOOK"
UI_URL_VARIABLE = "BADGES_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
SECRET_VARIABLES = (
    "CAPILLARY_PASSWORD",
    "CAPILLARY_CLIENT_KEY",
    "CAPILLARY_CLIENT_SECRET",
    WEBHOOK_VARIABLE,
)
POST_TIMEOUT_SECONDS = 5.0
MASK = "***"
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
_HEADER_VALUE = re.compile(
    r"(?i)((?:authorization|x-cap-api-oauth-token)[\"']?\s*[:=]\s*[\"']?(?:basic\s+|bearer\s+)?)"
    r"[^\s\"',}]+"
)

logger = logging.getLogger("badges.alerts")


def redact(
    text: str, extra_secrets: Iterable[str] = (), environ: Mapping[str, str] = os.environ
) -> str:
    """`text` without any secret: secret variables' values, URL passwords, auth header values."""
    secrets = [environ.get(name, "") for name in SECRET_VARIABLES] + list(extra_secrets)
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(MASK + "@", text)
    return _HEADER_VALUE.sub(lambda m: m.group(1) + MASK, text)


def webhook_host(url: str) -> str:
    """The part of a webhook URL that is safe to show: scheme and host (the path is a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "(not a URL)"


def ui_url(environ: Mapping[str, str] = os.environ) -> str:
    return (environ.get(UI_URL_VARIABLE) or DEFAULT_UI_URL).rstrip("/")


def run_link(run_id: str, environ: Mapping[str, str] = os.environ) -> str:
    return f"{ui_url(environ)}/runs/{run_id}"


def post_alert(
    text: str,
    webhook: str | None = None,
    log: logging.Logger | logging.LoggerAdapter | None = None,
    timeout: float = POST_TIMEOUT_SECONDS,
) -> bool:
    """Logs the alert and posts it to the webhook (default: $BADGES_ALERT_WEBHOOK).

    Returns whether it was delivered. Never raises.
    """
    log = log or logger
    url = webhook if webhook is not None else os.environ.get(WEBHOOK_VARIABLE, "")
    text = redact(text, extra_secrets=[url])
    log.warning(f"alert: {text}")
    if not url:
        return False
    try:
        answer = httpx.post(url, json={"text": text}, timeout=timeout)
    except Exception as error:  # a broken webhook must never break the caller
        reason = redact(f"{type(error).__name__}: {error}", extra_secrets=[url])
        log.error(f"alert not posted to {webhook_host(url)}: {reason}")
        return False
    if answer.status_code >= 300:
        log.error(f"alert not posted to {webhook_host(url)}: HTTP {answer.status_code}")
        return False
    return True


@dataclass(frozen=True)
class FailedRun:
    """What an alert says about a failed run."""

    job: str
    run_id: str
    partition: str | None
    reason: str
    attempt: int = 1  # 1 for the first run, 2 for its first retry...
    retried_automatically: bool = True  # False for `badges run`, which runs in its own process


def failure_text(run: FailedRun, environ: Mapping[str, str] = os.environ) -> str:
    partition = run.partition or "(no partition)"
    attempts = f" after {run.attempt} attempts" if run.attempt > 1 else ""
    lines = [
        f"badges: {run.job} failed for {partition}{attempts}",
        f"reason: {run.reason}",
        f"run: {run_link(run.run_id, environ)}",
    ]
    if not run.retried_automatically and run.partition:
        lines.append(f"not retried automatically: run `badges run --date {run.partition}` again")
    return "\n".join(lines)
