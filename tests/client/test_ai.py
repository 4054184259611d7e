"""What cocalc.ai does differently, against the local server's ai generation: detection without a
request, the projects list, explicit start, capabilities and allowed projects, and what keys may not
do at all. (The common surface runs on ai in test_client.py.)"""

from __future__ import annotations

import uuid

import pytest

from cocalc_magic import errors as E
from cocalc_magic.client import CoCalc

from .conftest import ALL_CAPABILITIES

pytestmark = pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)


def client(srv, caps=ALL_CAPABILITIES, projects=None, **kw) -> CoCalc:
    key = srv.create_key(capabilities=list(caps), projects=list(projects or [srv.project_id]))
    return CoCalc(host=srv.url, api_key=key, **{"timeout": 20, **kw})


def one_line(err: E.CoCalcError) -> str:
    text = str(err)
    assert "\n" not in text and "try again" not in text.lower(), text
    return text


def test_a_cocalc_ai_key_needs_no_probe(cocalc_server):
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    assert cc.api == "ai" and cc._transport.calls == 0
    assert cc.ping().api == "ai" and cc._transport.calls == 1


def test_an_old_key_on_cocalc_ai_says_what_keys_look_like(cocalc_server):
    cc = CoCalc(host=cocalc_server.url, api_key="sk-oldCocalcComKey0123456789")
    assert cc.api == "ai"  # system.test is refused to the key; /customize names the product
    with pytest.raises(E.AuthenticationError) as info:
        cc.projects()
    assert "sk-cc-v2." in one_line(info.value)


def test_projects_are_listed_and_filled_lazily(cocalc_server):
    cc = client(cocalc_server)
    ps = cc.projects()
    mine = [p for p in ps if p.project_id == cocalc_server.project_id]
    assert len(mine) == 1 and mine[0].title
    before = cc._transport.calls
    repr(ps), ps._repr_html_()  # showing the list asks nothing more
    assert cc._transport.calls == before
    assert mine[0].state in ("running", "opened", "starting")  # asked now, once
    assert mine[0].state == mine[0].state and cc._transport.calls == before + 1
    assert cc.project(mine[0].title).project_id == cocalc_server.project_id
    assert cc.project(cocalc_server.project_id).title == mine[0].title


def test_stopped_project_is_started_before_a_command(cocalc_server):
    cc = client(cocalc_server)
    p = cc.project(cocalc_server.project_id)
    p.stop()
    assert p.state() == "opened"
    assert p.exec("echo", "back").stdout == "back\n"  # started through /api/v2/projects/start first
    assert p.state() == "running"


def test_files_commands_jobs_and_copy(cocalc_server):
    setup = client(cocalc_server)
    other = setup.create_project(f"ai-copy-target-{uuid.uuid4().hex[:6]}")
    cc = client(cocalc_server, projects=[cocalc_server.project_id, other.project_id])
    p = cc.project(cocalc_server.project_id)
    name = f"ai-{uuid.uuid4().hex[:6]}"
    p.write(f"{name}/a.txt", "ünï\n")
    assert p.read(f"{name}/a.txt") == "ünï\n" and p.exists(f"{name}/a.txt")
    assert [e.name for e in p.listing(name)] == ["a.txt"]
    p.write_bytes(f"{name}/b.bin", bytes(range(256)))
    assert p.read_bytes(f"{name}/b.bin") == bytes(range(256))
    p.copy_to(other.project_id, name)
    assert cc.project(other.project_id).read(f"{name}/a.txt") == "ünï\n"
    job = p.exec("sleep 30", bash=True, background=True)
    assert job.poll() is None and job.cancel()


def test_a_project_the_key_created_is_not_in_its_list(cocalc_server):
    cc = client(cocalc_server)
    title = f"made-by-key-{uuid.uuid4().hex[:6]}"
    p = cc.create_project(title)
    with pytest.raises(E.PermissionDenied) as info:
        p.exec("echo", "x")
    err = info.value
    assert (err.capability, err.project_id) == ("project:exec", p.project_id)
    text = one_line(err)
    assert title in text and "allowed projects" in text and "Account → API keys" in text
    with pytest.raises(E.PermissionDenied) as info:
        cc.create_project(f"{title}-started", start=True)
    assert "allowed projects" in one_line(info.value)


@pytest.mark.parametrize("call", [
    lambda cc: cc.auth_token(),
    lambda cc: cc.create_account("new@example.org", "pw-123456789"),
    lambda cc: cc.user_search("someone"),
    lambda cc: cc.add_collaborator(cc.settings.project, "00000000-0000-4000-8000-000000000000"),
    lambda cc: cc.remove_collaborator(cc.settings.project, "00000000-0000-4000-8000-000000000000"),
    lambda cc: cc.call_hub("db.userQuery", {"query": {"projects": [{"project_id": None}]}}),
], ids=["auth_token", "create_account", "user_search", "add_collaborator", "remove_collaborator", "db.userQuery"])
def test_what_keys_may_not_do_is_not_supported(cocalc_server, call):
    cc = client(cocalc_server, project=cocalc_server.project_id)
    with pytest.raises(E.NotSupported) as info:
        call(cc)
    assert "cocalc.ai does not let API keys" in one_line(info.value)


