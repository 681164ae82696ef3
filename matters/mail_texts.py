"""The words of the outgoing e-mails: a unit's notice of a matter (Polish, English below), and
the resident's combined answer in the resident's language (pl, en, uk)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnitAnswer:
    unit_name: str
    text: str


def unit_notice(
    *, number: str, unit_name: str, category: str, link: str, expires: str, centre: str
) -> tuple[str, str]:
    """Subject and body of the e-mail a unit gets when a matter is forwarded to it."""
    subject = f"[{number}] Nowa sprawa od {centre} / New matter"
    body = (
        f"Dzień dobry,\n\n{centre} przekazuje sprawę {number} ({category}) do: {unit_name}.\n"
        f"Sprawę można przeczytać i odpowiedzieć na nią tutaj (bez logowania):\n\n{link}\n\n"
        f"Link jest ważny do {expires} i dotyczy tylko tej sprawy. Prosimy go nie przekazywać.\n\n"
        f"---\n{centre} forwards matter {number} to {unit_name}. Read and answer it here (no "
        f"account needed): the link above, valid until {expires}, for this matter only.\n"
    )
    return subject, body


_RESIDENT = {
    "pl": (
        "Odpowiedź w sprawie {number}",
        "Dzień dobry,\n\nw sprawie {number}, zgłoszonej do {centre}, otrzymaliśmy odpowiedź:\n\n"
        "{answers}\n\nW razie pytań prosimy o kontakt pod numerem {hotline}, podając numer "
        "sprawy.\n\n{centre}\n",
    ),
    "en": (
        "Answer on your matter {number}",
        "Hello,\n\nyour matter {number}, reported to {centre}, has been answered:\n\n"
        "{answers}\n\nIf you have questions, call {hotline} and give the matter number.\n\n"
        "{centre}\n",
    ),
    "uk": (
        "Відповідь щодо звернення {number}",
        "Добрий день,\n\nщодо вашого звернення {number} до {centre} ми отримали відповідь:\n\n"
        "{answers}\n\nЯкщо маєте запитання, телефонуйте {hotline} і назвіть номер "
        "звернення.\n\n{centre}\n",
    ),
}


def resident_answer(
    language: str, *, number: str, answers: list[UnitAnswer], centre: str, hotline: str
) -> tuple[str, str]:
    """One e-mail with every unit's answer, in the resident's language (Polish when unknown)."""
    subject, body = _RESIDENT.get(language, _RESIDENT["pl"])
    text = "\n\n".join(f"{a.unit_name}:\n{a.text}" for a in answers)
    values = {"number": number, "answers": text, "centre": centre, "hotline": hotline}
    return subject.format(**values), body.format(**values)
