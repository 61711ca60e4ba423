"""The app's own state in SQLite: conversations, share tokens, feedback and verified answers.

Never the warehouse: the file is the `state_path` setting, checked against `warehouse_path`.
"""

from app.store.db import StoreError
from app.store.drafts import cases_file, draft_case, verified_case
from app.store.hashing import answer_hash, plan_key, result_hash, same_period
from app.store.records import ConversationSummary, Feedback, Rating, Scope, Share, Turn, Verified
from app.store.store import AppStore

__all__ = [
    "AppStore",
    "ConversationSummary",
    "Feedback",
    "Rating",
    "Scope",
    "Share",
    "StoreError",
    "Turn",
    "Verified",
    "answer_hash",
    "cases_file",
    "draft_case",
    "plan_key",
    "result_hash",
    "same_period",
    "verified_case",
]
