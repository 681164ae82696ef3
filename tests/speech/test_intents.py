"""Intents files: the shipped Polish set loads; every mistake is named with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.speech import IntentsError, load_intent_file, load_intents, normalise_phrase

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
language: pl
intents:
  documents:
    label: Dowód osobisty
    phrases: [Dowód osobisty, "paszport!"]
    next: queue_documents
    skills: [documents]
    kb_topic: dowod-osobisty
    confirm_prompt: pl/kck/intent-documents
"""


def write(tmp_path: Path, text: str, name: str = "pl.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_polish_intents_load_and_route_to_menu_steps() -> None:
    intents = load_intents(ROOT / "config" / "intents")
    polish = intents["pl"]
    assert polish.language == "pl" and not polish.free_form
    documents = polish.get("documents")
    assert documents.next_step == "queue_documents"
    assert "dowód osobisty" in documents.phrases and documents.skills == ("documents",)
    assert documents.kb_topic == "id-card-apply"
    assert documents.kb_topic and documents.confirm_prompt.startswith("pl/")
    assert len(polish.grammar()) == len(set(polish.grammar()))


def test_phrases_are_lower_case_without_punctuation(tmp_path: Path) -> None:
    intents = load_intent_file(write(tmp_path, GOOD))
    assert intents.intents[0].phrases == ("dowód osobisty", "paszport")
    assert intents.grammar() == ("dowód osobisty", "paszport")
    assert intents.intents[0].source.line == 3
    assert normalise_phrase("  Zgubiłem   DOWÓD, co teraz? ") == "zgubiłem dowód co teraz"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD.replace("    next: queue_documents\n", ""), 4, "intent 'documents': missing 'next'"),
        (
            GOOD.replace('phrases: [Dowód osobisty, "paszport!"]', "phrases: []"),
            5,
            "'phrases' must be a non-empty list",
        ),
        (GOOD.replace('"paszport!"', '"?!"'), 5, "phrase 2 must be non-empty text"),
        (GOOD.replace("    kb_topic:", "    kb_topik:"), 8, "unknown key 'kb_topik'"),
        (GOOD.replace("skills: [documents]", "skills: documents"), 7, "'skills' must be a list"),
        (GOOD.replace("language: pl", "language: en"), 1, "does not match file name 'pl'"),
        (GOOD.replace("  documents:", "  Documents:"), 3, "id must be lower case"),
        (
            GOOD + "thresholds: {accept: 0.3, confirm: 0.5}\n",
            10,
            "'confirm' must not be above 'accept'",
        ),
        (GOOD + "thresholds: {accept: 2}\n", 10, "'accept' must be a number 0..1"),
        (GOOD + "free_form: maybe\n", 10, "'free_form' must be true or false"),
        (GOOD + "  documents:\n    phrases: [x]\n", 10, "duplicate key 'documents'"),
        (
            GOOD.replace("    confirm_prompt: pl/kck/intent-documents\n", ""),
            4,
            "missing 'confirm_prompt'",
        ),
        ("language: pl\nintents: [a, b\n", 3, "expected ',' or ']'"),
        ("- just a list\n", 1, "must be a mapping"),
    ],
)
def test_mistake_is_reported_with_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(IntentsError) as caught:
        load_intent_file(path)
    error = caught.value
    assert error.pos.file == str(path)
    assert error.pos.line == line, str(error)
    assert message in str(error)
    assert str(error).startswith(f"{path}:{line}:")


def test_same_phrase_in_two_intents_names_both(tmp_path: Path) -> None:
    text = GOOD + (
        "  passports:\n"
        "    phrases: [Paszport]\n"
        "    next: queue_documents\n"
        "    confirm_prompt: pl/kck/intent-passports\n"
    )
    with pytest.raises(IntentsError) as caught:
        load_intent_file(write(tmp_path, text))
    assert caught.value.pos.line == 11
    assert "phrase 'paszport' is also a phrase of 'documents' (line 5)" in str(caught.value)


def test_missing_intents_file_and_folder_are_named(tmp_path: Path) -> None:
    with pytest.raises(IntentsError, match=r"pl\.yaml:0:0: file not found"):
        load_intent_file(tmp_path / "pl.yaml")
    with pytest.raises(IntentsError, match="intents folder not found"):
        load_intents(tmp_path / "nowhere")


def test_every_shipped_language_routes_the_same_intents_the_same_way() -> None:
    intents = load_intents(ROOT / "config" / "intents")
    assert set(intents) == {"pl", "en", "uk"}
    routes = {
        lang: {i.id: (i.next_step, i.skills, i.kb_topic) for i in s.intents}
        for lang, s in intents.items()
    }
    assert routes["en"] == routes["pl"] == routes["uk"]
    for lang, intent_set in intents.items():
        assert all(i.confirm_prompt.startswith(f"{lang}/") for i in intent_set.intents)


def _menu_steps() -> set[str]:
    import yaml

    steps: set[str] = set()
    for path in (ROOT / "config" / "menus").glob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        steps |= set((document.get("steps") or {}).keys())
    return steps


def _kb_intent_topics() -> set[str]:
    import yaml

    topics: set[str] = set()
    for path in (ROOT / "config" / "kb").glob("*/*.md"):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---"):
            front = yaml.safe_load(text.split("---", 2)[1]) or {}
            topics |= set((front.get("topics") or {}).get("intent") or [])
    return topics


def test_shipped_intents_lead_to_menu_steps_and_kb_topics_that_exist() -> None:
    steps, topics = _menu_steps(), _kb_intent_topics()
    assert steps and topics
    for intent_set in load_intents(ROOT / "config" / "intents").values():
        for intent in intent_set.intents:
            assert intent.next_step in steps, f"{intent.source}: no menu step {intent.next_step!r}"
            assert intent.kb_topic in topics, f"{intent.source}: no KB topic {intent.kb_topic!r}"
