"""Semantic checks of a parsed menu: references, reachability, loops, timeouts, prompts, skills."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.hours import supported_country
from ivr.loader import MenuFiles, MenuSet, parse_menu_files
from ivr.model import (
    CallbackStep,
    DigitsStep,
    GotoStep,
    HoursStep,
    LanguageStep,
    MenuStep,
    QueueStep,
    SayStep,
    SetStep,
    SpeechStep,
    Step,
    step_edges,
    step_prompts,
)
from ivr.played_prompts import (
    PLAYED_PROMPTS,
    QUEUE_ANNOUNCEMENT_PROMPTS,
    QUEUE_PROMPTS,
    SPEECH_PROMPTS,
    intent_prompt,
)
from ivr.problems import ProblemList
from ivr.skills import SkillDirectory
from kck.spoken_numbers import NUMBER_SOUNDS

_LANGUAGE_NAMES = {"pl": "Polish", "en": "English", "uk": "Ukrainian"}
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Steps that end the call (or hand it over) and so are a way out of any loop.
_EXITS = {"queue", "hangup", "transfer", "voicemail", "callback", "info"}

SoundExists = Callable[[str, str], bool]  # (language, sound name) → a recording exists


@dataclass(frozen=True)
class ValidatedMenu:
    """The outcome of checking a menu set: the menu when usable, and every problem found."""

    menu: MenuSet | None
    problems: ProblemList

    @property
    def ok(self) -> bool:
        return self.menu is not None and self.problems.ok


def validate_files(
    files: MenuFiles,
    skills: SkillDirectory | None = None,
    sound_exists: SoundExists | None = None,
) -> ValidatedMenu:
    """Parse and check a menu set; pure (no I/O besides the callbacks given)."""
    menu, problems = parse_menu_files(files)
    if menu is not None:
        problems.extend(check_menu(menu, skills, sound_exists))
    return ValidatedMenu(menu, problems)


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_menu(
    menu: MenuSet,
    skills: SkillDirectory | None = None,
    sound_exists: SoundExists | None = None,
) -> ProblemList:
    problems = ProblemList()
    header = menu.header
    if skills is not None and skills.problem:
        # the router would refuse this configuration: say so, rather than check against a guess
        problems.error(
            menu.where("menu") or menu.where("menu", "name"),
            f"the router's configuration cannot be read, so queues and skills are not checked: "
            f"{skills.problem}",
            "routing-config",
        )
    if header.default_language not in header.languages:
        problems.error(
            menu.where("menu", "default_language"),
            f"default language {header.default_language!r} is not in languages {list(header.languages)}",
            "language",
        )
    if header.start not in menu.steps and header.start not in menu.broken_steps:
        problems.error(
            menu.where("menu", "start"),
            f"the menu starts at step {header.start!r}, which does not exist"
            + _suggest(header.start, menu.steps),
            "unknown-step",
        )
    for prompt_field in ("goodbye", "invalid"):
        name = getattr(header, prompt_field)
        if name and name not in menu.prompts:
            problems.error(
                menu.where("menu", prompt_field),
                f"`{prompt_field}:` names prompt {name!r}, which does not exist"
                + _suggest(name, menu.prompts),
                "unknown-prompt",
            )
    for language, route in header.language_routing.items():
        if language not in header.languages:
            problems.error(
                menu.where("menu", "language_routing"),
                f"language_routing names {language!r}, which is not one of the menu's languages",
                "language",
            )
        _check_skills(
            menu, f"language_routing.{language}", {route.skill: route.level}, skills, problems
        )
        _check_queue(menu, f"language_routing.{language}", route.queue, skills, problems)
    for step_id, step in menu.steps.items():
        _check_step(menu, step_id, step, skills, problems)
    _check_prompts(menu, sound_exists, problems)
    _check_played_prompts(menu, sound_exists, problems)
    _check_calendars(menu, problems)
    _check_reachability(menu, problems)
    _check_loops(menu, problems)
    return problems


def _check_step(
    menu: MenuSet,
    step_id: str,
    step: Step,
    skills: SkillDirectory | None,
    problems: ProblemList,
) -> None:
    for how, target in step_edges(step):
        if target not in menu.steps and target not in menu.broken_steps:
            field = how.split(" ", 1)[1] if how.startswith(("key ", "intent ")) else how
            parent = (
                "choices"
                if how.startswith("key ")
                else "routes"
                if how.startswith("intent ")
                else None
            )
            where = (
                menu.where("step", step_id, parent, field)
                if parent
                else menu.where("step", step_id, field)
            )
            problems.error(
                where,
                f"step {step_id!r} ({how}) goes to {target!r}, but there is no such step"
                + _suggest(target, menu.steps),
                "unknown-step",
            )
    for field, prompt in step_prompts(step):
        if prompt not in menu.prompts:
            problems.error(
                menu.where("step", step_id, field),
                f"step {step_id!r} plays prompt {prompt!r}, which does not exist"
                + _suggest(prompt, menu.prompts),
                "unknown-prompt",
            )
    if isinstance(step, MenuStep | DigitsStep) and not step.fallback:
        problems.error(
            menu.where("step", step_id),
            f"{step.type} {step_id!r} does not say where a caller goes who presses nothing or only "
            "wrong keys: add `fallback:` (e.g. an agent or a goodbye)",
            "no-timeout-handling",
        )
    if isinstance(step, MenuStep) and not step.choices:
        problems.error(
            menu.where("step", step_id, "choices"), f"menu {step_id!r} has no choices", "schema"
        )
    if isinstance(step, HoursStep) and step.calendar not in menu.calendars:
        problems.error(
            menu.where("step", step_id, "calendar"),
            f"step {step_id!r} uses calendar {step.calendar!r}, which does not exist"
            + _suggest(step.calendar, menu.calendars),
            "unknown-calendar",
        )
    if isinstance(step, LanguageStep):
        for key, language in step.choices.items():
            if language not in menu.header.languages:
                problems.error(
                    menu.where("step", step_id, "choices", key),
                    f"key {key} chooses {language!r}, which is not one of the menu's languages "
                    f"{list(menu.header.languages)}",
                    "language",
                )
    if isinstance(step, QueueStep | CallbackStep):
        _check_skills(menu, step_id, step.skills, skills, problems)
        _check_queue(menu, step_id, step.queue, skills, problems)
    if isinstance(step, SetStep):
        for name in step.variables:
            if not _VARIABLE.match(name):
                problems.error(
                    menu.where("step", step_id, "variables", name),
                    f"variable name {name!r}: use letters, digits and _ (not starting with a digit)",
                    "schema",
                )
    if isinstance(step, SpeechStep):
        names = menu.intents.get(step.intents)
        if names is None:
            problems.error(
                menu.where("step", step_id, "intents"),
                f"speech step {step_id!r}: intents file {step.intents!r} not found",
                "missing-file",
            )
        elif names:
            for intent in step.routes:
                if intent not in names:
                    problems.error(
                        menu.where("step", step_id, "routes", intent),
                        f"speech step {step_id!r} routes intent {intent!r}, which {step.intents} does not define"
                        + _suggest(intent, names),
                        "unknown-intent",
                    )


def _check_queue(
    menu: MenuSet, where_id: str, queue: str, skills: SkillDirectory | None, problems: ProblemList
) -> None:
    if skills is None or skills.queues is None or queue in skills.queues:
        return
    problems.error(
        menu.where("step", where_id, "queue") or menu.where("menu", "language_routing"),
        f"{where_id!r} sends callers to queue {queue!r}, which config/queues.yaml does not define"
        + _suggest(queue, skills.queues),
        "unknown-queue",
    )


def _check_skills(
    menu: MenuSet,
    step_id: str,
    wanted: dict[str, int],
    skills: SkillDirectory | None,
    problems: ProblemList,
) -> None:
    if skills is None:
        return
    for skill, level in wanted.items():
        where = menu.where("step", step_id, "skills", skill) or menu.where(
            "menu", "language_routing"
        )
        if skills.skills is not None and skill not in skills.skills:
            problems.error(
                where,
                f"step {step_id!r} needs skill {skill!r}, which config/skills.yaml does not define"
                + _suggest(skill, skills.skills),
                "unknown-skill",
            )
            continue
        if skills.best_level is not None:
            best = skills.best_level.get(skill, 0)
            if best < level:
                have = f"the best is level {best}" if best else "no agent has it at all"
                problems.warning(
                    where,
                    f"step {step_id!r} needs {skill!r} at level {level} or more, but {have}: "
                    "these callers will wait until the requirement relaxes",
                    "skill-without-agents",
                )


def _check_prompts(menu: MenuSet, sound_exists: SoundExists | None, problems: ProblemList) -> None:
    for name, prompt in menu.prompts.items():
        sound = prompt.sound or name
        if sound.split("/", 1)[0] == NUMBER_SOUNDS:
            problems.error(
                menu.where("prompt", name, "sound"),
                f"prompt {name!r} would be the sound {sound!r}, but {NUMBER_SOUNDS}/ holds kck's "
                "number words (kck/spoken_numbers.py): choose another name",
                "reserved-sound",
            )
        for language in menu.header.languages:
            if prompt.text.get(language):
                continue
            sound = prompt.sound or name
            if sound_exists is not None and sound_exists(language, sound):
                continue  # a real recording stands in for the text
            problems.error(
                menu.where("prompt", name, "text"),
                f"prompt {name!r} has no {_LANGUAGE_NAMES[language]} text ({language}) and no "
                f"recording {language}/{sound}.wav",
                "missing-prompt-text",
            )


def _played_prompts(menu: MenuSet) -> dict[str, str]:
    """Prompts the menu's queue and speech steps play besides their own: name → who plays it."""
    wanted: dict[str, str] = {}
    if any(isinstance(step, QueueStep) for step in menu.steps.values()):
        wanted.update({name: PLAYED_PROMPTS[name] for name in QUEUE_PROMPTS})
    speech_steps = [step for step in menu.steps.values() if isinstance(step, SpeechStep)]
    if speech_steps:
        wanted.update({name: PLAYED_PROMPTS[name] for name in SPEECH_PROMPTS})
    for step in speech_steps:
        for intent in menu.intents.get(step.intents) or ():
            wanted[intent_prompt(intent)] = f"the speech step (intent {intent!r})"
    return wanted


