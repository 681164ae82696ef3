"""The catalogues (kck/locale) against the sources: every key the code, the templates and the scripts
use has its text in Polish and English (Ukrainian: residents' texts), every key of the catalogue is
used somewhere, placeholders agree across languages; and the scanner that decides it is itself
tested on planted mistakes, so the checks cannot pass by finding nothing."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from agentdesk.board.snapshot import CALLBACK_FAILURES
from agentdesk.editor.card_form import TOPIC_INPUTS
from agentdesk.menu_routes import DONE as MENU_EDITOR_DONE
from agentdesk.navigation import LINKS
from agentdesk.open311.service_types import MatterKind
from agentdesk.ports import PauseReason
from agentdesk.reports.report import build_report
from agentdesk.reports.rules import CountingRules
from agentdesk.tasks.models import TaskKind, TaskState
from agentdesk.tasks.store import TASK_OUTCOMES
from agentdesk.tickets.categories import TicketCategory, WrapUpOutcome
from agentdesk.tickets.idea_topics import Side
from agentdesk.tickets.kinds import TicketKind
from ivr.editing import AUDIT_ACTIONS as MENU_AUDIT_ACTIONS
from ivr.model import LANGUAGES as CALLER_LANGUAGES
from ivr.problems import Severity
from kb.card import TopicKind
from kb.validation import CARD_FIELDS, PROBLEM_CODES
from kck.db.models import CallOutcome, Role
from kck.texts import (
    COMPLETE,
    LANGUAGES,
    REFERENCE,
    TextsError,
    is_citizen_facing,
    load_texts,
    texts,
)
from matters.lifecycle import MatterStatus, UnitStatus
from matters.links import LinkProblem
from matters.outbox import PENDING, SENDING, SENT
from matters.reminder_texts import LateStep
from matters.sms_texts import SMSKind
from queues.model import AgentState, TransferKind
from recordings.access import ACTIONS
from tests.core.text_usage import Findings, Scanner, Usage, findings

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "agentdesk",
    "kck",
    "queues",
    "ivr",
    "kb",
    "recordings",
    "matters",
    "privacy",
    "asterisk",
)


def source_files(root: Path = REPO) -> list[Path]:
    files = [path for package in PACKAGES for path in (root / package).rglob("*.py")]
    files += (root / "agentdesk" / "templates").rglob("*.html")
    files += (root / "agentdesk" / "static").rglob("*.js")
    return sorted(files)


def modules(files: Iterable[Path], root: Path) -> set[str]:
    return {".".join(p.relative_to(root).with_suffix("").parts) for p in files if p.suffix == ".py"}


def literal_arguments(paths: Iterable[Path], callee: str, position: int | str) -> set[str]:
    """The literal texts given to `callee(...)` at `position` (an index or a keyword)."""
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name != callee:
                continue
            if isinstance(position, int):
                args = node.args[position : position + 1]
            else:
                args = [k.value for k in node.keywords if k.arg == position]
            found.update(
                a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return found


def _kb_facts() -> set[str]:
    script = (REPO / "agentdesk/static/desk.js").read_text(encoding="utf-8")
    listed = re.search(r"var CARD_FACTS = \[([^\]]*)\]", script)
    assert listed, "desk.js: CARD_FACTS not found"
    facts = set(re.findall(r'"(\w+)"', listed.group(1))) - {"unit_name"}
    return {f"kb.{fact}" for fact in facts}  # unit_name is shown as kb.unit (a static key)


def lua_refusals() -> set[str]:
    """The refusal codes the router's scripts return (`return {'same_agent', …}`)."""
    found: set[str] = set()
    for path in (REPO / "queues" / "lua").rglob("*.lua"):
        found.update(re.findall(r"return \{'([a-z_]+)[':]", path.read_text(encoding="utf-8")))
    return found


