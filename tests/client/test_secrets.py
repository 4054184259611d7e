"""Run the client's surface with a known key and scan everything shown for the key and tokens."""

from __future__ import annotations

import logging
import traceback
import uuid

import pytest

from cocalc_magic import errors as E
from cocalc_magic import settings
from cocalc_magic.client import CoCalc, sign_in_for_key

from .conftest import usable
from .faultserver import FaultServer, reply_html, reply_json, reset, truncated


def _scan(texts: list[str], secrets: list[str]) -> None:
    blob = "\n".join(texts)
    for secret in secrets:
        assert secret and secret not in blob, f"a secret ({settings.mask(secret)}) leaked"


def _surface(cc: CoCalc, shown: list[str], usable=lambda p: p) -> list[str]:
    """Call every public method; collect reprs, results and errors. Returns tokens seen.
    ``usable``: what makes a new project usable by the key (cocalc.ai: adding it to the key)."""
    tokens: list[str] = []

    def attempt(fn, *a, **kw):
        try:
            value = fn(*a, **kw)
        except E.CoCalcError as err:
            shown.extend([str(err), repr(err), "".join(traceback.format_exception(err))])
            return None
        shown.append(repr(value))
        html = getattr(value, "_repr_html_", None)
        if callable(html):
            shown.append(html())
        return value

    shown.extend([repr(cc), repr(cc.settings), str(cc.settings.describe()), repr(cc._transport)])
    attempt(cc.ping)
    attempt(cc.whoami)
    attempt(cc.projects)
    p = attempt(cc.create_project, f"secret-scan-{uuid.uuid4().hex[:6]}")
    if p is not None:
        p = usable(p)
        attempt(p.write, "a.txt", "hello")
        attempt(p.read, "a.txt")
        attempt(p.read, "missing.txt")
        attempt(p.exec, "echo", "hi")
        attempt(p.exec, "false", err_on_exit=True)
        attempt(p.listing)
        attempt(p.state)
        attempt(cc.project, p.project_id)
        embed = attempt(cc.embed, p, "a.txt")
        if embed is not None:
            shown.append(str(embed))
        attempt(p.write_bytes, "b.bin", b"\x00\x01")
        attempt(p.read_bytes, "b.bin")
        attempt(lambda: p.exec("echo bg", bash=True, background=True).wait(timeout=20))
        other = attempt(cc.create_project, "secret-scan-copy")
        if other is not None:
            other = usable(other)
            attempt(p.copy_to, other, "a.txt")
        attempt(cc.map, lambda i: p.write(f"m/{i}.txt", "x"), range(4), 2, True)
        attempt(cc.map, lambda i: p.read(f"m/none-{i}.txt"), range(2), 2, False)
        acct = attempt(cc.create_account, f"scan-{uuid.uuid4().hex[:6]}@example.com", "a-Strong-passw0rd!", "S", "C")
        if acct is not None:
            if acct.api_key:
                tokens.append(acct.api_key)
            attempt(cc.get_usernames, [acct.account_id])
            attempt(cc.add_collaborator, p, acct.account_id)
            attempt(cc.remove_collaborator, p, acct.account_id)
    if cc._backend is not None and cc.api == "v1":
        attempt(cc.call_v1, "ping")
    else:
        attempt(cc.call_hub, "system.ping")
    token = attempt(cc.auth_token)
    if token is not None:
        tokens.append(str(token))
        shown.extend([repr(token), f"{token!r}"])
    attempt(cc.project, "no such project at all")
    attempt(cc.user_search, "nobody@example.com")
    return tokens


@pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)
def test_no_secret_in_anything_shown(cocalc_server, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="cocalc_magic")
    shown: list[str] = []
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    tokens = _surface(cc, shown, lambda p: usable(cocalc_server, p))
    assert tokens or cc.api == "ai", "the surface run made no auth token"  # cocalc.ai makes none for keys
    # a wrong key: its errors must not show it either
    wrong = "sk-WRONGkey" + uuid.uuid4().hex[:12]
    bad = CoCalc(host=cocalc_server.url, api_key=wrong, api=cocalc_server.api, retries=0)
    _surface(bad, shown)
    out = capsys.readouterr()
    shown += [out.out, out.err, caplog.text] + [r.getMessage() for r in caplog.records]
    _scan(shown, [cocalc_server.api_key, wrong, *tokens])


def test_transport_failures_and_logs_never_show_the_key(capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="cocalc_magic")
    key = "sk_legacyKEY" + uuid.uuid4().hex[:12]
    shown: list[str] = []
    with FaultServer() as srv:
        srv.script("/api/conat/hub", reset(), reply_html(502), truncated(),
                   reply_json({"error": f"must be signed in and MUST provide an api key {key}"}))
        cc = CoCalc(host=srv.url, api_key=key, api="conat", retries=2, backoff=0.01)
        for _ in range(2):
            try:
                cc.ping()
            except E.CoCalcError as err:
                shown += [str(err), repr(err), "".join(traceback.format_exception(err))]
        # the key really was sent (as Basic auth), so the scan is meaningful
        assert any("Authorization" in h for h in srv.headers["/api/conat/hub"])
    out = capsys.readouterr()
    shown += [out.out, out.err, caplog.text, repr(cc), repr(cc.settings)]
    assert any("retrying" in r.getMessage() for r in caplog.records)
    _scan(shown, [key])
    assert settings.mask(key) in repr(cc)


def test_logger_filter_masks_secrets_others_log(caplog):
    key = "sk-loggedKEY" + uuid.uuid4().hex[:12]
    settings.register_secret(key)
    caplog.set_level(logging.INFO, logger="cocalc_magic")
    for name in ("cocalc_magic", "cocalc_magic.client", "cocalc_magic.magics", "cocalc_magic.panel"):
        logging.getLogger(name).info("someone logged %s by mistake", key)
    assert key not in caplog.text and caplog.text.count(settings.mask(key)) == 4


def test_sign_in_for_key_errors_do_not_show_password():
    with FaultServer() as srv:
        srv.script("/api/v2/auth/sign-in", reply_json({"error": "Problem signing into account -- password for "
                                                                "'a@b.c' is incorrect."}))
        with pytest.raises(E.AuthenticationError) as info:
            sign_in_for_key(srv.url, "a@b.c", "hunter2-very-secret")
        assert "hunter2-very-secret" not in str(info.value)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)
def test_sign_in_for_key_on_cocalc_ai_says_keys_come_from_the_web_ui(cocalc_server, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="cocalc_magic")
    with pytest.raises(E.NotSupported) as info:
        sign_in_for_key(cocalc_server.url, cocalc_server.email, cocalc_server.password, "from-test")
    assert "only in its web interface, after a two-factor sign-in" in str(info.value)
    out = capsys.readouterr()
    _scan([str(info.value), out.out, out.err, caplog.text], [cocalc_server.password])


@pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)
def test_sign_in_for_key_makes_a_working_key(cocalc_server, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="cocalc_magic")
    key = sign_in_for_key(cocalc_server.url, cocalc_server.email, cocalc_server.password, "from-test")
    assert str(key).startswith("sk") and str(key) not in repr(key)
    cc = CoCalc(host=cocalc_server.url, api_key=str(key))
    assert cc.whoami().account_id == cocalc_server.account_id
    out = capsys.readouterr()
    _scan([out.out, out.err, caplog.text, repr(cc)], [str(key), cocalc_server.password])
