"""Question → plan, deterministically: time phrases, vocabulary, follow-ups, screening."""

from app.understand.engine import READERS, plan_question, plan_reading, read_question
from app.understand.lexicon import Lexicon, lexicon_for
from app.understand.reading import EngineContext, Reading
from app.understand.screen import SUGGESTIONS, screen_question

__all__ = [
    "READERS",
    "SUGGESTIONS",
    "EngineContext",
    "Lexicon",
    "Reading",
    "lexicon_for",
    "plan_question",
    "plan_reading",
    "read_question",
    "screen_question",
]
