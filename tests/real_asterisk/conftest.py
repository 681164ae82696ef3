"""Fixtures for the tests against a real Asterisk (marker `asterisk`).

One Asterisk per test run, loaded with exactly what `kck asterisk config` writes for a test
installation (plus free ports and an observer AMI user); a fresh `kck serve` per test on a
copy of that installation (its own database and private Redis), SIPp phones and callers, and
agents signed in through the desk. Where there is no Asterisk the tests are skipped with one line.
How a site is assembled is in `tests.real_asterisk.sites` (shared with `bench/real_asterisk.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest

from tests.real_asterisk.nodes import Nodes, open_nodes
from tests.real_asterisk.pbx import find_asterisk
from tests.real_asterisk.sipp import sipp_binary
from tests.real_asterisk.sites import (
    AGENTS,
    HOTLINE,
    PREFIX,
    PBXSite,
    Site,
    open_site,
    start_pbx_site,
)
from tests.services import start_redis

__all__ = ["AGENTS", "HOTLINE", "PREFIX", "PBXSite", "Site"]

HERE = Path(__file__).parent


# pytest-timeout counts fixture set-up: the test that starts the run's Asterisk (up to ~100 s on a
# loaded machine, beside the rest of the suite) needs more than the suite's 120 s
TIMEOUT_S = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.asterisk)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(TIMEOUT_S))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def real_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PBXSite]:
    install = find_asterisk()
    if isinstance(install, str):
        pytest.skip(install)
    # two FastAGI addresses in the dialplan: the two-node tests (tests.real_asterisk.nodes)
    site = start_pbx_site(install, tmp_path_factory.mktemp("real-asterisk"), nodes=2)
    if sipp_binary() is None:  # start-asterisk installs sip-tester; a foreign install may not
        site.pbx.stop()
        pytest.skip("sipp is not installed (Debian package sip-tester)")
    try:
        yield site
    finally:
        site.pbx.stop()


@pytest.fixture
async def site(
    real_pbx: PBXSite, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Site]:
    """`@pytest.mark.recordings({"pl/queue_press_1_callback": 20})`: prompts of other lengths."""
    marker = request.node.get_closest_marker("recordings")
    recordings = dict(marker.args[0]) if marker else None

    def failed() -> bool:
        return request.node.stash.get(_FAILED, False)

    async with open_site(real_pbx, tmp_path, recordings, failed=failed) as world:
        yield world


@pytest.fixture
async def two_nodes(
    real_pbx: PBXSite, tmp_path: Path, postgres_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Nodes]:
    """Two `kck serve` nodes on the one Asterisk, sharing a Redis of this test's own (restartable:
    `two_nodes.redis_server`; indirect parameter True: with AOF persistence) and a PostgreSQL
    database (tests.real_asterisk.nodes)."""
    appendonly = bool(getattr(request, "param", False))
    redis_server = start_redis(tmp_path / "shared-redis", appendonly=appendonly)

    def failed() -> bool:
        return request.node.stash.get(_FAILED, False)

    try:
        async with open_nodes(
            real_pbx, tmp_path, redis_server, postgres_url, failed=failed
        ) as nodes:
            yield nodes
    finally:
        redis_server.stop()
