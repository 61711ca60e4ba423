"""Question → plan, deterministically: time phrases, vocabulary, follow-ups, screening."""
