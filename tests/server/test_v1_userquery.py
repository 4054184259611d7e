"""The user-query engine itself (shared by v1 ``query``, conat ``db.userQuery``, v2 ``user-query``)."""

from __future__ import annotations

import pytest

from cocalc_magic.server.http import ServerContext
from cocalc_magic.server.core.projects import ProjectRuntime
from cocalc_magic.server.core.store import Store
from cocalc_magic.server.core.userquery import UserQueryError, is_public, user_query


@pytest.fixture
def ctx(tmp_path):
    store = Store(tmp_path)
    return ServerContext(store=store, runtime=ProjectRuntime(store, start_delay=0), api="v1")


def test_gets_sets_and_shapes(ctx):
    store = ctx.store
    alice = store.create_account("a@x.y", "pw-123456", "Alice", "Example")
    bob = store.create_account("b@x.y", "pw-123456", "Bob", "B")
    admin = store.create_account("admin@x.y", "pw-123456", "Ad", "Min", admin=True)
    pid = store.create_project(alice, "A", "desc")
    bobs = store.create_project(bob, "Bob's")
    assert user_query(ctx, alice, {"projects": [{"project_id": None, "title": None}]}) == {
        "projects": [{"project_id": pid, "title": "A"}]}
    assert user_query(ctx, alice, {"projects": {"project_id": pid, "title": None}}) == {
        "projects": {"project_id": pid, "title": "A"}}
    assert user_query(ctx, alice, {"projects": {"project_id": bobs, "title": None}}) == {}
    # an admin reads any project (recorded for db.userQuery) and may set it
    assert user_query(ctx, admin, {"projects": {"project_id": bobs, "title": None}})["projects"]["title"] == "Bob's"
    assert user_query(ctx, admin, {"projects": {"project_id": bobs, "title": "renamed"}}) == {}
    assert store.project(bobs)["title"] == "renamed"
    assert user_query(ctx, alice, {"projects": {"project_id": pid, "description": "new"}}) == {}
    assert store.project(pid)["description"] == "new"
    # a project key reads only its own project
    assert user_query(ctx, pid, {"projects_all": [{"project_id": None}]}) == {"projects_all": [{"project_id": pid}]}
    # public paths
    user_query(ctx, alice, {"public_paths": {"project_id": pid, "path": "pub/", "description": "d"}})
    assert is_public(store, pid, "pub/a/b.txt") and not is_public(store, pid, "pubx.txt")
    got = user_query(ctx, alice, {"public_paths": [{"project_id": pid, "path": None, "description": None}]})
    assert got == {"public_paths": [{"project_id": pid, "path": "pub", "description": "d"}]}


@pytest.mark.parametrize(
    "account, query, options, text",
    [
        ("alice", {"projects": {"project_id": "BOBS", "title": "hacked"}}, None, "FATAL: user must be an admin"),
        (None, {"accounts": {"account_id": None}}, None, "FATAL: anonymous get queries not allowed for table 'accounts'"),
        (None, {"projects": {"project_id": "BOBS", "title": "x"}}, None, "FATAL: no anonymous set queries"),
        ("alice", {"no_such_table": {"x": None}}, None, "FATAL: get queries not allowed for table 'no_such_table'"),
        ("alice", {"projects": [{"project_id": None}, {"project_id": None}]}, None,
         "FATAL: array of length > 1 not yet implemented"),
        ("alice", {"projects": {"project_id": None}}, {"limit": 2}, 'FATAL: options (={"limit":2}) must be an array'),
        ("alice", {"projects": {"project_id": "BOBS", "action_request": {"action": "test2", "time": "t"}}}, None,
         "FATAL: user must be an admin"),
        ("alice", {"projects": {"project_id": "MINE", "action_request": {"action": "test2", "time": "t"}}}, None,
         "FATAL: action 'test2' not implemented"),
        ("alice", {"projects": {"project_id": "MINE", "created": 5}}, None, "FATAL: user set query not allowed for projects.created"),
        ("alice", {"site_settings": {"name": "x", "value": None}}, None, "FATAL: user must be an admin"),
        ("alice", {"accounts": {"account_id": "BOB", "first_name": "x"}}, None, "FATAL: account_id must be the user's own"),
    ],
)
def test_errors(ctx, account, query, options, text):
    store = ctx.store
    ids = {"alice": store.create_account("a@x.y", "pw-123456", "A", "E")}
    ids["BOB"] = store.create_account("b@x.y", "pw-123456", "B", "B")
    subs = {"BOBS": store.create_project(ids["BOB"], "b"), "MINE": store.create_project(ids["alice"], "m"),
            "BOB": ids["BOB"]}

    def sub(obj):
        if isinstance(obj, dict):
            return {k: sub(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [sub(v) for v in obj]
        return subs.get(obj, obj) if isinstance(obj, str) else obj

    with pytest.raises(UserQueryError) as err:
        user_query(ctx, ids.get(account), sub(query), options)
    assert str(err.value) == text and not err.value.type_error


def test_missing_query_is_the_recorded_type_error(ctx):
    with pytest.raises(UserQueryError) as err:
        user_query(ctx, None, None)
    assert err.value.type_error and err.value.text == "Cannot read properties of undefined (reading 'undefined')"
