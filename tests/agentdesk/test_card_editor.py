"""The service-card screens over HTTP as editors, supervisors and agents use them: the real app on
the KB-seeded SQLite and the test Redis, through the same security path as the desk."""

from __future__ import annotations

import re
from datetime import date

from agentdesk.keys import editor_kb_key, knowledge_key
from kb import parse_card, render_card
from kck.db.models import Role
from tests.agentdesk.conftest import Client, DeskWorld, csrf_of, sign_in

SLUG = "zielen-powalone-drzewo"  # unit "zielen"; the greenery call's first suggestion
PAGE = f"/editor/cards/{SLUG}"


async def open_card(client: Client, slug: str = SLUG) -> tuple[str, dict[str, str]]:
    """The card's page and its form's inputs as the page fills them in."""
    response = await client.get(f"/editor/cards/{slug}")
    assert response.status == 200, await response.text()
    html = await response.text()
    return html, form_of(html)


def form_of(html: str) -> dict[str, str]:
    form = html[html.index('id="card-form"') :]
    form = form[: form.index("</form>")]
    values = {"csrf_token": csrf_of(html)}
    values |= {m[0]: m[1] for m in re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form)}
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        values[name] = text
    for name, chosen in re.findall(r'<select[^>]*name="([^"]+)">.*?value="(\w+)" selected', form):
        values[name] = chosen
    return {name: unescape(value) for name, value in values.items()}


