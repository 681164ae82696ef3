"""In `kck demo`, a report POSTed through Open311 goes the way of the desk's: the units' e-mails
land in the demo's mailbox folder, each unit answers on the page its link opens, the resident's
e-mail lands beside them, and the portal reads the request closed (issue 15, "Done when")."""

from __future__ import annotations

import asyncio
import re
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import aiohttp

from demo.component import DEMO_PORTAL_KEY
from tests.core.demo_process import running_demo
from tests.open311.conftest import form_token_of, report

MAIL_BOUND_S = 60.0  # the outbox worker sends at once; a bound against a hang on a busy machine


def _read(folder: Path, prefix: str) -> list[Message]:
    return [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob(f"{prefix}*.eml"))]


async def mails(folder: Path, prefix: str, count: int) -> list[Message]:
    """The demo's .eml files whose names start with `prefix`, once there are `count` of them."""
    async with asyncio.timeout(MAIL_BOUND_S):
        # another process writes the folder: no event to wait on, so it is looked at again
        while len(found := await asyncio.to_thread(_read, folder, prefix)) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    return found


def body_of(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def test_a_portal_report_in_the_demo_reaches_its_units_and_the_resident(
    tmp_path: Path,
) -> None:
    async with running_demo(tmp_path) as demo, aiohttp.ClientSession() as http:
        api = f"{demo.url}/open311/v2"
        async with http.post(
            f"{api}/requests.json", data={"api_key": DEMO_PORTAL_KEY, **report()}
        ) as posted:
            assert posted.status == 201, await posted.text()
            number = (await posted.json())[0]["service_request_id"]
        mailbox = tmp_path / "var" / "demo" / "mail"
        notices = await mails(mailbox, f"unit_{number}", 3)
        for notice in notices:
            # the demo on port 0 writes its links with port 0 (mail.public_url): the path counts
            found = re.search(r"http://127\.0\.0\.1:\d+(/unit/matter/\S+)", body_of(notice))
            assert found, body_of(notice)
            link = demo.url + found.group(1)
            async with http.get(link) as page:
                token = form_token_of(await page.text())
            form = {"form_token": token, "action": "answer", "text": f"Odpowiedź {notice['To']}"}
            async with http.post(link, data=form) as answered:
                assert answered.status == 200, await answered.text()
        [resident] = await mails(mailbox, f"resident_{number}", 1)
        assert resident["To"] == "anna@example.org"
        assert "Odpowiedź kck-zzm@krakow.example" in body_of(resident)
        async with http.get(
            f"{api}/requests/{number}.json", params={"api_key": DEMO_PORTAL_KEY}
        ) as read:
            [request] = await read.json()
        assert request["status"] == "closed"
        assert "Odpowiedź kck-wks@krakow.example" in request["status_notes"]
