"""Knowledge base: service cards per department, Polish full-text search, topic mapping."""

from kb.analysis import PolishAnalyzer, fold, load_polish_analyzer, polish_analyzer
from kb.card import Language, ServiceCard, TopicKind
from kb.cardfile import parse_card, render_card
from kb.errors import ArticleNotFound, CardFileError, DuplicateSlug, KnowledgeBaseError
from kb.folder import ImportRefused, ImportReport, export_folder, import_folder, read_folder
from kb.search import SearchHit
from kb.snippets import Snippet
from kb.store import (
    Article,
    ArticleFamily,
    ArticleListing,
    KnowledgeBase,
    ReviewItem,
    RevisionInfo,
    SaveResult,
    TopicMatch,
)
from kb.suggest import (
    ReasonKind,
    SuggestedArticle,
    Suggestion,
    SuggestionReason,
    SuggestionRequest,
    suggest,
)
from kb.validation import CardInvalid, FieldProblem, validate_card

__all__ = [
    "Article",
    "ArticleFamily",
    "ArticleListing",
    "ArticleNotFound",
    "CardFileError",
    "CardInvalid",
    "DuplicateSlug",
    "FieldProblem",
    "ImportRefused",
    "ImportReport",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Language",
    "PolishAnalyzer",
    "ReasonKind",
    "ReviewItem",
    "RevisionInfo",
    "SaveResult",
    "SearchHit",
    "ServiceCard",
    "Snippet",
    "SuggestedArticle",
    "Suggestion",
    "SuggestionReason",
    "SuggestionRequest",
    "TopicKind",
    "TopicMatch",
    "export_folder",
    "fold",
    "import_folder",
    "load_polish_analyzer",
    "parse_card",
    "polish_analyzer",
    "read_folder",
    "render_card",
    "suggest",
    "validate_card",
]
