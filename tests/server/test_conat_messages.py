"""messages.send / messages.get and org.message on the conat generation (server/messages/*.ts and
server/conat/api/messages.ts at 5cb3315c30): ids, recipients by id or email, the MessageMe shape,
types, limits, texts, and a restart."""

import uuid

import pytest

from conat_client import UNKNOWN_UUID, Raw, second_user

conat = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def bob(cocalc_server):
    account_id, key, email, _ = second_user(cocalc_server, "Bob", "Builder")
    return Raw(cocalc_server.url, key), account_id, email


@conat
def test_send_and_get(cocalc_server, api, bob):
    import re

    b, bob_id, bob_email = bob
    subject = "hello " + uuid.uuid4().hex[:6]
    mid = api.hub("messages.send", {"subject": subject, "body": "**hi**", "to_ids": [bob_email]})
    assert isinstance(mid, int) and mid > 0
    got = b.hub("messages.get", {"limit": 5})
    assert got[0] == {"id": mid, "subject": subject, "body": "**hi**", "from_id": cocalc_server.account_id,
                      "to_ids": [bob_id], "sent": got[0]["sent"], "thread_id": None,
                      "read": False, "saved": False, "deleted": False}
    assert re.fullmatch(ISO, got[0]["sent"])
    sent = api.hub("messages.get", {"type": "sent", "limit": 5})
    assert sent[0]["id"] == mid
    assert [m["id"] for m in b.hub("messages.get", {"type": "new"})][:1] == [mid]
    assert set(b.hub("messages.get", {"type": "new"})[0]) == {"id", "subject", "body", "from_id", "to_ids", "sent",
                                                              "thread_id"}
    assert b.hub("messages.get", {"type": "starred"}) == []
    assert all(m["id"] != mid for m in api.hub("messages.get", {}))  # not a recipient


@conat
def test_reply_threads_and_order(api, bob):
    b, bob_id, _ = bob
    first = api.hub("messages.send", {"subject": "t", "body": "1", "to_ids": [bob_id]})
    reply = b.hub("messages.send", {"subject": "Re: t", "body": "2", "to_ids": [api_id(api)], "reply_id": first})
    again = api.hub("messages.send", {"subject": "Re: t", "body": "3", "to_ids": [bob_id], "reply_id": reply})
    rows = b.hub("messages.get", {"limit": 2})
    assert [r["id"] for r in rows] == [again, first]  # newest first
    assert rows[0]["thread_id"] == first
    assert b.hub("messages.get", {"limit": 1, "offset": 1})[0]["id"] == first


def api_id(raw):
    return raw.hub("system.test")["account_id"]


@conat
def test_send_errors(api, bob):
    _, bob_id, _ = bob
    assert api.hub("messages.send", {"subject": "s", "body": "b"}) == {
        "error": "TypeError: Cannot read properties of undefined (reading 'filter')"}
    assert api.hub("messages.send", {"subject": "s", "body": "b", "to_ids": [UNKNOWN_UUID]}) == {
        "error": f"Error: invalid account_id -- {UNKNOWN_UUID}"}
    assert api.hub("messages.send", {"subject": "s", "body": "b", "to_ids": ["bob"]}) == {
        "error": 'error: invalid input syntax for type uuid: "bob"'}
    assert api.hub("messages.send", {"subject": "s", "body": "b", "to_ids": []}) is None
    assert api.hub("messages.send", {"subject": "s", "body": "b", "to_ids": ["nobody@example.com"]}) is None
    assert api.hub("messages.send", {"body": "b", "to_ids": [bob_id]}) == {
        "error": 'error: null value in column "subject" of relation "messages" violates not-null constraint'}


@conat
def test_get_errors(api):
    assert api.hub("messages.get", {"limit": 501}) == {"error": "Error: limit must be at most 500"}
    assert api.hub("messages.get", {"type": "liked"}) == {"error": 'error: syntax error at or near "undefined"'}


@conat
def test_org_message_reaches_every_member(cocalc_server, api):
    org = f"msg-{uuid.uuid4().hex[:8]}"
    api.hub("org.create", {"name": org})
    ids = [api.hub("org.createUser", {"name": org, "email": f"{uuid.uuid4().hex[:8]}@example.com"}) for _ in range(2)]
    assert api.hub("org.message", {"name": org, "subject": "Welcome", "body": "to the class"}) is None
    for account_id in ids:
        member = Raw(cocalc_server.url, cocalc_server.ctx.store.create_api_key(account_id, name="m")[1])
        got = member.hub("messages.get", {"limit": 1})
        assert (got[0]["subject"], got[0]["to_ids"]) == ("Welcome", ids)
    empty = f"empty-{uuid.uuid4().hex[:8]}"
    api.hub("org.create", {"name": empty})
    assert api.hub("org.message", {"name": empty, "subject": "x", "body": "y"}) is None  # nobody: nothing sent


def test_messages_survive_a_restart(tmp_path):
    from cocalc_magic.server import LocalServer

    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        bob_id, bob_key, _, _ = second_user(srv)
        mid = Raw(srv.url, srv.api_key).hub("messages.send", {"subject": "kept", "body": "b", "to_ids": [bob_id]})
    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        assert Raw(srv.url, bob_key).hub("messages.get", {})[0]["id"] == mid
        nxt = Raw(srv.url, bob_key).hub("messages.send", {"subject": "s", "body": "b", "to_ids": [bob_id]})
        assert nxt == mid + 1


@conat
def test_v2_routes(cocalc_server, api, bob):
    """/api/v2/messages/send|get: v2's envelope, ids only, to_ids defaulting to the sender."""
    b, bob_id, bob_email = bob
    out = api.v2("messages/send", {"subject": "v2", "body": "b", "to_ids": [bob_id]})
    assert out == {"status": "ok", "id": out["id"]} and isinstance(out["id"], int)
    got = b.v2("messages/get", {"limit": 1})
    assert got["status"] == "ok" and got["messages"][0]["id"] == out["id"]
    me = api.v2("messages/send", {"subject": "note to self", "body": "b"})
    assert api.v2("messages/get", {"limit": 1})["messages"][0]["id"] == me["id"]
    assert api.v2("messages/send", {"subject": "s", "body": "b", "to_ids": [bob_email]}) == {
        "error": f'invalid input syntax for type uuid: "{bob_email}"'}
    assert api.v2("messages/get", {"limit": 1000}) == {"error": "limit must be at most 500"}
    assert Raw(cocalc_server.url, None).v2("messages/send", {"subject": "s", "body": "b"}) == {
        "error": "Must be signed in to send messages"}
    assert Raw(cocalc_server.url, None).v2("messages/get", {}) == {"error": "Must be signed in to get messages"}
