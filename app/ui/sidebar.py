"""The sidebar shared by every page: account, as-of date, reporting currency, backend status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from app.access import Caller
from app.core.errors import AssistantError, WarehouseMissing
from app.semantic.load import semantic_model
from app.ui import backend, history, identity, sharing
from app.ui.text import escape_md, one_line


@dataclass(frozen=True)
class Selection:
    """What every query of this run is about: account, as-of date and reporting currency."""

    account: str
    account_name: str
    account_currency: str
    timezone: str
    as_of: date
    currency: str

    @property
    def caption(self) -> str:
        """One line naming the account, currency and as-of date (plain text)."""
        return (
            f"{self.account_name} ({self.account}) · {self.currency.upper()} · "
            f"as of {self.as_of.isoformat()}"
        )


def start_page() -> Selection:
    """Draw the sidebar for this page and return the selection; stop with a hint if no warehouse.

    Each page calls this first (not main.py): AppTest drops sidebar elements that the entry
    script writes under st.navigation on reruns, while the browser keeps them either way.
    """
    try:
        return render_sidebar()
    except WarehouseMissing as err:
        st.error(escape_md(one_line(str(err))))
        st.markdown("Build the demo warehouse (a few seconds), then reload this page:")
        st.code("make warehouse", language="bash")
    except AssistantError as err:
        st.error(escape_md(f"The warehouse could not be read: {one_line(str(err))}"))
    st.stop()


def new_conversation() -> None:
    """Start over: forget every chat of this session (they stay in the history list)."""
    for key in [k for k in st.session_state if str(k).startswith("chat:")]:
        del st.session_state[key]
    history.forget()


def _restore(key: str) -> bool:
    """Hand the kept value back to widget `key` before it is drawn (True if there was one).

    Widgets drawn by a page lose their state when another page opens; the sidebar's choices are
    therefore also kept under `keep:<key>` by `_keep`, and restored here on every page.
    """
    kept = f"keep:{key}"
    if kept in st.session_state:
        st.session_state[key] = st.session_state[kept]
        return True
    return False


def _keep(key: str) -> None:
    st.session_state[f"keep:{key}"] = st.session_state[key]


def _within(who: Caller, ids: list[str]) -> str | None:
    """Drop any account choice outside `ids` (kept, or in the URL); the URL's one if allowed."""
    for key, how in (("keep:account", "restore account"), ("account", "select account")):
        kept = st.session_state.get(key)
        if kept is not None and kept not in ids:
            who.refuse(how, str(kept))
            del st.session_state[key]
    wanted = st.query_params.get("account")
    if wanted and wanted not in ids:  # the same words whether the account exists or not
        who.refuse("open ?account=", wanted)
        st.query_params["account"] = ids[0]
        st.warning("The link names an account you cannot open here; showing one you can.")
        return None
    return wanted or None


def render_sidebar() -> Selection:
    """Draw the sidebar controls for the caller's accounts and return the selection."""
    who = identity.gate()
    history.go_to_opened()
    rows = [r for r in backend.accounts() if who.may_read(r.id)]
    if not rows:
        identity.no_accounts(who)
    by_id = {r.id: r for r in rows}
    ids = list(by_id)
    sharing.prepare({r.id: r.currency for r in rows}, who)
    wanted = _within(who, ids)
    with st.sidebar:
        restored = _restore("account")
        account = st.selectbox(
            "Account",
            ids,
            index=0 if restored or wanted is None else ids.index(wanted),
            format_func=lambda a: f"{by_id[a].name} ({a})",
            key="account",
            on_change=_keep,
            args=("account",),
        )
        row = by_id[account]
        latest = backend.latest_date(account)
        key = f"as_of:{account}"
        restored = _restore(key)
        as_of = st.date_input(
            "As of",
            value=None if restored else (latest or date(2000, 1, 1)),
            max_value=latest,
            key=key,
            on_change=_keep,
            args=(key,),
            help="Answers are computed as of this date; it defaults to the account's latest data.",
        )
        currencies = sorted(semantic_model().currencies)
        default_cur = row.currency.lower()
        if default_cur not in currencies:
            currencies.insert(0, default_cur)
        key = f"currency:{account}"
        restored = _restore(key)
        currency = st.selectbox(
            "Reporting currency",
            currencies,
            index=0 if restored else currencies.index(default_cur),
            format_func=str.upper,
            key=key,
            on_change=_keep,
            args=(key,),
            help="Totals are converted per day with the previous day's rate.",
        )
        st.caption(escape_md(f"Backend: {backend.llm_status()}"))
        if who.mode == "oidc":
            st.button("Sign out", on_click=st.logout, key="sign-out", type="tertiary")
        if latest is not None:
            st.caption(escape_md(f"Data loaded up to {latest.isoformat()}."))
        st.button("New conversation", on_click=new_conversation, width="stretch", key="new_conv")
        history.reserve({r.id: r.name for r in rows})
    if not isinstance(as_of, date):
        as_of = latest or date(2000, 1, 1)
    sel = Selection(
        account=account,
        account_name=row.name,
        account_currency=row.currency.lower(),
        timezone=row.timezone,
        as_of=as_of,
        currency=str(currency),
    )
    return sel