def families() -> dict[str, set[str]]:
    """The keys each place that makes a key at run time can make, from where its codes come."""
    day = date(2026, 11, 24)
    tables = build_report([], day, day, ZoneInfo("Europe/Warsaw"), CountingRules()).tables()
    py = [*(REPO / "agentdesk").rglob("*.py"), *(REPO / "queues").rglob("*.py")]
    transfer_refusals = {
        code
        for callee in ("TransferNotDone", "TransferRefused")
        for code in literal_arguments(py, callee, 0)
    } | (lua_refusals() & {"agent_unavailable", "same_agent", "consulting", "not_consulting"})
    return {
        # the router's agent states, and its word for an agent whose phone is busy (queues/lua)
        "state.": {f"state.{s.value}" for s in AgentState} | {"state.phone_busy"},
        "reason.": {f"reason.{r.value}" for r in PauseReason},
        "category.": {f"category.{c.value}" for c in TicketCategory},
        "call.": {f"call.{o.value}" for o in CallOutcome},
        "outcome.": {f"outcome.{o.value}" for o in WrapUpOutcome},
        "language.": {f"language.{language}" for language in CALLER_LANGUAGES},
        "role.": {f"role.{r.value}" for r in Role},
        "rec.": {f"rec.{action}" for action in ACTIONS},
        "home.": {f"home.{r.value}.title" for r in (Role.SUPERVISOR, Role.ADMIN)},
        ".about": {f"{link.label}.about" for link in LINKS},
        "suggestion.": {f"suggestion.{k.value}" for k in TopicKind},
        "matter.status.": {f"matter.status.{s.value}" for s in MatterStatus},
        "unit.status.": {f"unit.status.{s.value}" for s in UnitStatus},
        "idea.side.": {f"idea.side.{s.value}" for s in Side},
        "citizen.open311.kind.": {f"citizen.open311.kind.{k.value}" for k in MatterKind},
        "citizen.kind.": {f"citizen.kind.{k.value}" for k in TicketKind},
        "outbox.state.": {f"outbox.state.{state}" for state in (PENDING, SENDING, SENT)},
        "citizen.sms.": {f"citizen.sms.{kind.value}" for kind in SMSKind},
        "unitmail.": {
            f"unitmail.{step}.{part}" for step in get_args(LateStep) for part in ("subject", "body")
        },
        "unitpage.refused.": {f"unitpage.refused.{problem}" for problem in _unit_page_refusals()},
        "ticket.error.": {
            f"ticket.error.{code}"
            for code in literal_arguments([REPO / "agentdesk/tickets/form.py"], "FieldError", 1)
        },
        "transfer.refused.": {f"transfer.refused.{code}" for code in transfer_refusals},
        "state.refused.": {
            f"state.refused.{why}"
            for callee in ("StateRefused", "ExtensionMismatch")
            for why in literal_arguments(py, callee, "why")
        },
        "transfer.kind.": {f"transfer.kind.{k.value}" for k in TransferKind},
        "callback.why.": {f"callback.why.{code.lower()}" for code in CALLBACK_FAILURES},
        "chart.": {
            f"chart.{key}"
            for key in literal_arguments([REPO / "agentdesk/reports/charts.py"], "say", 0)
        },
        "report.table.": {f"report.table.{t.name}" for t in tables},
        "report.column.": {f"report.column.{h}" for t in tables for h in t.headers},
        "kb.": _kb_facts(),
        "menus.action.": {f"menus.action.{action}" for action in MENU_AUDIT_ACTIONS},
        "menus.severity.": {f"menus.severity.{s.value}" for s in Severity},
        "menus.done.": {f"menus.done.{done}" for done in MENU_EDITOR_DONE},
        "editor.field.": {
            f"editor.field.{name}" for name in (*CARD_FIELDS, *TOPIC_INPUTS.values())
        },
        "editor.problem.": {f"editor.problem.{code}" for code in PROBLEM_CODES.values()},
        "task.kind.": {f"task.kind.{k.value}" for k in TaskKind},
        "task.state.": {f"task.state.{s.value}" for s in TaskState},
        "task.outcome.": {f"task.outcome.{o}" for o in TASK_OUTCOMES},
        "task.refused.": {
            f"task.refused.{code}"
            for code in literal_arguments(
                sorted((REPO / "agentdesk/tasks").glob("*.py")), "TaskRefused", 0
            )
        },
        "task.matter_refused.": {
            f"task.matter_refused.{code}"
            for code in literal_arguments(
                [REPO / "agentdesk/tasks/matter_units.py"], "UnitsRefused", 0
            )
            | literal_arguments([REPO / "agentdesk/tasks/matter_pop_routes.py"], "_refused", 1)
        },
    }