def unescape(text: str) -> str:
    for entity, char in (("&#34;", '"'), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


async def editor(world: DeskWorld, client: Client, name: str = "redaktor") -> str:
    await world.add_user(name, Role.EDITOR, extension=None)
    return await sign_in(client, name, extension="")


async def test_editor_publishes_a_card_and_the_desk_gives_the_new_text_at_once(
    world: DeskWorld, client: Client
) -> None:
    await editor(world, client)
    _, form = await open_card(client)
    form["summary"] = "Nowe streszczenie: drzewo na chodniku zgłasza się do ZZM od razu."
    form["fees"] = "bez opłat"

    preview = await client.post(PAGE, data={**form, "action": "preview"})
    assert preview.status == 200
    html = await preview.text()
    assert 'id="previewing"' in html and "Nowe streszczenie" in html
    kb = world.app[editor_kb_key]
    assert (await kb.get(SLUG)).revision == 1  # a preview saves nothing

    published = await client.post(
        PAGE, data={**form, "action": "publish", "note": "nowe zasady"}, allow_redirects=False
    )
    assert published.status == 303 and published.headers["Location"] == f"{PAGE}?published=2"
    page = await (await client.get(published.headers["Location"])).text()
    assert "Opublikowano rewizję 2" in page
    article = await kb.get(SLUG)
    assert article.card.summary.startswith("Nowe streszczenie") and article.card.fees == "bez opłat"
    history = await kb.history(SLUG)
    assert (history[0].author, history[0].note) == ("redaktor", "nowe zasady")
    assert set(history[0].changed_fields) == {"summary", "fees"}

    # the desk reads the knowledge base at each pop and opened card: no restart, no cache
    knowledge = world.app[knowledge_key]
    card = await knowledge.card(SLUG, "pl")
    assert card is not None and card["summary"].startswith("Nowe streszczenie")
    suggested = await knowledge.suggest({"intent": "fallen-tree", "language": "pl"}, "pl")
    assert suggested[0].slug == SLUG and suggested[0].summary.startswith("Nowe streszczenie")


async def test_problems_are_shown_at_their_fields_and_nothing_is_published(
    world: DeskWorld, client: Client
) -> None:
    await editor(world, client)
    _, form = await open_card(client)
    form.update(title="", review_due="2026-13-40", related="zielen-zgloszenia, Zła Karta")
    form["topic-intent"] = "fallen-tree, Złe Słowo"
    response = await client.post(PAGE, data={**form, "action": "publish"})
    assert response.status == 422
    html = await response.text()
    assert "Popraw zaznaczone pola — nic nie opublikowano." in html
    assert problem_at(html, "title") == "To pole jest wymagane."
    assert problem_at(html, "review_due") == "Podaj datę RRRR-MM-DD."
    assert problem_at(html, "related").startswith("pozycja 2: „Zła Karta” to nie identyfikator")
    assert problem_at(html, "topics").startswith("Temat „Złe Słowo” (intent)")
    assert 'value="2026-13-40"' in html  # what the editor typed stays in the form
    assert (await world.app[editor_kb_key].get(SLUG)).revision == 1

    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    english = await (await client.post(PAGE, data={**form, "action": "publish"})).text()
    assert problem_at(english, "title") == "This field is required."


def problem_at(html: str, field: str) -> str:
    found = re.search(rf'<p class="problem" id="p-{field}" role="alert">([^<]*)</p>', html)
    assert found, f"no problem shown at {field}"
    return unescape(found.group(1))


async def test_a_card_published_by_someone_else_meanwhile_is_not_overwritten(
    world: DeskWorld, client: Client
) -> None:
    await editor(world, client)
    _, form = await open_card(client)
    kb = world.app[editor_kb_key]
    other = (await kb.get(SLUG)).card.model_copy(update={"fees": "zmiana kolegi"})
    await kb.save(other, author="kolega")
    form["summary"] = "Moja zmiana."
    response = await client.post(PAGE, data={**form, "action": "publish"})
    assert response.status == 409
    assert "Ktoś opublikował tę kartę w międzyczasie (rewizja 2" in await response.text()
    assert (await kb.get(SLUG)).card.fees == "zmiana kolegi"


async def test_history_shows_the_diff_and_restore_makes_an_old_revision_current(
    world: DeskWorld, client: Client
) -> None:
    token = await editor(world, client)
    _, form = await open_card(client)
    original = form["summary"]
    form["summary"] = "Zmienione streszczenie."
    await client.post(PAGE, data={**form, "action": "publish"})

    history = await (await client.get(f"{PAGE}/history")).text()
    assert 'data-revision="2"' in history and "Streszczenie (jedno zdanie)" in history
    revision = await (await client.get(f"{PAGE}/revisions/2")).text()
    diff = revision[revision.index('id="diff"') : revision.index('id="preview"')]
    assert f'<span class="del">- {original}</span>' in unescape(diff)
    assert '<span class="ins">+ Zmienione streszczenie.</span>' in diff
    assert 'data-field="summary"' in diff and 'data-field="title"' not in diff

    restored = await client.post(
        f"{PAGE}/revisions/1/restore", data={"csrf_token": token}, allow_redirects=False
    )
    assert restored.status == 303
    kb = world.app[editor_kb_key]
    article = await kb.get(SLUG)
    assert (article.revision, article.card.summary) == (3, original)
    assert (await kb.history(SLUG))[0].restored_from == 1
    assert (await client.get(f"{PAGE}/revisions/9")).status == 404


async def test_search_lists_and_the_markdown_file_is_what_kb_import_reads(
    world: DeskWorld, client: Client
) -> None:
    await editor(world, client)
    hits = await (await client.get("/editor/cards", params={"q": "powalone drzewo"})).text()
    assert f'<li data-slug="{SLUG}">' in hits
    listing = await (await client.get("/editor/cards", params={"unit": "zielen"})).text()
    rows = re.findall(r'<tr data-slug="([^"]+)">', listing)
    assert SLUG in rows and all(slug.startswith("zielen") for slug in rows)
    response = await client.get(f"{PAGE}/card.md")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SLUG}.md"'
    text = await response.text()
    card = (await world.app[editor_kb_key].get(SLUG)).card
    assert text == render_card(card) and parse_card(text, f"{SLUG}.md") == card


