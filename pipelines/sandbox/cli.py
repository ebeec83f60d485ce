"""`python -m pipelines.sandbox serve ...`: the sandbox as a standalone server.

The first stdout line is JSON, `{"base_url": "http://127.0.0.1:PORT"}`, for programs
that start it; the lines after it tell a person how to point the pipeline at it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from pipelines.sandbox.app import SandboxApp
from pipelines.sandbox.credentials import SandboxCredentials
from pipelines.sandbox.faults import Faults, SandboxStats
from pipelines.sandbox.generate import generate_org
from pipelines.sandbox.server import SECRET_ENV, bind_loopback, uvicorn_server
from pipelines.sandbox.vendor_world import VendorWorld

WORLDS = ("generated", "vendor")

DEFAULTS = SandboxCredentials()


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the `serve` options (data, credentials, faults) to a parser."""
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--world",
        choices=WORLDS,
        default="generated",
        help="generated: a deterministic org of --customers and --badges; vendor: the org "
        "made of the vendor's documented examples",
    )
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--badges", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD")
    parser.add_argument("--username", default=DEFAULTS.username)
    parser.add_argument(
        "--password", default=None, help=f"default: ${SECRET_ENV['password']} or the built-in one"
    )
    parser.add_argument("--client-key", default=DEFAULTS.client_key)
    parser.add_argument(
        "--client-secret",
        default=None,
        help=f"default: ${SECRET_ENV['client_secret']} or the built-in one",
    )
    parser.add_argument("--token-ttl", type=float, default=DEFAULTS.token_ttl_seconds)
    parser.add_argument("--customers-csv", type=Path, default=None, help="write customers here")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument(
        "--rate-limit",
        default=None,
        help="per API per fixed window, as the vendor states it: 100/min, 20/2s, "
        "or customer_badges=600/min,badge_meta=60/min (default: no limit)",
    )
    parser.add_argument(
        "--no-retry-after",
        dest="retry_after",
        action="store_false",
        help="answer 429 without a Retry-After header",
    )
    parser.add_argument(
        "--revoke-after", type=int, default=0, help="credentials stop working after N requests"
    )
    parser.add_argument("--reset-rate", type=float, default=0.0)
    parser.add_argument("--truncate-rate", type=float, default=0.0)
    parser.add_argument("--drift", action="store_true")
    parser.add_argument(
        "--new-key",
        default=None,
        metavar="KEY=JSON",
        help='every badge answered (meta, detail, list entry) carries KEY, e.g. badgeTier="GOLD"',
    )
    parser.add_argument(
        "--renamed-earns",
        action="store_true",
        help="every earn answered carries its keys under other names (earnId -> id, ...)",
    )
    parser.add_argument("--fault-seed", type=int, default=0)


def credentials_from(args: argparse.Namespace) -> SandboxCredentials:
    return SandboxCredentials(
        username=args.username,
        password=args.password or os.environ.get(SECRET_ENV["password"]) or DEFAULTS.password,
        client_key=args.client_key,
        client_secret=args.client_secret
        or os.environ.get(SECRET_ENV["client_secret"])
        or DEFAULTS.client_secret,
        token_ttl_seconds=args.token_ttl,
    )


def faults_from(args: argparse.Namespace) -> Faults:
    return Faults(
        latency_ms=args.latency_ms,
        fail_rate=args.fail_rate,
        rate_limit=args.rate_limit,
        retry_after=args.retry_after,
        revoke_after=args.revoke_after,
        reset_rate=args.reset_rate,
        truncate_rate=args.truncate_rate,
        drift=args.drift,
        new_key=args.new_key,
        renamed_earns=args.renamed_earns,
        seed=args.fault_seed,
    )


def _print_instructions(base_url: str, credentials: SandboxCredentials, csv: Path | None) -> None:
    lines = [
        f"Sandbox Badges API listening on {base_url}",
        f"  username: {credentials.username}   password: {credentials.password}",
        f"  client key: {credentials.client_key}   client secret: {credentials.client_secret}",
        "To point the pipeline at it:",
        f"  export CAPILLARY_BASE_URL={base_url}",
        f"  export CAPILLARY_USERNAME={credentials.username}",
        f"  export CAPILLARY_PASSWORD={credentials.password}",
        f"  export CAPILLARY_CLIENT_KEY={credentials.client_key}",
        f"  export CAPILLARY_CLIENT_SECRET={credentials.client_secret}",
    ]
    if csv is not None:
        lines.append(f"  export CAPILLARY_CUSTOMERS={csv.resolve()}")
    print("\n".join(lines), flush=True)


def serve(args: argparse.Namespace) -> int:
    """Generates the org, binds loopback, prints the base URL line, serves until stopped."""
    try:
        faults = faults_from(args)
        sock = bind_loopback(args.host, args.port)
    except (OSError, ValueError) as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    org, world = None, None
    if args.world == "vendor":
        world = VendorWorld()
    else:
        org = generate_org(args.customers, args.badges, args.seed, args.as_of)
    if args.customers_csv is not None:
        (world or org).write_customers_csv(args.customers_csv)
    credentials = credentials_from(args)
    host, port = sock.getsockname()[:2]
    base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    print(json.dumps({"base_url": base_url}), flush=True)
    _print_instructions(base_url, credentials, args.customers_csv)
    app = SandboxApp(org, credentials, faults, SandboxStats(), world)
    uvicorn_server(app).run(sockets=[sock])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(commands.add_parser("serve", help="run the sandbox Badges API"))
    args = parser.parse_args(argv)
    return serve(args)
