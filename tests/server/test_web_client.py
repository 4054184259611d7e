"""The client's embedding URLs against the local server's pages: what ``cc.embed`` hands the
panel must sign a browser in and show the file, on each generation."""

from __future__ import annotations

import json

import pytest
import requests

from cocalc_magic import CoCalc
from cocalc_magic.server import LocalServer

NB = {"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "print(1)",
                 "outputs": [{"output_type": "stream", "name": "stdout", "text": "embedded output\n"}]}],
      "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _project(srv, name="Embed me"):
    store = srv.ctx.store
    pid = store.create_project(srv.account_id, name)
    (store.home(pid) / "a dir").mkdir()
    (store.home(pid) / "a dir" / "nb.ipynb").write_text(json.dumps(NB))
    return pid


@pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)
def test_embed_urls_sign_in_and_show_the_file(cocalc_server):
    srv = cocalc_server
    pid = _project(srv)
    cc = CoCalc(host=srv.url, api_key=srv.api_key, api=srv.api)
    e = cc.embed(pid, "a dir/nb.ipynb")
    assert e.framing.allowed, e.framing.reason
    assert e.signin_url and e.token_error is None
    s = requests.Session()
    first = s.get(e.signin_url)
    if srv.api == "v1":  # one step: the kiosk URL with the token opens the file
        assert "embedded output" in first.text and 'class="cocalc-cell ' in first.text
    else:  # current: /auth/impersonate sets the cookie and sends the browser to /app
        assert first.url.startswith(f"{srv.url}/auth/impersonate") and f'"{srv.url}/app"' in first.text
    kiosk = s.get(e.kiosk_url).text
    assert 'id="sign-in"' not in kiosk
    opened = s.post(f"{srv.url}/_local/kiosk/open", json={"project_id": pid, "path": "a dir/nb.ipynb"}).json()
    assert "embedded output" in opened["html"]
    # without the sign-in step a fresh browser sees the sign-in form, not the file
    assert 'id="sign-in"' in requests.get(e.kiosk_url).text


@pytest.mark.parametrize("api", ["v1", "conat"])
def test_framing_check_sees_a_forbidding_server(tmp_path, api):
    with LocalServer(data_dir=tmp_path, api=api, frame_ancestors="'none'") as srv:
        pid = _project(srv)
        cc = CoCalc(host=srv.url, api_key=srv.api_key, api=api)
        check = cc.framing_check(f"{srv.url}/projects/{pid}/files/x?fullscreen=kiosk&session=")
        assert check.allowed is False and "forbids framing" in check.reason
