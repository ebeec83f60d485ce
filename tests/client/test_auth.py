import asyncio
import base64
import hashlib

from pipelines.client.auth import OAuthToken, basic_auth_header
from tests.client.fake_clock import FakeClock


def test_basic_header_sends_md5_hex_of_password():
    header = basic_auth_header("alice", "s3cret")["Authorization"]
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "alice:" + hashlib.md5(b"s3cret").hexdigest()
    assert "s3cret" not in decoded


def test_one_renewal_serves_every_concurrent_waiter():
    clock = FakeClock()
    issued: list[str] = []

    async def fetch() -> tuple[str, float]:
        await asyncio.sleep(0.01)
        issued.append(f"token-{len(issued)}")
        return issued[-1], 300.0

    async def scenario() -> list[dict[str, str]]:
        token = OAuthToken(fetch, clock=clock)
        return await asyncio.gather(*(token.headers() for _ in range(50)))

    headers = asyncio.run(scenario())
    assert issued == ["token-0"]
    assert {h["X-CAP-API-OAUTH-TOKEN"] for h in headers} == {"token-0"}


def test_token_is_renewed_before_expiry_and_after_rejection():
    clock = FakeClock()
    issued: list[str] = []

    async def fetch() -> tuple[str, float]:
        issued.append(f"token-{len(issued)}")
        return issued[-1], 300.0

    async def scenario() -> list[str]:
        token = OAuthToken(fetch, clock=clock)
        seen = [(await token.headers())["X-CAP-API-OAUTH-TOKEN"]]
        clock.now += 295  # inside the renewal margin: never send a token about to expire
        seen.append((await token.headers())["X-CAP-API-OAUTH-TOKEN"])
        rejected = await token.headers()
        await asyncio.gather(*(token.invalidate(rejected) for _ in range(10)))
        seen.append((await token.headers())["X-CAP-API-OAUTH-TOKEN"])
        return seen

    assert asyncio.run(scenario()) == ["token-0", "token-1", "token-2"]
    assert issued == ["token-0", "token-1", "token-2"]