def _unit_page_refusals() -> set[str]:
    """What the unit page may refuse: its link's problems, its own, and the matter's moves a unit
    makes (reopening, with its reason, is the centre's, never a unit's; nor is answering the
    unit's question, the resident's or an agent's)."""
    pages = [REPO / "agentdesk/unit_routes.py", REPO / "agentdesk/unit_inbox_routes.py"]
    moves = literal_arguments([REPO / "agentdesk/tickets/matters.py"], "UnitActionRefused", 0)
    return (
        {p.value for p in LinkProblem}
        | literal_arguments(pages, "refused_page", 1)
        | (moves - {"reason_missing", "no_question"})
    )


@functools.cache
def real_findings() -> tuple[Usage, Findings]:
    catalogues = {language: set(c.texts) for language, c in texts().catalogues.items()}
    files = source_files()
    usage = Scanner(texts().keys, modules(files, REPO)).scan(files, REPO)
    complete = {language: catalogues[language] for language in COMPLETE}
    return usage, findings(usage, complete, families())


def test_every_key_the_sources_use_has_its_text_in_polish_and_english() -> None:
    _, found = real_findings()
    assert found.missing == {}


def test_every_key_of_the_catalogue_is_used_somewhere() -> None:
    _, found = real_findings()
    assert found.unused == []


def test_every_key_made_at_run_time_is_enumerated_and_every_enumeration_is_used() -> None:
    _, found = real_findings()
    assert found.unenumerated == [] and found.stale_families == []


def test_the_scan_reads_python_templates_and_scripts() -> None:
    usage, _ = real_findings()
    kinds = {use.where.split(":")[0].rsplit(".", 1)[-1] for use in usage.keys}
    assert kinds == {"py", "html", "js"}
    assert len(usage.key_names()) > 200  # most keys are written out where they are used
    for expected in ("login.title", "board.live", "force.failed", "csrf", "desk.connection_lost"):
        assert expected in usage.key_names(), expected


def test_the_shipped_catalogues_fit_together() -> None:
    assert texts().problems() == []
    counts = {language: len(c.texts) for language, c in texts().catalogues.items()}
    assert counts["pl"] == counts["en"] > 300
    citizen = {key for key in texts().keys if is_citizen_facing(key)}
    assert citizen and citizen <= set(texts().catalogues["uk"].texts)


# ---- the checks themselves, on planted mistakes --------------------------------------------------

PLANTED_CATALOGUE = {"board.title", "board.live", "board.planted_unused", "state.available", "csrf"}


def planted_sources(root: Path) -> list[Path]:
    (root / "pkg").mkdir()
    (root / "pkg" / "views.py").write_text(
        "from agentdesk.i18n import translate\n"
        "def title(lang, state):\n"
        "    refusal(None, 403, 'csrf')\n"
        "    translate(lang, f'state.{state}')\n"
        "    audit(action='board.opened')\n"  # an audit action name, not a text
        "    page = 'board.html'\n"  # a file
        "    return translate(lang, 'board.title')\n",
        encoding="utf-8",
    )
    (root / "page.html").write_text("<h1>{{ strings['board.planted_missing'] }}</h1>\n")
    (root / "page.js").write_text(
        'link.textContent = S["board.live"] + S["board.script_missing"];\n'
    )
    return [root / "pkg" / "views.py", root / "page.html", root / "page.js"]


def planted_findings(tmp_path: Path) -> Findings:
    files = planted_sources(tmp_path)
    usage = Scanner(PLANTED_CATALOGUE, modules(files, tmp_path)).scan(files, tmp_path)
    state_family = {"state.": {"state.available"}}
    return findings(
        usage, {"pl": PLANTED_CATALOGUE, "en": PLANTED_CATALOGUE - {"csrf"}}, state_family
    )


def test_the_check_finds_a_planted_missing_key_in_a_template_a_script_and_one_language(
    tmp_path: Path,
) -> None:
    found = planted_findings(tmp_path)
    assert found.missing == {
        "pl": ["board.planted_missing (page.html:1)", "board.script_missing (page.js:1)"],
        "en": [
            "board.planted_missing (page.html:1)",
            "board.script_missing (page.js:1)",
            "csrf (pkg/views.py:3)",
        ],
    }


def test_the_check_finds_a_planted_unused_key(tmp_path: Path) -> None:
    assert planted_findings(tmp_path).unused == ["board.planted_unused"]


