"""Errors of the knowledge base; each message names the file, line, field or article concerned."""

from __future__ import annotations

from kck.errors import UserError


class KnowledgeBaseError(UserError):
    """Base of every knowledge-base error a user can act on."""


class CardFileError(KnowledgeBaseError):
    """A service-card Markdown file is malformed: the message names file, line and field."""

    def __init__(
        self, source: str, message: str, *, line: int | None = None, field: str | None = None
    ):
        self.source = source
        self.line = line
        self.field = field
        where = source if line is None else f"{source}:{line}"
        what = f" field '{field}':" if field else ""
        super().__init__(f"{where}:{what} {message}")


class ArticleNotFound(KnowledgeBaseError):
    """No article with this slug (or no such revision of it)."""


class DuplicateSlug(KnowledgeBaseError):
    """Two files in one import folder declare the same article id."""
