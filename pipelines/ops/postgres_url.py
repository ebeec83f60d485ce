"""DAGSTER_POSTGRES_URL as hosted PostgreSQL services hand it out (postgresql://...).

SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, which is not installed and whose
server-side parameters dagster-postgres's statements do not work with; the project installs
psycopg2. The URL is rewritten in the environment before any instance loads, so this process
and every run or daemon it starts read the same, usable URL."""

from __future__ import annotations

from collections.abc import MutableMapping
from urllib.parse import urlsplit

VARIABLE = "DAGSTER_POSTGRES_URL"
DRIVER_SCHEME = "postgresql+psycopg2"
_BARE_SCHEMES = {"postgresql", "postgres"}


class UnusablePostgresUrl(ValueError):
    """The URL names no PostgreSQL database that Dagster can reach with the installed driver."""


def with_installed_driver(url: str) -> str:
    """`url` with the psycopg2 driver: bare postgresql:// (or postgres://) gains it, a URL
    naming psycopg2 stays, anything else is refused. The message never repeats the URL (it
    may hold a password)."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator or not rest:
        raise UnusablePostgresUrl(f"{VARIABLE} is not a URL; expected postgresql://USER@HOST/DB")
    scheme = scheme.lower()
    if scheme == DRIVER_SCHEME:
        return url.strip()
    if scheme not in _BARE_SCHEMES:
        raise UnusablePostgresUrl(
            f"{VARIABLE} has the scheme {scheme}://; expected postgresql:// or {DRIVER_SCHEME}://"
        )
    usable = f"{DRIVER_SCHEME}://{rest}"
    try:
        parts = urlsplit(usable)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise UnusablePostgresUrl(f"{VARIABLE} has a malformed host or port") from None
    if not parts.hostname and "host=" not in parts.query:
        raise UnusablePostgresUrl(f"{VARIABLE} names no host")
    return usable


def use_installed_driver(environ: MutableMapping[str, str]) -> None:
    """Rewrites `environ`'s DAGSTER_POSTGRES_URL, when set, to the installed driver."""
    url = environ.get(VARIABLE)
    if url:
        environ[VARIABLE] = with_installed_driver(url)