# the capability each call needs, removed from the key in turn
NEEDS = [
    ("project:list", lambda cc, p, q: cc.projects()),
    ("project:create", lambda cc, p, q: cc.create_project("not-allowed")),
    ("project:read", lambda cc, p, q: p.state()),
    ("project:exec", lambda cc, p, q: p.exec("echo", "x")),
    ("project:exec", lambda cc, p, q: p.read("x.txt")),
    ("project:exec", lambda cc, p, q: p.write("x.txt", "x")),
    ("project:exec", lambda cc, p, q: p.listing()),
    ("project:exec", lambda cc, p, q: p.start()),
    ("file:read", lambda cc, p, q: p.copy_to(q, "x.txt")),
    ("file:write", lambda cc, p, q: p.copy_to(q, "x.txt")),
    ("account:read", lambda cc, p, q: cc.get_usernames(["00000000-0000-4000-8000-000000000000"])),
]


@pytest.mark.parametrize("cap,call", NEEDS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(NEEDS)])
def test_each_missing_capability_is_a_typed_one_line_refusal(cocalc_server, cap, call):
    from cocalc_magic.client.project import Project

    full = client(cocalc_server)
    full.project(cocalc_server.project_id).write("x.txt", "x")
    cc = client(cocalc_server, caps=[c for c in ALL_CAPABILITIES if c != cap])
    p = Project(cc, cocalc_server.project_id, "apitest")
    with pytest.raises(E.PermissionDenied) as info:
        call(cc, p, cocalc_server.project_id)
    assert info.value.capability == cap
    text = one_line(info.value)
    assert cap in text and "Account → API keys" in text


def test_without_project_read_commands_still_run(cocalc_server):
    cc = client(cocalc_server, caps=[c for c in ALL_CAPABILITIES if c != "project:read"])
    assert cc.project(cocalc_server.project_id).exec("echo", "ok").stdout == "ok\n"


def test_key_doctor(cocalc_server):
    me = client(cocalc_server, project=cocalc_server.project_id).whoami()
    assert me.api == "ai" and "cocalc.ai" in me.generation and me.key_id
    checks = {c.capability: c for c in me.checks}
    assert all(checks[c].ok for c in ("project:list", "project:read", "project:exec", "file:read", "file:write",
                                      "account:read"))
    assert checks["project:create"].ok is None and not me.missing
    me = client(cocalc_server, caps=["project:list", "project:read", "account:read"],
                project=cocalc_server.project_id).whoami()
    lacking = {c.capability: c for c in me.missing}
    assert set(lacking) == {"project:exec", "file:read"} and "add 'project:exec'" in lacking["project:exec"].fix


def test_a_call_to_a_stopped_project_says_so(cocalc_server):
    cc = client(cocalc_server)
    p = cc.project(cocalc_server.project_id)
    p.stop()
    with pytest.raises(E.ServerTimeout) as info:
        cc.call_project(p.project_id, "system.ping", timeout=0.5)  # the raw bridge never starts it
    assert "is not running" in one_line(info.value) and "p.start()" in str(info.value)
    p.start()


def test_the_panel_lists_projects_without_a_call_per_row(cocalc_server):
    from cocalc_magic.panel.rows import project_rows

    cc = client(cocalc_server)
    ps = cc.projects()
    before = cc._transport.calls
    rows = project_rows(ps)
    assert cc._transport.calls == before and any(r["project_id"] == cocalc_server.project_id for r in rows)


def test_cocalc_ai_reads_ten_megabytes_per_request(cocalc_server):
    cc = client(cocalc_server)
    assert cc.max_write_bytes > 10_000_000  # express.json({limit: "10mb"}), not conat's 1 MB
    p = cc.project(cocalc_server.project_id)
    big = "z" * 3_000_000
    p.write("big-ai.txt", big)
    assert p.read("big-ai.txt") == big
    with pytest.raises(E.InvalidRequest) as info:
        p.write("too-big.txt", "z" * (cc.max_write_bytes + 100_000))
    assert "try again" not in one_line(info.value).lower()



def test_a_project_stopped_behind_the_clients_back_is_started_again(cocalc_server):
    cc = client(cocalc_server, timeout=2)  # the bridge waits this long before saying nobody answered
    p = cc.project(cocalc_server.project_id)
    p.write("stale.txt", "before")  # seen running: not asked again for a while
    client(cocalc_server).project(cocalc_server.project_id).stop()  # elsewhere
    assert p.read("stale.txt") == "before"  # 408, then started through v2, then read once more
    assert p.state() == "running"
