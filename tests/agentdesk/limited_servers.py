"""kck's web server and FastAGI server in a process limited to few descriptors (issue 18 point 2).

    python -m tests.agentdesk.limited_servers NOFILE guarded|plain [HEADER_TIMEOUT_S] [FD_RESERVE]

`guarded`: the web server of kck (`agentdesk.web_server.GuardedAppRunner`); `plain`: aiohttp's
own AppRunner, the web server before the guard. Prints "<web port> <FastAGI port>" once both
listen; `GET /` answers "ok"; the FastAGI route `ivr` sets SERVED=1. Runs until killed.
"""

from __future__ import annotations

import asyncio
import resource
import sys

from aiohttp import web

from agentdesk.web_server import GuardedAppRunner
from asterisk.agi import AGISession, FastAGIServer
from kck.settings import HTTPSettings


async def hello(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def served(session: AGISession) -> None:
    await session.set_variable("SERVED", "1")


async def main(argv: list[str]) -> None:
    limit, mode = int(argv[0]), argv[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    app = web.Application()
    app.router.add_get("/", hello)
    if mode == "guarded":
        http = HTTPSettings(
            header_timeout_s=float(argv[2]) if len(argv) > 2 else 10.0,
            keepalive_timeout_s=float(argv[2]) if len(argv) > 2 else 15.0,
            fd_reserve=int(argv[3]) if len(argv) > 3 else 256,
        )
        runner: web.AppRunner = GuardedAppRunner(app, http)
    else:
        runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    agi = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    agi.add_route("ivr", served)
    await agi.start()
    print(site.port, agi.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