async def test_a_new_card_and_a_language_version_of_one(world: DeskWorld, client: Client) -> None:
    await editor(world, client)
    new = await (await client.get("/editor/new-card", params={"translation_of": SLUG})).text()
    form = form_of(new)
    assert form["translation_of"] == SLUG
    form.update(id=f"{SLUG}-en", language="en", title="Fallen tree on a pavement")
    published = await client.post(
        "/editor/new-card", data={**form, "action": "publish"}, allow_redirects=False
    )
    assert published.status == 303, await published.text()
    page, _ = await open_card(client)
    assert f'<a href="/editor/cards/{SLUG}-en" data-language="en">' in page
    again = await client.post("/editor/new-card", data={**form, "action": "publish"})
    assert again.status == 422
    assert problem_at(await again.text(), "id") == f"Karta {SLUG}-en już istnieje."


async def test_an_editor_limited_to_some_units_edits_only_their_cards(
    world: DeskWorld, client: Client
) -> None:
    token = await editor(world, client, "drogowiec")
    await world.accounts.set_kb_units("drogowiec", ["drogi"])
    page = await (await client.get(PAGE)).text()  # a greenery card: read only
    assert 'id="read-only"' in page and 'id="card-form"' not in page
    refused = await client.post(PAGE, data={"csrf_token": token, "action": "publish"})
    assert refused.status == 403
    restore = await client.post(f"{PAGE}/revisions/1/restore", data={"csrf_token": token})
    assert restore.status == 403

    kb = world.app[editor_kb_key]
    roads = next(item.slug for item in await kb.listing(unit="drogi"))
    _, form = await open_card(client, roads)
    form["unit"] = "zielen"  # giving a card away to another unit is not theirs either
    moved = await client.post(f"/editor/cards/{roads}", data={**form, "action": "publish"})
    assert moved.status == 422
    assert (
        problem_at(await moved.text(), "unit") == "Nie możesz przypisać karty do jednostki zielen."
    )

    home = await (await client.get("/editor")).text()
    assert "Twoje jednostki: drogi" in home
    assert set(re.findall(r'<ul class="due" data-unit="([^"]+)">', home)) <= {"drogi"}


async def test_supervisors_read_the_cards_and_agents_see_nothing_of_the_editor(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("kierownik", Role.SUPERVISOR, extension=None)
    token = await sign_in(client, "kierownik", extension="")
    page = await (await client.get(PAGE)).text()
    assert 'id="read-only"' in page and "Nowa karta" not in page
    refused = await client.post(PAGE, data={"csrf_token": token, "action": "publish"})
    assert refused.status == 403
    assert (await client.get("/editor/new-card")).status == 403
    await client.post("/logout", data={"csrf_token": token})

    await world.add_user("anowak")
    await sign_in(client, "anowak")
    for path in ("/editor", "/editor/cards", PAGE, f"{PAGE}/history"):
        assert (await client.get(path, allow_redirects=False)).status == 403, path


async def test_publishing_needs_the_session_s_token_and_our_own_origin(
    world: DeskWorld, client: Client
) -> None:
    token = await editor(world, client)
    _, form = await open_card(client)
    form["summary"] = "Zmiana z obcej strony."
    without = {name: value for name, value in form.items() if name != "csrf_token"}
    assert (await client.post(PAGE, data={**without, "action": "publish"})).status == 403
    foreign = await client.post(
        PAGE,
        data={**form, "action": "publish"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status == 403
    assert form["csrf_token"] == token
    assert (await world.app[editor_kb_key].get(SLUG)).revision == 1


async def test_editor_home_lists_the_cards_due_for_review_by_unit(
    world: DeskWorld, client: Client
) -> None:
    await editor(world, client)
    kb = world.app[editor_kb_key]
    card = (await kb.get(SLUG)).card.model_copy(update={"review_due": date(2020, 1, 31)})
    await kb.save(card, author="tests")
    home = await (await client.get("/editor")).text()
    zielen = home[home.index('<ul class="due" data-unit="zielen">') :]
    zielen = zielen[: zielen.index("</ul>")]
    assert f'<li data-slug="{SLUG}">' in zielen and "2020-01-31" in zielen