def _check_played_prompts(
    menu: MenuSet, sound_exists: SoundExists | None, problems: ProblemList
) -> None:
    """A prompt played by code, not named in a step, should be defined too; once defined, its
    texts are checked per language like any other prompt's (an error when one is missing).
    Undefined it is a warning (the caller hears nothing there, but the call goes on), except the
    waiting loop's announcement: without it a waiting caller is never told their place."""
    for name, player in _played_prompts(menu).items():
        if name in menu.prompts:
            continue
        missing = [
            language
            for language in menu.header.languages
            if sound_exists is None or not sound_exists(language, name)
        ]
        if not missing:
            continue
        no_recording = f"no recording for {', '.join(missing)} ({missing[0]}/{name}.wav)"
        if name in QUEUE_ANNOUNCEMENT_PROMPTS:
            problems.error(
                menu.where("menu"),
                f"prompt {name!r} is played by {player} at every announcement, but is not "
                f"defined under `prompts:` and there is {no_recording}",
                "missing-played-prompt",
            )
        else:
            problems.warning(
                menu.where("menu"),
                f"prompt {name!r} is played by {player} but is not defined under `prompts:` "
                f"and has {no_recording}",
                "missing-played-prompt",
            )


def _check_calendars(menu: MenuSet, problems: ProblemList) -> None:
    for name, calendar in menu.calendars.items():
        try:
            ZoneInfo(calendar.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.error(
                menu.where("calendar", name, "timezone"),
                f"calendar {name!r}: unknown time zone {calendar.timezone!r}",
                "calendar",
            )
        if calendar.public_holidays and not supported_country(calendar.public_holidays):
            problems.error(
                menu.where("calendar", name, "public_holidays"),
                f"calendar {name!r}: no public holidays known for country {calendar.public_holidays!r}",
                "calendar",
            )
        for day, ranges in calendar.weekly.items():
            for r in ranges:
                if r.end <= r.start and r.end.hour + r.end.minute != 0:
                    problems.error(
                        menu.where("calendar", name, "weekly"),
                        f"calendar {name!r} {day}: {r.start:%H:%M}-{r.end:%H:%M} ends before it starts",
                        "calendar",
                    )
        seen: set[str] = set()
        for exception in calendar.exceptions:
            key = exception.date.isoformat()
            if key in seen:
                problems.error(
                    menu.where("calendar", name, "exceptions"),
                    f"calendar {name!r}: date {key} is listed twice in exceptions",
                    "duplicate",
                )
            seen.add(key)


def _graph(menu: MenuSet) -> dict[str, list[str]]:
    return {
        step_id: [t for _, t in step_edges(step) if t in menu.steps]
        for step_id, step in menu.steps.items()
    }


def _check_reachability(menu: MenuSet, problems: ProblemList) -> None:
    start = menu.header.start
    if start not in menu.steps:
        return
    graph = _graph(menu)
    seen = {start}
    stack = [start]
    while stack:
        for target in graph[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    for step_id in menu.steps:
        if step_id not in seen:
            problems.error(
                menu.where("step", step_id),
                f"step {step_id!r} can never be reached from the start ({start!r}): "
                "no step leads to it",
                "unreachable",
            )


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (menus can be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(graph[node])):
                child = graph[node][j]
                if child not in index:
                    work.append((node, j + 1))
                    work.append((child, 0))
                    recurse = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if recurse:
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                result.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _check_loops(menu: MenuSet, problems: ProblemList) -> None:
    graph = _graph(menu)
    for component in _strongly_connected(graph):
        members = set(component)
        cyclic = len(component) > 1 or component[0] in graph[component[0]]
        if not cyclic:
            continue
        ordered = sorted(component, key=lambda s: list(menu.steps).index(s))
        leaves = any(t not in members for s in component for t in graph[s])
        ends = any(menu.steps[s].type in _EXITS for s in component)
        if not leaves and not ends:
            problems.error(
                menu.where("step", ordered[0]),
                f"steps {' → '.join(ordered)} form a loop with no way out: the caller would go "
                "round for ever",
                "endless-loop",
            )
            continue
        # A loop through steps that never wait for the caller spins without end even with exits.
        automatic = {
            s
            for s in component
            if isinstance(menu.steps[s], SayStep | SetStep | GotoStep | HoursStep)
        }
        auto_graph = {s: [t for t in graph[s] if t in automatic] for s in automatic}
        for sub in _strongly_connected(auto_graph):
            if len(sub) > 1 or sub[0] in auto_graph[sub[0]]:
                names = sorted(sub, key=lambda s: list(menu.steps).index(s))
                problems.error(
                    menu.where("step", names[0]),
                    f"steps {' → '.join(names)} loop without ever waiting for a key: the call "
                    "would spin for ever",
                    "endless-loop",
                )
