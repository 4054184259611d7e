"""The panel's read-only view of a file: its bytes turned into one safe, self-contained HTML page.

Used where the live kiosk cannot be signed in (cocalc.ai; a conat server with a non-admin key).
Notebooks (with their stored outputs) go through nbconvert's HTML exporter with its sanitizer on;
Markdown goes through the same exporter as a one-cell notebook; text is escaped; images become
``data:`` URIs in an ``<img>``. The page is shown in a sandboxed frame without scripts, and carries
a Content-Security-Policy that loads nothing but inline styles and images: the sanitizer and the
sandbox are two layers, so nothing from the file runs in the notebook's page either way.
"""

from __future__ import annotations

import base64
import html
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

MAX_BYTES = 20 * 1024 * 1024  # a file larger than this is not rendered (the comm message carries it)

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml", ".bmp": "image/bmp"}
MARKDOWN = (".md", ".markdown")

# Inline styles and images only: no scripts, frames, fonts, connections or forms. https images
# (a Markdown file's figures from the web) load as they would in CoCalc.
CSP = ("default-src 'none'; img-src data: https:; style-src 'unsafe-inline'; "
       "form-action 'none'; base-uri 'none'")
HEAD = (f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer"><base target="_blank">')
PLAIN_STYLE = ("<style>body{margin:0;padding:12px 16px;font:13px/1.45 system-ui,sans-serif;color:#222}"
               "pre{white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.45 ui-monospace,monospace}"
               "img{max-width:100%}</style>")


@dataclass(frozen=True)
class Rendered:
    """What the panel shows: the page, what kind of file it was, and a note when it is partial."""

    html: str
    kind: str  # notebook | markdown | text | image | binary
    note: str = ""


def kind_of(path: str) -> str:
    """What a file is by its name (the content decides between text and binary later)."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".ipynb":
        return "notebook"
    if suffix in MARKDOWN:
        return "markdown"
    if suffix in IMAGE_TYPES:
        return "image"
    return "text"


def render(path: str, data: bytes | str) -> Rendered:
    """The safe page for ``path`` whose content is ``data``."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    name = PurePosixPath(path).name
    if len(raw) > MAX_BYTES:
        return Rendered(_page(name, _message(f"{name} is {len(raw) / 2**20:.1f} MiB, more than the "
                                             f"{MAX_BYTES // 2**20} MiB shown here.")), "binary",
                        f"{name} is too large to show here")
    kind = kind_of(path)
    if kind == "image":
        mime = IMAGE_TYPES[PurePosixPath(path).suffix.lower()]
        uri = f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"
        return Rendered(_page(name, f'<img alt="{html.escape(name)}" src="{uri}">'), "image")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Rendered(_page(name, _message(f"{name} is a binary file; it cannot be shown here.")), "binary",
                        f"{name} is a binary file")
    if kind == "notebook":
        try:
            return Rendered(_notebook_page(text, name), "notebook")
        except (ValueError, KeyError, TypeError) as exc:  # not valid notebook JSON: show the text
            note = f"{name} is not a valid notebook ({type(exc).__name__}); shown as text"
            return Rendered(_page(name, _message(note + ".") + _pre(text)), "text", note)
    if kind == "markdown":
        import nbformat

        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
        return Rendered(_exported(nb, name), "markdown")
    return Rendered(_page(name, _pre(text)), "text")


def _notebook_page(text: str, name: str) -> str:
    import warnings

    import nbformat

    with warnings.catch_warnings():  # an old notebook's missing cell ids are not the user's concern here
        warnings.simplefilter("ignore")
        nb = nbformat.reads(text, as_version=4)
    return _exported(nb, name)


@lru_cache(maxsize=1)
def _exporter():
    """One exporter per process: building it reads the templates (~0.5 s the first time)."""
    from nbconvert import HTMLExporter

    # sanitize_html makes the template pass Markdown and HTML/SVG outputs through its clean_html
    # filter (and leave JavaScript outputs out); nbconvert's own filter escapes headings,
    # paragraphs and images, so the filter is replaced by ammonia's (nh3) with a wider allowlist.
    quiet = logging.getLogger("cocalc_magic.panel.render")  # not "Alternative text is missing" in a cell
    quiet.setLevel(logging.ERROR)
    return HTMLExporter(template_name="lab", sanitize_html=True, embed_images=True,
                        filters={"clean_html": clean_html}, log=quiet)


def clean_html(fragment: str | bytes) -> str:
    """Sanitize an HTML fragment from the file (Markdown output, HTML and SVG outputs)."""
    import nh3

    text = fragment.decode("utf-8", "replace") if isinstance(fragment, bytes) else str(fragment)
    attributes = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = {"class", "id", "title", "lang", "dir"}
    return nh3.clean(text, tags=nh3.ALLOWED_TAGS, attributes=attributes,
                     url_schemes={"http", "https", "mailto", "data"}, link_rel="noopener noreferrer")


def _exported(nb, name: str = "") -> str:
    for cell in nb.cells:  # nbconvert raises on a Markdown image of a missing attachment: show the rest
        if cell.get("cell_type") == "markdown" and "attachment:" in cell.get("source", ""):
            have = cell.get("attachments") or {}
            cell["source"] = re.sub(r"attachment:([^)\s]+)",
                                    lambda m: m.group(0) if m.group(1) in have else f"#missing-attachment-{m.group(1)}",
                                    cell["source"])
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": name}})
    return _with_head(body)


def _with_head(doc: str) -> str:
    """Put the CSP first in the document's <head>, before anything it could load."""
    m = re.search(r"<head[^>]*>", doc, re.I)
    if not m:
        return f"<!DOCTYPE html><html><head>{HEAD}</head><body>{doc}</body></html>"
    return doc[: m.end()] + HEAD + doc[m.end():]


def message_page(title: str, text: str) -> str:
    """A page that only says ``text`` (why the file is not shown)."""
    return _page(title, _message(text))


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">{HEAD}<title>{html.escape(title)}</title>'
            f"{PLAIN_STYLE}</head><body>{body}</body></html>")


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def _message(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'
