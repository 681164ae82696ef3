"""The service card ("karta usługi"): the content of one knowledge-base article, validated."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOPIC_KEY = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


class Language(enum.StrEnum):
    PL = "pl"
    EN = "en"
    UK = "uk"


class TopicKind(enum.StrEnum):
    """What a topic key is: an IVR menu choice, a speech intent or a ticket category."""

    IVR_CHOICE = "ivr-choice"
    INTENT = "intent"
    TICKET_CATEGORY = "ticket-category"


def _not_slug(value: str) -> PydanticCustomError:
    # a type of our own, so the editor can say it in the reader's language (kb.validation)
    return PydanticCustomError(
        "not_slug",
        "'{value}' is not a slug (lowercase letters, digits and '-')",
        {"value": value},
    )


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise _not_slug(value)
    return value


# a slug in a list: a problem names its item
Slug = Annotated[str, AfterValidator(_slug)]


class ServiceCard(BaseModel):
    """One article as written in `config/kb/<lang>/<slug>.md` (front matter + Markdown body)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    # the longest values the database keeps (kb.models): longer ones are refused here, by name
    id: str = Field(max_length=120, description="slug, unique across languages")
    title: str = Field(min_length=3, max_length=300)
    unit: str = Field(max_length=64, description="department key, e.g. usc, dowody, drogi")
    unit_name: str
    language: Language = Language.PL
    translation_of: str | None = Field(default=None, max_length=120)
    summary: str = ""
    keywords: tuple[str, ...] = ()
    topics: dict[TopicKind, tuple[str, ...]] = Field(default_factory=dict)
    who_may_apply: str = ""
    documents: tuple[str, ...] = ()
    fees: str = ""
    deadlines: str = ""
    where: str = ""
    hours: str = ""
    online: tuple[str, ...] = ()
    legal_basis: tuple[str, ...] = ()
    related: tuple[Slug, ...] = ()
    owner: str = Field(max_length=200)
    last_reviewed: date
    review_due: date
    body: str = ""

    @field_validator("id", "translation_of")
    @classmethod
    def _slugs(cls, value: str | None) -> str | None:
        return _slug(value) if value is not None else None

    @field_validator("topics")
    @classmethod
    def _topic_keys(
        cls, value: dict[TopicKind, tuple[str, ...]]
    ) -> dict[TopicKind, tuple[str, ...]]:
        for kind, keys in value.items():
            for key in keys:
                if not TOPIC_KEY.match(key):
                    raise PydanticCustomError(
                        "not_topic_key",
                        "topic {kind} key '{topic}' is not a key like 'id-card'",
                        {"kind": kind.value, "topic": key},
                    )
        return value

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return value.strip() + "\n" if value.strip() else ""

    def topic_links(self) -> list[tuple[TopicKind, str]]:
        """(kind, key) pairs, deduplicated, in a stable order."""
        seen: dict[tuple[TopicKind, str], None] = {}
        for kind in TopicKind:
            for key in self.topics.get(kind, ()):
                seen[(kind, key)] = None
        return list(seen)

    def content(self) -> dict[str, Any]:
        """The JSON form stored in a revision (what "content changed" is judged on)."""
        data = self.model_dump(mode="json")
        data["topics"] = {kind.value: list(keys) for kind, keys in self.topics.items() if keys}
        return data

    def content_hash(self) -> str:
        canonical = json.dumps(
            self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def changed_fields(self, other: ServiceCard | None) -> list[str]:
        """Names of the fields that differ from `other` (every field when there is none)."""
        mine = self.content()
        if other is None:
            return list(mine)
        theirs = other.content()
        return [name for name in mine if mine[name] != theirs.get(name)]

    @classmethod
    def from_content(cls, content: dict[str, Any]) -> ServiceCard:
        return cls.model_validate(content)
