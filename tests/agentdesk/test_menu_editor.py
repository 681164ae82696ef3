"""The menu editor's routes (`/editor/menus…`) on the real IVR component: who may read and who may
change, a draft checked with line-numbered errors and the scripted tests, tried with keys,
published only when it passes, rolled back, every change audited with who and why."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import agentdesk
from agentdesk.i18n import CATALOGUE
from agentdesk.keys import access_key
from ivr.editing import MenuEditing
from ivr.loader import MenuFiles
from ivr.versions import MenuLibrary, MenuRejected
from kck.controller import build_controller
from kck.db.models import Role
from kck.health import fixed_health
from kck.services import Services
from tests.agentdesk.conftest import sign_in
from tests.agentdesk.menu_editor_world import MenuEditorWorld, main_menu_timeout, menu_editor_world

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def world(services: Services) -> AsyncIterator[MenuEditorWorld]:
    async for made in menu_editor_world(services, serve_agi=False):
        yield made


@pytest.fixture
async def client(
    world: MenuEditorWorld, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    return await aiohttp_client(world.app)


async def editor(world: MenuEditorWorld, client: Client) -> str:
    await world.add_user("redaktor", Role.EDITOR)
    return await sign_in(client, "redaktor", extension="")


async def draft(world: MenuEditorWorld, **changed: str) -> dict[str, str]:
    """The live version's files as the edit form sends them, some replaced."""
    live = await world.editing.live_id()
    assert live is not None
    files = {**await world.editing.files(live), **changed}
    return {f"file:{name}": text for name, text in files.items()}


async def test_supervisor_reads_the_versions_but_may_not_edit_and_an_agent_sees_nothing(
    world: MenuEditorWorld, client: Client
) -> None:
    await world.add_user("kierownik", Role.SUPERVISOR)
    token = await sign_in(client, "kierownik", extension="")
    page = await client.get("/editor/menus")
    assert page.status == 200
    html = await page.text()
    assert "v1@" in html and 'href="/editor/menus/edit"' not in html and "rollback" not in html
    assert (await client.get("/editor/menus/versions/1")).status == 200
    assert (await client.get("/editor/menus/edit", allow_redirects=False)).status == 403
    form = {**await draft(world), "action": "publish", "reason": "x", "csrf_token": token}
    assert (await client.post("/editor/menus/edit", data=form)).status == 403
    assert (
        await client.post(
            "/editor/menus/versions/1/rollback", data={"reason": "x", "csrf_token": token}
        )
    ).status == 403
    # agents sign in only where the desk runs: no route of the editor lets their role in
    rules = world.app[access_key]
    menu_rules = [rule for (_, path), rule in rules.items() if path.startswith("/editor/menus")]
    assert len(menu_rules) == 10  # four pages (each with HEAD) and two changes
    assert all(rule.roles and Role.AGENT not in rule.roles for rule in menu_rules)


async def test_a_draft_with_a_typo_shows_the_error_at_its_line_and_is_not_published(
    world: MenuEditorWorld, client: Client
) -> None:
    token = await editor(world, client)
    files = await draft(world)
    broken = files["file:main.yaml"].replace("fallback: queue_general", "fallback: queue_genral")
    line = (
        broken.splitlines().index(next(x for x in broken.splitlines() if "queue_genral" in x)) + 1
    )
    form = {**files, "file:main.yaml": broken, "csrf_token": token, "reason": "typo"}
    checked = await client.post("/editor/menus/edit", data={**form, "action": "check"})
    html = await checked.text()
    assert checked.status == 200
    assert f"main.yaml:{line}:" in html and "did you mean &#39;queue_general&#39;?" in html
    assert re.search(rf'class="here">\s*{line} │ .*queue_genral', html), "the line itself, marked"
    assert 'id="tests-skipped"' in html and 'id="menu-tests"' not in html
    refused = await client.post("/editor/menus/edit", data={**form, "action": "publish"})
    assert refused.status == 422 and 'id="publish-refused"' in await refused.text()
    assert await world.editing.live_id() == 1


async def test_a_valid_draft_that_fails_a_scripted_test_is_not_published(
    world: MenuEditorWorld, client: Client
) -> None:
    token = await editor(world, client)
    files = await draft(world)
    problems = files["file:problems.yaml"].replace(
        "ticket_category: roads_pavements", "ticket_category: roads_only"
    )
    form = {**files, "file:problems.yaml": problems, "csrf_token": token, "reason": "roads"}
    refused = await client.post("/editor/menus/edit", data={**form, "action": "publish"})
    html = await refused.text()
    assert refused.status == 422
    assert 'data-passed="no"' in html and "Polish caller reports a pothole" in html
    assert "<small>(tests/city_hall.yaml:6:5)</small>" in html  # where the case is
    assert "ticket_category: expected &#39;roads_pavements&#39;, got &#39;roads_only&#39;" in html
    assert await world.editing.live_id() == 1


async def test_publication_needs_a_reason_then_goes_live_with_its_diff_and_audit(
    world: MenuEditorWorld, client: Client
) -> None:
    token = await editor(world, client)
    files = await draft(world)
    form = {
        **files,
        "file:main.yaml": main_menu_timeout(files["file:main.yaml"], 8),
        "csrf_token": token,
        "action": "publish",
    }
    no_reason = await client.post("/editor/menus/edit", data={**form, "reason": "  "})
    assert no_reason.status == 422 and await world.editing.live_id() == 1
    published = await client.post(
        "/editor/menus/edit", data={**form, "reason": "dłużej na wybór"}, allow_redirects=False
    )
    assert published.status == 303, await published.text()
    assert published.headers["Location"].startswith("/editor/menus?done=published&v=v2@")
    assert await world.editing.live_id() == 2
    other_node = MenuLibrary(
        world.services.sessions,
        world.services.redis,
        menus_dir=world.ivr.menus_dir,
        key_prefix=world.services.settings.redis.key_prefix,
    )
    assert await other_node.live_id() == 2  # through the shared Redis, as `kck ivr reload`
    version = await (await client.get("/editor/menus/versions/2")).text()
    assert "~ step main_menu: timeout: 6.0 → 8.0" in version
    overview = await (await client.get("/editor/menus")).text()
    audit = overview[overview.index('id="menu-audit"') :]
    assert re.search(r"web:redaktor</td><td>[^<]+</td><td>v2@\w+</td><td>dłużej na wybór", audit)


