"""Questions the engine must refuse before planning: hostile input and other tenants' data."""

from __future__ import annotations

import re

from app.core.plan import CannotAnswer

SUGGESTIONS = (
    "What was MRR by plan last quarter?",
    "How much tax did we collect by jurisdiction in 2025?",
    "Top 10 customers by revenue this year",
    "Refund rate by month this year",
    "Gross volume this month vs last month",
)

_HOSTILE = re.compile(
    r"\b(drop\s+(table|database|schema|view|index|column|macro|sequence|function)|"
    r"truncate\s+(table\s+)?[a-z_]+\s*(;|$)|delete\s+from|insert\s+into|update\s+\w+\s+set|alter\s+table|"
    r"grant|attach|copy\s+\w+\s+to|pragma|ignore\s+(all\s+)?(previous|prior|above)\s+"
    r"(instructions|rules)|system\s+prompt|you\s+are\s+now|jailbreak|developer\s+mode|"
    r"reveal\s+(your|the)\s+(prompt|instructions)|api\s+key|password|/etc/passwd|"
    r"(delete|erase|wipe|remove)\s+(all\s+|the\s+|every\s+|our\s+)?\w+|"
    r"update\s+(the|all|a|every)\s+\w+|"
    r"(mark|flag)\s+(\w+\s+){0,4}as\s+(paid|void|voided|uncollectible|refunded|deleted|open)|"
    r"set\s+(all|every|each|the)\s+(\w+\s+){0,3}to\s+\w+|"
    r"create\s+(a\s+|an\s+)?(new\s+)?(temp\s+|temporary\s+)?(table|view|index|schema))\b|"
    r";\s*--|--\s*$",
    re.IGNORECASE,
)
_OTHER_TENANT = re.compile(
    r"\b(other|another|all|every|each)\s+(merchant|account|tenant|compan(y|ies))s?\b|"
    r"\bcompetitors?\b|\bacross\s+(all\s+)?(accounts|merchants)\b",
    re.IGNORECASE,
)
_ACCOUNT_ID = re.compile(r"\bacct_[A-Za-z0-9_]+\b")


def screen_question(text: str, account: str) -> CannotAnswer | None:
    """Refuse writes, prompt injection and questions about other accounts."""
    if _HOSTILE.search(text):
        return CannotAnswer(
            reason="I only answer reporting questions with read-only queries; I can't change "
            "data, run commands or reveal my instructions.",
            reason_class="hostile_input",
            suggestions=SUGGESTIONS[:3],
        )
    for acct in _ACCOUNT_ID.findall(text):
        if acct != account:
            return CannotAnswer(
                reason=f"You can only see data of your own account ({account}).",
                reason_class="other_tenant",
                suggestions=SUGGESTIONS[:3],
            )
    if _OTHER_TENANT.search(text):
        return CannotAnswer(
            reason=f"You can only see data of your own account ({account}).",
            reason_class="other_tenant",
            suggestions=SUGGESTIONS[:3],
        )
    return None
