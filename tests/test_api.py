"""The HTTP API over the demo warehouse: conversations, answers, rows, SSE, problem details."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.core.settings import Settings

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PROBLEM = {"type", "title", "status", "detail"}


@pytest.fixture(scope="module")
def settings(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    state = tmp_path_factory.mktemp("api") / "state.sqlite3"
    return Settings(warehouse_path=demo_path, state_path=state)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: AT)) as c:
        yield c


def start(client: TestClient, account: str = "acct_demo_01") -> str:
    r = client.post("/v1/conversations", json={"account": account, "as_of": "2025-07-15"})
    assert r.status_code == 201, r.text
    assert r.json()["account"] == account
    return str(r.json()["id"])


def ask(client: TestClient, cid: str, question: str, **extra: object) -> dict:
    r = client.post(f"/v1/conversations/{cid}/messages", json={"question": question, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


def assert_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) == PROBLEM and body["status"] == status
    assert "Traceback" not in body["detail"]
    return dict(body)


def sse(text: str) -> list[tuple[str, str | None, str]]:
    """(event, id, data) of each event of an SSE body."""
    out = []
    for block in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = fields.get(name, "") + value if name == "data" else value
        out.append((fields["event"], fields.get("id"), fields["data"]))
    return out


def test_create_ask_get_the_answer_and_its_rows_as_csv(client: TestClient) -> None:
    cid = start(client)
    r = client.post(
        f"/v1/conversations/{cid}/messages", json={"question": "gross volume by month last quarter"}
    )
    assert r.status_code == 200
    answer = r.json()
    assert answer["status"] == "answered" and answer["account"] == "acct_demo_01"
    assert answer["as_of"] == "2025-07-15" and answer["period"]["start"] == "2025-04-01"
    assert r.headers["location"] == f"/v1/conversations/{cid}/messages/1"
    again = client.get(f"/v1/conversations/{cid}/messages/1").json()
    assert again["headline"] == answer["headline"] and again["sql"] == answer["sql"]
    assert again["rows"] == answer["rows"]
    r = client.get(f"/v1/conversations/{cid}/messages/1/rows", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == [c["name"] for c in answer["columns"]]
    assert len(table) == 1 + len(answer["rows"]) == 4
    assert [row[1] for row in table[1:]] == [str(row[1]) for row in answer["rows"]]
    rows = client.get(f"/v1/conversations/{cid}/messages/1/rows", params={"format": "json"}).json()
    assert rows["rows"] == answer["rows"] and rows["columns"] == answer["columns"]
    assert client.get(f"/v1/conversations/{cid}").json()["messages"] == 1


def test_a_follow_up_edits_the_previous_answer(client: TestClient) -> None:
    cid = start(client)
    first = ask(client, cid, "gross volume last quarter")
    follow = ask(client, cid, "and by month?")
    assert first["status"] == follow["status"] == "answered"
    assert follow["period"] == first["period"] and len(follow["rows"]) == 3


def test_streaming_sends_the_steps_before_the_answer_event(client: TestClient) -> None:
    cid = start(client)
    with client.stream(
        "POST",
        f"/v1/conversations/{cid}/messages",
        json={"question": "gross volume last quarter"},
        headers={"Accept": "text/event-stream"},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse(r.read().decode())
    names = [e[0] for e in events]
    assert names == [
        "planning",
        "planning",
        "sql",
        "guard",
        "executing",
        "rows",
        "explanation",
        "answer",
    ]
    steps = [json.loads(data) for name, _, data in events if name != "answer"]
    assert all(set(s) == {"kind", "text", "sql"} for s in steps)
    answer = json.loads(events[-1][2])
    assert answer["status"] == "answered" and events[-1][1] == "1"
    assert steps[2]["sql"] == answer["sql"]
    assert client.get(f"/v1/conversations/{cid}/messages/1").json()["sql"] == answer["sql"]


def test_problem_details_on_bad_input(client: TestClient, settings: Settings) -> None:
    cid = start(client)
    empty = assert_problem(
        client.post(f"/v1/conversations/{cid}/messages", json={"question": " "}), 422
    )
    assert "The question is empty" in empty["detail"]
    long = "gross volume " * 400
    too_long = assert_problem(
        client.post(f"/v1/conversations/{cid}/messages", json={"question": long}), 422
    )
    assert too_long["detail"] == (
        f"The question is longer than {settings.max_question_chars} characters "
        "(the `max_question_chars` setting)."
    )
    unknown = assert_problem(
        client.post("/v1/conversations/nope/messages", json={"question": "mrr"}), 404
    )
    assert unknown["detail"] == "No conversation nope."
    assert_problem(client.get("/v1/conversations/nope/messages/1"), 404)
    assert_problem(client.get(f"/v1/conversations/{cid}/messages/9"), 404)
    assert_problem(client.get(f"/v1/conversations/{cid}/messages/1/rows?format=xml"), 422)
    assert_problem(client.post("/v1/conversations", json={"account": "acct_nope"}), 404)
    assert_problem(client.post(f"/v1/conversations/{cid}/messages", content=b"{"), 422)
    page = {"metric": "no_such_metric"}
    assert_problem(
        client.post(
            f"/v1/conversations/{cid}/messages", json={"question": "by month", "page": page}
        ),
        422,
    )
    assert client.get(f"/v1/conversations/{cid}").json()["messages"] == 0  # none was kept


def test_the_account_cannot_be_switched_by_a_message(client: TestClient) -> None:
    cid = start(client)
    extra = client.post(
        f"/v1/conversations/{cid}/messages", json={"question": "mrr", "account": "acct_demo_02"}
    )
    assert "account" in assert_problem(extra, 422)["detail"]
    ask(client, cid, "gross volume last quarter")
    follow = ask(client, cid, "same for acct_demo_02")
    assert follow["status"] == "refused" and follow["account"] == "acct_demo_01"
    assert "acct_demo_01" in follow["headline"]
    pasted = ask(client, cid, "SELECT merchant_id, count(*) AS n FROM charges GROUP BY merchant_id")
    assert pasted["status"] == "answered" and [r[0] for r in pasted["rows"]] == ["acct_demo_01"]
    named = ask(
        client, cid, "SELECT merchant_id, amount FROM charges WHERE merchant_id = 'acct_demo_02'"
    )
    assert named["account"] == "acct_demo_01" and named["rows"] == []  # scoped: nothing of B
    assert "merchant_id = 'acct_demo_01'" in named["sql"]


def test_a_page_context_is_what_a_follow_up_edits(client: TestClient) -> None:
    cid = start(client)
    page = {
        "name": "Payments",
        "metric": "gross_volume",
        "period": {"start": "2025-01-01", "end": "2025-04-01"},
    }
    answer = ask(client, cid, "by month", page=page)
    assert answer["status"] == "answered"
    assert answer["period"]["start"] == "2025-01-01" and len(answer["rows"]) == 3


def test_conversations_survive_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings, clock=lambda: AT)) as first:
        cid = start(first, "acct_demo_02")
        before = ask(first, cid, "gross volume last quarter")
    with TestClient(create_app(settings, clock=lambda: AT)) as second:
        assert second.get(f"/v1/conversations/{cid}/messages/1").json() == before
        follow = ask(second, cid, "and by month?")
        assert follow["account"] == "acct_demo_02" and follow["as_of"] == "2025-07-15"
        assert len(follow["rows"]) == 3


def test_the_openapi_schema_and_docs_are_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "Ledgerlens API"
    assert {
        "/v1/conversations",
        "/v1/conversations/{conversation_id}/messages",
        "/v1/conversations/{conversation_id}/messages/{n}",
        "/v1/conversations/{conversation_id}/messages/{n}/rows",
    } <= set(schema["paths"])
    assert "Answer" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200