async def test_try_with_keys_runs_the_draft_through_the_interpreter(
    world: MenuEditorWorld, client: Client
) -> None:
    token = await editor(world, client)
    form = {
        **await draft(world),
        "csrf_token": token,
        "action": "try",
        "keys": "1,5,1",
        "at": "2026-11-24 10:00",
    }
    tried = await client.post("/editor/menus/edit", data=form)
    html = await tried.text()
    assert tried.status == 200
    assert "queue: city_issues  skills: roads ≥ 1" in html
    assert "ticket category: roads_pavements" in html and "keys 5" in html
    evening = {**form, "keys": "1,", "at": "2026-12-24 18:00"}  # Christmas Eve, closed
    closed = await (await client.post("/editor/menus/edit", data=evening)).text()
    summary = re.search(r'<pre id="try-summary">(.*?)</pre>', closed, re.S)
    assert summary is not None and summary.group(1).startswith("outcome: closed_hours")


async def test_rollback_needs_a_reason_and_is_audited(
    world: MenuEditorWorld, client: Client
) -> None:
    token = await editor(world, client)
    files = await draft(world)
    changed = main_menu_timeout(files["file:main.yaml"], 9)
    await world.editing.publish(
        {k.removeprefix("file:"): v for k, v in {**files, "file:main.yaml": changed}.items()},
        by="web:redaktor",
        reason="test",
    )
    assert await world.editing.live_id() == 2
    refused = await client.post(
        "/editor/menus/versions/1/rollback", data={"reason": "", "csrf_token": token}
    )
    assert refused.status == 422 and await world.editing.live_id() == 2
    back = await client.post(
        "/editor/menus/versions/1/rollback",
        data={"reason": "zły czas", "csrf_token": token},
        allow_redirects=False,
    )
    assert back.status == 303 and "done=rolled_back&v=v1@" in back.headers["Location"]
    assert await world.editing.live_id() == 1
    [last, *_] = await world.editing.audit()
    assert (last.actor, last.action, last.reason) == ("web:redaktor", "ivr.rollback", "zły czas")


async def test_changes_without_the_csrf_token_are_refused(
    world: MenuEditorWorld, client: Client
) -> None:
    await editor(world, client)
    form = {**await draft(world), "action": "publish", "reason": "x"}
    assert (await client.post("/editor/menus/edit", data=form)).status == 403
    rollback = await client.post("/editor/menus/versions/1/rollback", data={"reason": "x"})
    assert rollback.status == 403


async def test_the_controller_gives_the_editor_the_ivr_s_own_menu_library(
    configured_services: Services,
) -> None:
    """Publications go through the library whose changes are broadcast to the other nodes."""
    controller = await build_controller(configured_services, fixed_health({}))
    menus = controller.web.menus
    assert isinstance(menus, MenuEditing) and menus.library is controller.ivr.library
    assert menus.tests_dir == controller.ivr.menus_dir / "tests"


async def test_the_editor_s_pages_speak_english_when_asked(
    world: MenuEditorWorld, client: Client
) -> None:
    await editor(world, client)
    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    overview = await (await client.get("/editor/menus")).text()
    assert "IVR menu: versions" in overview and "Publications and rollbacks" in overview
    edit = await (await client.get("/editor/menus/edit")).text()
    assert "Try with keys" in edit and "Reason (required)" in edit
    polish = await (await client.get("/editor/menus/edit", cookies={"kck_lang": "pl"})).text()
    assert "Próba klawiszami" in polish


def test_every_word_the_editor_s_pages_use_is_in_the_catalogue_in_both_languages() -> None:
    templates = Path(agentdesk.__file__).parent / "templates" / "editor"
    used: set[str] = set()
    for page in templates.glob("*menu*.html"):
        used |= set(re.findall(r"strings\['([a-z_.]+)'\]", page.read_text(encoding="utf-8")))
    prefixed = {"menus.severity.", "menus.done.", "menus.action."}  # completed at render time
    used = {key for key in used if key not in prefixed}
    assert len(used) > 40 and used <= set(CATALOGUE), used - set(CATALOGUE)
    for key in (*used, "menus.severity.error", "menus.severity.warning", "menus.done.published"):
        polish, english = CATALOGUE[key]
        assert (polish and english and polish != english) or key == "menus.live", key


async def test_a_rejected_reload_is_shown_with_its_errors_and_can_be_fixed_from_its_files(
    world: MenuEditorWorld, client: Client
) -> None:
    await editor(world, client)
    files = await world.editing.files(1)
    broken = {**files, "main.yaml": files["main.yaml"].replace("start: welcome", "start: welcom")}
    with pytest.raises(MenuRejected):
        await world.ivr.library.submit(MenuFiles(broken), by="watch", message="file change")
    rejected = await (await client.get("/editor/menus/versions/2")).text()
    assert "&#39;welcom&#39;" in rejected and 'class="here"' in rejected
    assert 'href="/editor/menus/edit?from=2"' in rejected
    draft_page = await (await client.get("/editor/menus/edit?from=2")).text()
    assert "start: welcom\n" in draft_page and await world.editing.live_id() == 1
