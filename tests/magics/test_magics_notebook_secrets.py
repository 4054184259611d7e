"""A notebook of magics, run in a real kernel with a known key, then saved: the saved file holds no
trace of the key (outputs, errors, tracebacks, widget state) nor of the auth token minted in it."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)]


def cells(title: str, token_file: Path) -> list[str]:
    return [
        "%load_ext cocalc_magic",
        "%cocalc whoami",
        "%cocalc ping",
        f"%cocalc create {title} --start",
        f"%cocalc use {title}",
        "%cocalc projects",
        "%%cocalc_write notes.txt\nhello from the notebook\n",
        "%cocalc exec cat notes.txt",
        "r = %cocalc exec ls -la\nr",
        "t = %cocalc token\nt",
        f"open({str(token_file)!r}, 'w').write(str(t));",  # hands the token to the test, not the notebook
        "%cocalc ls",
        "%cocalc read notes.txt",
        "%cocalc ls -p no-such-project-xyz",
        "%config CoCalcMagics.show_tracebacks = True\n%cocalc read no-such-file.txt",
        "%cocalc panel",
        "%cocalc open notes.txt",
        "import os; 'COCALC_API_KEY' in os.environ",
    ]


def test_executed_notebook_holds_no_secret(cocalc_server, tmp_path, monkeypatch):
    srv = cocalc_server
    for name in ("COCALC_PROJECT_ID",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCALC_HOST", srv.url)
    monkeypatch.setenv("COCALC_API_KEY", srv.api_key)
    monkeypatch.setenv("COCALC_MAGIC_NO_AUTOLOAD", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    title = f"nb-{uuid.uuid4().hex[:8]}"
    nb = nbformat.v4.new_notebook()
    token_file = tmp_path / "token.txt"
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells(title, token_file)]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text()

    # It really ran: the outputs a user expects are there.
    def text_of(i: int) -> str:
        return json.dumps(nb.cells[i].outputs)

    assert "pong from" in text_of(2)
    assert f"Created project {title}" in text_of(3)
    assert "Writing notes.txt" in text_of(6)
    assert "hello from the notebook" in text_of(7)
    assert "NotFound" in text_of(13)
    assert "auth token" in text_of(9)
    assert "True" in text_of(17)
    # ... and no secret is in the saved file.
    key = srv.api_key
    assert key not in saved
    assert key[3:] not in saved and key[3:15] not in saved
    token = token_file.read_text()
    assert len(token) >= 12
    assert token not in saved and token[:-4] not in saved
