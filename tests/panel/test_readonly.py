"""The read-only view's pieces without a server: what a file becomes (safe HTML), which view the
panel picks from what the client says, and the same-site rule."""

from __future__ import annotations

import base64
import json
import re

import pytest

from cocalc_magic.client.models import Embed, FramingCheck
from cocalc_magic.panel.readonly import choose, same_site
from cocalc_magic.panel.render import MAX_BYTES, render

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def notebook(*outputs: dict, markdown: str = "# Results") -> str:
    return json.dumps({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": markdown},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "plot()", "outputs": list(outputs)},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    })


IMAGE = {"output_type": "display_data", "metadata": {},
         "data": {"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure size 640x480>"}}
STREAM = {"output_type": "stream", "name": "stdout", "text": "mean = 4.5\n"}
HOSTILE = {"output_type": "display_data", "metadata": {},
           "data": {"text/html": "<b onclick=\"exfil_7f3a()\">bold</b><script>exfil_7f3a()</script><iframe src='https://x.test'></iframe>"
                                 "<a href=\"javascript:exfil_7f3a()\">link</a><img src=x onerror=exfil_7f3a()>"}}
SCRIPT = {"output_type": "display_data", "metadata": {}, "data": {"application/javascript": "exfil_7f3a()"}}


def test_notebook_shows_its_stored_outputs_and_image():
    page = render("work/plot.ipynb", notebook(STREAM, IMAGE))
    assert page.kind == "notebook" and page.note == ""
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in page.html
    assert "mean = 4.5" in page.html and "<span class=\"n\">plot</span>" in page.html
    assert re.search(r"<h1[^>]*>Results", page.html)  # Markdown rendered, not escaped


def test_nothing_from_the_file_can_run():
    page = render("evil.ipynb", notebook(HOSTILE, SCRIPT, markdown="# T\n<script>exfil_7f3a()</script><img src=x onerror=exfil_7f3a()>"))
    assert "exfil_7f3a()" not in page.html
    for bad in ("onclick", "onerror", "javascript:", "<iframe", "https://x.test"):
        assert bad not in page.html
    assert "<b>bold</b>" in page.html  # harmless HTML stays
    # the page itself forbids scripts and loads nothing but inline styles and images
    head = page.html[: page.html.index("</head>")]
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', head).group(1)
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert head.index("Content-Security-Policy") < head.index("<script")  # before anything that could load


def test_markdown_text_and_images():
    md = render("README.md", "# Title\n\nSome *text* and <script>exfil_7f3a()</script>.")
    assert md.kind == "markdown" and re.search(r"<h1[^>]*>Title", md.html) and "<em>text</em>" in md.html
    assert "<script" not in md.html.split("<main>")[1]
    txt = render("notes.txt", "<b>not html</b>\nline 2")
    assert txt.kind == "text" and "&lt;b&gt;not html&lt;/b&gt;" in txt.html
    img = render("fig.png", PNG)
    assert img.kind == "image" and f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in img.html


def test_a_missing_attachment_does_not_hide_the_notebook():
    page = render("a.ipynb", notebook(STREAM, markdown="# Intro\n\n![diagram](attachment:gone.png)"))
    assert page.kind == "notebook" and "mean = 4.5" in page.html and re.search(r"<h1[^>]*>Intro", page.html)
    nb = json.loads(notebook(markdown="![diagram](attachment:d.png) ![gone](attachment:gone.png)"))
    nb["cells"][0]["attachments"] = {"d.png": {"image/png": base64.b64encode(PNG).decode()}}
    page = render("b.ipynb", json.dumps(nb))
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in page.html  # the attachment there


def test_what_cannot_be_shown_says_why():
    assert render("data.bin", b"\xff\xfe\x00\x01").note == "data.bin is a binary file"
    bad = render("broken.ipynb", "{not json")
    assert bad.kind == "text" and bad.note.startswith("broken.ipynb is not a valid notebook") and "{not json" in bad.html
    big = render("huge.txt", b"x" * (MAX_BYTES + 1))
    assert big.note == "huge.txt is too large to show here"


def embed(can_sign_in: bool) -> Embed:
    return Embed("https://h/k", "https://h/s" if can_sign_in else None, "https://h/n", "https://h", "conat",
                 FramingCheck(True, ""), None if can_sign_in else "refused", can_sign_in=can_sign_in)


@pytest.mark.parametrize("can, token, live, origin, view", [
    (True, True, None, "http://127.0.0.1:8888", "live"),  # a token signs the frame in
    (False, True, None, "http://127.0.0.1:8888", "rendered"),  # no sign-in, another site
    (False, True, None, "https://jupyter.example.org", "live-untokened"),  # same site: its cookie may apply
    (False, False, None, "http://127.0.0.1:8888", "live"),  # token=False: the user asked for the browser's session
    (False, True, True, "http://127.0.0.1:8888", "live"),
    (True, True, False, "http://127.0.0.1:8888", "rendered"),
])
def test_the_client_decides_which_view(can, token, live, origin, view):
    assert choose(embed(can), token=token, live=live, page_origin=origin, host="https://cocalc.example.org") == view


@pytest.mark.parametrize("page, host, same", [
    ("https://jupyter.example.org", "https://cocalc.example.org", True),
    ("https://example.org", "https://example.org", True),
    ("https://jupyter.example.org:8443", "https://cocalc.example.org", True),  # ports do not make sites
    ("http://jupyter.example.org", "https://cocalc.example.org", False),  # http parents never
    ("https://hub.university.edu", "https://cocalc.ai", False),
    ("https://127.0.0.1:8888", "https://127.0.0.2", False),
    ("", "https://cocalc.ai", False),
])
def test_same_site(page, host, same):
    assert same_site(page, host) is same
