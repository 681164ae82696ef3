"""The AMI and FastAGI runtime components built from settings, against real sockets."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from asterisk.agi import AGISession
from asterisk.components import (
    AMIComponent,
    ami_client_from_settings,
    fastagi_server_from_settings,
)
from kck.settings import Settings
from tests.asterisk.ami_peer import ScriptedAMIPeer


async def test_ami_component_reports_connection_and_resync_in_health(settings: Settings) -> None:
    peer = ScriptedAMIPeer()
    await peer.start()
    ami = settings.ami.model_copy(update={"port": peer.port, "secret": SecretStr("kcksecret")})
    component = AMIComponent(ami_client_from_settings(ami))
    try:
        assert component.health()["up"] is False
        await component.start()
        await component.client.wait_connected(5)
        async with asyncio.timeout(5):
            while component.health()["resync_count"] < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        health = component.health()
        assert health["up"] is True
        assert health["state"] == "connected"
        assert health["host"] == f"127.0.0.1:{peer.port}"
    finally:
        await component.stop()
        await peer.stop()
    assert component.health()["state"] == "closed"


async def test_fastagi_server_from_settings_serves_the_given_routes(settings: Settings) -> None:
    answered: list[str] = []

    async def ivr(session: AGISession) -> None:
        answered.append(session.env.uniqueid)

    agi = settings.agi.model_copy(update={"port": 0})
    server = fastagi_server_from_settings(agi, {"ivr": ivr})
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: ivr\nagi_uniqueid: 42.1\n\n")
        assert await reader.readline() == b'SET VARIABLE KCK_DONE "1"\n'
        writer.write(b"200 result=1\n")
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        writer.close()
        assert answered == ["42.1"]
        assert server.sessions_started == 1
    finally:
        await server.stop()
