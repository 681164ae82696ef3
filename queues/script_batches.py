"""The router's script calls from many callers, many to a Redis round trip (`kck.round_trips`).

Each router operation is one script call. Alone, a call goes at once, as it always did; the calls
made while one is out go together as one pipeline (each script atomic as before, in the order
made). A script Redis does not have (a restarted Redis) is loaded and the calls it refused are
sent again, in their order: Redis ran none of them.

With a `library` (the same script as a Redis Function library) and a Redis >= 7, the calls are
FCALLs of the library's function, loaded once (FUNCTION LOAD): the script's helpers are then
built once, not on every call (bench/README.md, issue 20 point 6). On an older Redis, EVALSHA.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, ResponseError

from kck.round_trips import SharedRoundTrips

log = logging.getLogger(__name__)

# the first Redis with functions (FUNCTION LOAD, FCALL)
FUNCTIONS_SINCE = 7


@dataclass(frozen=True)
class FunctionLibrary:
    """A script as a Redis Function library: `code` for FUNCTION LOAD, registering `function`
    (named after the library, which is named after the code: each version its own)."""

    name: str
    code: str

    @property
    def function(self) -> str:
        return self.name


def _function_missing(reply: Any) -> bool:
    return isinstance(reply, ResponseError) and str(reply).startswith("Function not found")


def _refused(reply: Any) -> bool:
    return isinstance(reply, NoScriptError) or _function_missing(reply)


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


class ScriptBatches:
    """`await run(args)`: the script's reply for `args` (ARGV; the script takes no KEYS), or the
    exception Redis answered with."""

    def __init__(
        self, redis: aioredis.Redis, source: str, library: FunctionLibrary | None = None
    ) -> None:
        self.redis = redis
        self.source = source
        self.library = library
        self._script = redis.register_script(source)
        # None until the first call asks the server; then whether calls are FCALLs
        self._functions: bool | None = None if library is not None else False
        self._choosing = asyncio.Lock()
        self._calls: SharedRoundTrips[list[Any]] = SharedRoundTrips(
            redis,
            self._direct,
            self._add,
            name="router-script-batches",
            refused=_refused,
            before_retry=self._load,
        )

    @property
    def sha(self) -> str:
        return str(self._script.sha)

    @property
    def round_trips(self) -> int:
        return self._calls.round_trips

    @property
    def functions(self) -> bool | None:
        """True: calls are FCALLs of the library; False: EVALSHA; None: not known yet."""
        return self._functions

    async def run(self, args: list[Any]) -> Any:
        if self._functions is None:
            await self._choose()
        return await self._calls.run(args)

    async def ensure_loaded(self) -> bool:
        """Make sure Redis has the script (or the library); False when it had to be loaded."""
        if self._functions is None:
            await self._choose()
        if self._functions:
            assert self.library is not None
            # the name is letters, digits and _: as a pattern it matches itself alone
            if await self.redis.function_list(library=self.library.name):
                return True
        elif (await self.redis.script_exists(self.sha))[0]:
            return True
        await self._load()
        return False

    async def _choose(self) -> None:
        async with self._choosing:
            if self._functions is not None:
                return
            try:
                info: Any = await self.redis.info("server")
            except ResponseError as exc:  # e.g. an ACL without INFO: the script, as ever
                log.warning("router script by EVALSHA: Redis refused INFO (%s)", exc)
                self._functions = False
                return
            if _major(str(info.get("redis_version", "0"))) < FUNCTIONS_SINCE:
                self._functions = False
                return
            self._functions = True  # set before loading: _load loads the library
            try:
                await self._load()
            except ResponseError as exc:  # e.g. an ACL without FUNCTION: the script, as ever
                log.warning("router script by EVALSHA: Redis refused FUNCTION LOAD (%s)", exc)
                self._functions = False
            except BaseException:
                self._functions = None  # Redis away: asked again at the next call
                raise

    async def _direct(self, args: list[Any]) -> Any:
        if not self._functions:
            return await self._script(keys=[], args=args)  # redis-py loads a missing script
        assert self.library is not None
        try:
            return await self.redis.fcall(self.library.function, 0, *args)
        except ResponseError as exc:
            if not _function_missing(exc):
                raise
        await self._load()  # Redis lost its functions (a restart without persistence)
        return await self.redis.fcall(self.library.function, 0, *args)

    def _add(self, pipe: Pipeline, args: list[Any]) -> None:
        if self._functions:
            assert self.library is not None
            pipe.fcall(self.library.function, 0, *args)
        else:
            pipe.evalsha(self.sha, 0, *args)

    async def _load(self) -> None:
        if not self._functions:
            await self.redis.script_load(self.source)
            return
        assert self.library is not None
        try:
            await self.redis.function_load(self.library.code)
        except ResponseError as exc:
            if "already exists" not in str(exc):  # another process loaded it meanwhile
                raise