def test_the_check_finds_a_key_made_at_run_time_that_nobody_enumerated(tmp_path: Path) -> None:
    files = planted_sources(tmp_path)
    usage = Scanner(PLANTED_CATALOGUE).scan(files, tmp_path)
    found = findings(usage, {"pl": PLANTED_CATALOGUE}, {"board.": {"board.live"}})
    assert found.unenumerated == ["'state.' at pkg/views.py:4"]
    assert found.stale_families == ["board."]
    assert "state.available" in found.unused  # a prefix alone does not make its keys used


# ---- the catalogue files: languages, fallback, placeholders -------------------------------------


def write_catalogues(folder: Path, **languages: str) -> Path:
    for language, text in languages.items():
        (folder / f"{language}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


def problems_of(folder: Path, pl: str, en: str, uk: str = "") -> list[str]:
    write_catalogues(folder, pl=pl, en=en, uk=uk)
    with pytest.raises(TextsError) as refused:
        load_texts(folder)
    return refused.value.problems


def test_placeholders_must_be_the_same_in_every_language(folder: Path) -> None:
    problems = problems_of(
        folder,
        pl='ticket.saved: "Zapisano zgłoszenie {number}"\n',
        en='ticket.saved: "Ticket {numbr} saved"\n',
    )
    assert problems == [
        f"{folder / 'en.yaml'}:1:1: 'ticket.saved' has placeholders ['numbr'], the pl text has "
        f"['number'] ({folder / 'pl.yaml'}:1:1)"
    ]


def test_a_text_missing_in_english_or_a_key_only_english_has_is_named(folder: Path) -> None:
    problems = problems_of(
        folder, pl='a.one: "jeden"\na.two: "dwa"\n', en='a.one: "one"\na.three: "three"\n'
    )
    assert problems == [
        f"{folder / 'en.yaml'}:2:1: 'a.three' is not in the pl catalogue",
        f"{folder / 'en.yaml'}: no text for 'a.two' ({folder / 'pl.yaml'}:2:1)",
    ]


def test_ukrainian_must_have_every_citizen_text_and_borrows_the_rest_from_english(
    folder: Path,
) -> None:
    pl = 'category.waste: "odpady"\nboard.live: "na żywo"\n'
    en = 'category.waste: "waste"\nboard.live: "live"\n'
    assert problems_of(folder, pl, en, uk='board.live: "наживо"\n') == [
        f"{folder / 'uk.yaml'}: no text for 'category.waste' ({folder / 'pl.yaml'}:1:1)"
    ]
    write_catalogues(folder, uk='category.waste: "відходи"\n')
    loaded = load_texts(folder)
    assert loaded.text("uk", "category.waste") == "відходи"
    assert loaded.text("uk", "board.live") == "live"  # not for residents: English will do
    assert loaded.text("pl", "board.live") == "na żywo"


def test_a_text_yaml_would_read_as_a_yes_or_a_number_must_be_quoted(folder: Path) -> None:
    problems = problems_of(folder, pl="a.no: No\na.n: 5\n", en='a.no: "No"\na.n: "5"\n')
    assert problems == [
        f"{folder / 'pl.yaml'}:1:1: 'a.no' must be a text (quote it): False",
        f"{folder / 'pl.yaml'}:2:1: 'a.n' must be a text (quote it): 5",
    ]


def test_a_key_written_twice_is_refused_with_both_lines(folder: Path) -> None:
    problems = problems_of(folder, pl='a.one: "jeden"\na.one: "raz"\n', en='a.one: "one"\n')
    assert problems == [f"{folder / 'pl.yaml'}:2:1: duplicate key 'a.one' (first at line 1)"]


def test_a_stray_brace_is_named_instead_of_failing_when_shown(folder: Path) -> None:
    problems = problems_of(folder, pl='a.one: "jeden {"\n', en='a.one: "one"\n')
    assert problems[0].startswith(f"{folder / 'pl.yaml'}:1:1: 'a.one' cannot be formatted")


def test_every_language_is_loaded_and_polish_is_the_reference() -> None:
    assert tuple(texts().catalogues) == LANGUAGES and REFERENCE == "pl"


def test_templates_and_scripts_hold_no_words_of_their_own() -> None:
    """Polish letters or a "pl / en" pair outside the catalogues are words that bypass it."""
    own_words = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]|[a-z] / [a-z]")
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in source_files()
        if path.suffix in (".html", ".js")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if own_words.search(line) and not line.lstrip().startswith("//")
    ]
    assert found == []
