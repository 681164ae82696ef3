"""The e-mails of a late unit (`unitmail.reminder.*`, `unitmail.escalation.*`, Polish with English
below, like the unit's notice): the reminder to the unit, and the escalation to its supervisors."""

from __future__ import annotations

from typing import Literal

from matters.mail_texts import UNIT_LANGUAGES, category_in, text_in

LateStep = Literal["reminder", "escalation"]


def late_unit_mail(
    step: LateStep,
    *,
    number: str,
    unit_name: str,
    category: str,
    deadline: str,
    late: int,
    link: str,
) -> tuple[str, str]:
    """Subject and body of the reminder a unit gets when its deadline has passed, or of the
    escalation when it is still silent after it; the link opens the matter's page."""
    values = {"number": number, "unit": unit_name, "deadline": deadline, "late": str(late)}
    title = " / ".join(
        text_in(lang, f"unitmail.{step}.subject", **values) for lang in UNIT_LANGUAGES
    )
    body = "\n---\n".join(
        f"{text_in(lang, 'unitmail.greeting')}\n\n"
        f"{text_in(lang, f'unitmail.{step}.body', **values, category=category_in(lang, category))}"
        f"\n\n{link}\n"
        for lang in UNIT_LANGUAGES
    )
    return f"[{number}] {title}", body
