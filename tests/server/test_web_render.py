"""The renderer and the origin rules on their own: safe HTML, CoCalc's block_origin cases."""

from __future__ import annotations

import pytest

from cocalc_magic.server.web.kiosk import allowed_hosts, block_origin
from cocalc_magic.server.web.render import render_markdown, render_notebook, sanitize_html


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("<b>x</b><script>alert(1)</script>", "<b>x</b>"),
        ('<a href="javascript:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'),
        ('<img src=x onerror="alert(1)">y', "y"),
        ("<div style='background:url(x)' onclick='f()'>z</div>", "<div>z</div>"),
        ("<style>body{display:none}</style><p>t</p>", "<p>t</p>"),
        ("<table><tr><td colspan=2>1", '<table><tr><td colspan="2">1</td></tr></table>'),
        ("<iframe src='https://x'></iframe>ok", "ok"),
    ],
)
def test_sanitizer_keeps_only_inert_markup(dirty, clean):
    assert sanitize_html(dirty) == clean


@pytest.mark.parametrize("href", [
    "java\tscript:alert(1)", "java&#9;script:alert(1)", "java&#10;script:alert(1)", "jav&#x0D;ascript:alert(1)",
    " \x01javascript:alert(1)", "JaVaScRiPt:alert(1)", "&#x6A;avascript:alert(1)", "\nvbscript:x",
    "data:text/html,<script>alert(1)</script>", "java\tscript&colon;alert(1)",
])
def test_links_are_read_as_a_browser_reads_them_before_their_scheme_is_checked(href):
    """A browser drops tabs and newlines inside a URL and C0 controls around it, so these are
    all javascript: (or data:) links: none may keep its href."""
    out = sanitize_html(f'<a href="{href}">x</a>')
    assert out == '<a target="_blank" rel="noopener noreferrer">x</a>', out
    if "&" not in href:  # markdown text is escaped first: an entity there stays literal text
        md = render_markdown(f"[x]({href.replace(' ', '')})")
        assert "href" not in md, md


def test_safe_links_keep_their_href():
    assert 'href="https://a.b/x"' in sanitize_html('<a href=" https://a.b/x ">x</a>')
    assert 'href="notes/a.md"' in sanitize_html('<a href="notes/a.md">x</a>')


def test_markdown_subset_is_escaped_and_readable():
    html = render_markdown("## Title\n\n- one\n- **two**\n\n```\n<x>\n```\n[ok](https://a.b/?q=1&r=2) [bad](javascript:alert(1))")
    assert "<h2>Title</h2>" in html
    assert "<ul>\n<li>one</li>\n<li><strong>two</strong></li>\n</ul>" in html
    assert "<pre><code>&lt;x&gt;</code></pre>" in html
    assert '<a href="https://a.b/?q=1&amp;r=2"' in html
    assert "javascript" not in html  # the unsafe link becomes its bare text


def test_broken_and_empty_notebooks_say_so():
    assert "This notebook is empty." in render_notebook("")
    html = render_notebook("{not json")
    assert "This notebook could not be read" in html and "{not json" in html
    assert "it has no list of cells (is it nbformat 4?)" in render_notebook('{"worksheets": []}')


# CoCalc's own cases (src/smc-webapp/test/iframe-comm.test.ts@088cce0d79), plus ports and http
@pytest.mark.parametrize(
    "origin, hosts, blocked",
    [
        ("https://bar.com", ["bar.com"], False),
        ("https://foobar.com", ["bar.com"], True),
        ("https://x.bar.com", ["bar.com"], True),
        ("https://x.baz.com", [".baz.com"], False),
        ("https://baz.com", [".baz.com"], False),
        ("https://foobaz.com", [".baz.com"], True),
        ("https://bar.com:8443", ["bar.com"], True),
        ("http://bar.com", ["bar.com"], True),
        ("https://bar.com", [], True),
    ],
)
def test_block_origin_follows_cocalc(origin, hosts, blocked):
    assert block_origin(origin, hosts) is blocked


@pytest.mark.parametrize(
    "origin, blocked",
    [
        ("http://127.0.0.1:8888", False),
        ("http://localhost:1234", False),
        ("http://127.0.0.2:8888", True),
        ("http://example.com", True),
    ],
)
def test_http_loopback_parents_only_with_the_option(origin, blocked):
    assert block_origin(origin, [], allow_http_parents=True) is blocked
    assert block_origin(origin, [], allow_http_parents=False) is True


def test_allowed_hosts_are_cocalcs_tokens():
    assert allowed_hosts(".example.test, jupyter.x.org;Foo") == [".example.test", "jupyter.x.org", "oo"]
    assert allowed_hosts(None) == [] and allowed_hosts("") == []


def test_images_and_mime_priorities():
    import base64
    import json

    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0fakejpeg").decode()
    nb = {"cells": [{"cell_type": "code", "source": "", "execution_count": None, "metadata": {}, "outputs": [
        {"output_type": "display_data", "metadata": {}, "data": {"image/jpeg": jpeg, "text/plain": "<Image>"}},
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "not base64 !!", "text/plain": "fallback"}},
        {"output_type": "display_data", "metadata": {}, "data": {"application/x-weird": {}}},
    ]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    html = render_notebook(json.dumps(nb))
    assert f'src="data:image/jpeg;base64,{jpeg}"' in html and "&lt;Image&gt;" not in html
    assert "<pre>fallback</pre>" in html and "not base64" not in html
    assert "(output of type application/x-weird is not shown here)" in html
    assert "In [ ]:" in html


def test_markdown_images_come_only_from_the_cells_attachments():
    import json

    png = "iVBORw0KGgo="
    nb = {"cells": [{"cell_type": "markdown", "metadata": {},
                     "source": "![plot](attachment:p.png) ![remote](https://example.com/x.png) ![x](attachment:none.png)",
                     "attachments": {"p.png": {"image/png": png}}}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    html = render_notebook(json.dumps(nb))
    assert f'<img class="cocalc-image" alt="plot" src="data:image/png;base64,{png}">' in html
    assert "[image: remote]" in html and "example.com" not in html and "[image: x]" in html
