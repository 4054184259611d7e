"""Files as safe, readable HTML for the app and kiosk pages.

Notebook content is untrusted: everything is escaped, and the only HTML that passes through
(``text/html`` outputs) goes through a small allow-list sanitiser, so no script from a notebook
ever runs in the page (the pages' Content-Security-Policy also forbids inline scripts).
Rendered notebook cells carry the CSS classes ``cocalc-cell`` and ``cocalc-output``; tests and
the panel look for them.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from ..core import homes

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
MAX_INLINE_IMAGE = 5_000_000


@dataclass
class Rendered:
    """One file as HTML: ``kind`` is notebook, text, image, binary, directory or missing."""

    path: str
    kind: str
    html: str


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _joined(value: object) -> str:
    """nbformat multiline strings are a string or a list of strings."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------- markdown
_INLINE_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITAL = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")


_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def _safe_url(url: str) -> str | None:
    """Links only to http(s), mailto or relative targets (no javascript:, data: ...).

    The URL is first read as a browser's URL parser reads it (WHATWG): C0 controls and spaces at
    either end dropped, tabs and newlines anywhere removed; ``java\tscript:`` is ``javascript:``."""
    u = re.sub(r"[\t\n\r]", "", html.unescape(url)).strip(_C0_AND_SPACE)
    if re.match(r"^(https?:|mailto:)", u, re.I) or not re.match(r"^[a-z][a-z0-9+.-]*:", u, re.I):
        return u
    return None


def _inline(text: str, images: dict[str, str] | None = None) -> str:
    """Escape, then apply code spans, images, links, bold and italics to the escaped text."""
    out, pos = [], 0
    for m in _INLINE_CODE.finditer(text):
        out.append(_inline_plain(text[pos:m.start()], images))
        out.append(f"<code>{esc(m.group(1))}</code>")
        pos = m.end()
    out.append(_inline_plain(text[pos:], images))
    return "".join(out)


def _inline_plain(text: str, images: dict[str, str] | None = None) -> str:
    s = esc(text)

    def image(m: re.Match) -> str:
        # Only a cell's own attachments are shown; other URLs would load from elsewhere.
        name = html.unescape(m.group(2))
        src = (images or {}).get(name[len("attachment:"):]) if name.startswith("attachment:") else None
        if src is None:
            return f"[image: {m.group(1)}]"
        return f'<img class="cocalc-image" alt="{m.group(1)}" src="{esc(src)}">'

    s = _IMAGE.sub(image, s)

    def link(m: re.Match) -> str:
        url = _safe_url(m.group(2))
        if url is None:
            return m.group(1)
        return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{m.group(1)}</a>'

    s = _LINK.sub(link, s)
    s = _BOLD.sub(r"<strong>\2</strong>", s)
    s = _ITAL.sub(r"<em>\2</em>", s)
    return s


def render_markdown(text: str, images: dict[str, str] | None = None) -> str:
    """A small, safe markdown subset: headings, paragraphs, lists, quotes, fences, rules, and
    images from ``images`` (attachment name -> data URI).

    Raw HTML in the source is shown as text, not interpreted.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    para: list[str] = []
    list_kind: str | None = None
    i = 0

    def flush_para() -> None:
        if para:
            out.append("<p>" + "<br>".join(_inline(p, images) for p in para) + "</p>")
            para.clear()

    def close_list() -> None:
        nonlocal list_kind
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = None

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        fence = re.match(r"^\s*(```|~~~)\s*([\w+-]*)", line)
        if fence:
            flush_para()
            close_list()
            mark, body = fence.group(1), []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(mark):
                body.append(lines[i])
                i += 1
            i += 1
            out.append(f"<pre><code>{esc(chr(10).join(body))}</code></pre>")
            continue
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        bullet = re.match(r"^\s*([-*+])\s+(.*)$", line)
        number = re.match(r"^\s*\d+[.)]\s+(.*)$", line)
        if not stripped:
            flush_para()
            close_list()
        elif heading:
            flush_para()
            close_list()
            n = len(heading.group(1))
            out.append(f"<h{n}>{_inline(heading.group(2), images)}</h{n}>")
        elif re.match(r"^\s*([-*_])(\s*\1){2,}\s*$", line):
            flush_para()
            close_list()
            out.append("<hr>")
        elif bullet or number:
            flush_para()
            kind = "ul" if bullet else "ol"
            if list_kind != kind:
                close_list()
                out.append(f"<{kind}>")
                list_kind = kind
            item = bullet.group(2) if bullet else number.group(1)
            out.append(f"<li>{_inline(item, images)}</li>")
        elif stripped.startswith(">"):
            flush_para()
            close_list()
            out.append(f"<blockquote>{_inline(stripped.lstrip('>').strip(), images)}</blockquote>")
        else:
            close_list()
            para.append(stripped)
        i += 1
    flush_para()
    close_list()
    return "\n".join(out)


# ---------------------------------------------------------------------------- html outputs
_ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_VOID = {"br", "hr", "col"}
_ALLOWED_ATTRS = {"colspan", "rowspan", "align", "title", "href"}
_DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"}


class _Sanitizer(HTMLParser):
    """Keeps allow-listed tags and attributes; drops scripts, styles, event handlers, URLs
    other than http(s)/relative."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _DROP_CONTENT:
            self.skip += 1
            return
        if self.skip or tag not in _ALLOWED_TAGS:
            return
        kept = []
        for name, value in attrs:
            if name not in _ALLOWED_ATTRS or value is None:
                continue
            if name == "href":
                value = _safe_url(value)
                if value is None:
                    continue
            kept.append(f' {name}="{esc(value)}"')
        if tag == "a":
            kept.append(' target="_blank" rel="noopener noreferrer"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _DROP_CONTENT:
            return
        self.handle_starttag(tag, attrs)
        if tag in self.open and tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip or tag not in self.open:
            return
        while self.open:
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(esc(data))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{t}>" for t in reversed(self.open))


def sanitize_html(fragment: str) -> str:
    """``fragment`` with only allow-listed, inert markup left."""
    s = _Sanitizer()
    s.feed(fragment)
    return s.result()


# ---------------------------------------------------------------------------- notebooks
def _image(mime: str, data: object) -> str | None:
    b64 = re.sub(r"\s+", "", _joined(data))
    try:
        base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    return f'<img class="cocalc-image" alt="{esc(mime)} output" src="data:{mime};base64,{b64}">'


def _mime_bundle(data: dict) -> str:
    for mime in ("image/png", "image/jpeg", "image/gif"):
        if mime in data:
            img = _image(mime, data[mime])
            if img:
                return img
    if "image/svg+xml" in data:
        # An SVG inside <img> cannot run scripts.
        svg = base64.b64encode(_joined(data["image/svg+xml"]).encode()).decode()
        return f'<img class="cocalc-image" alt="image/svg+xml output" src="data:image/svg+xml;base64,{svg}">'
    if "text/html" in data:
        return f'<div class="cocalc-html">{sanitize_html(_joined(data["text/html"]))}</div>'
    if "text/markdown" in data:
        return f'<div class="cocalc-markdown">{render_markdown(_joined(data["text/markdown"]))}</div>'
    if "text/latex" in data:
        return f"<pre>{esc(_joined(data['text/latex']))}</pre>"
    if "text/plain" in data:
        return f"<pre>{esc(ANSI.sub('', _joined(data['text/plain'])))}</pre>"
    if "application/json" in data:
        return f"<pre>{esc(json.dumps(data['application/json'], indent=1))}</pre>"
    kinds = ", ".join(sorted(data)) or "nothing"
    return f'<div class="cocalc-unsupported">(output of type {esc(kinds)} is not shown here)</div>'


def _output(out: dict) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        name = "stderr" if out.get("name") == "stderr" else "stdout"
        body = f"<pre>{esc(ANSI.sub('', _joined(out.get('text'))))}</pre>"
        return f'<div class="cocalc-output cocalc-output-stream cocalc-{name}">{body}</div>'
    if kind == "error":
        tb = "\n".join(ANSI.sub("", str(t)) for t in out.get("traceback") or [])
        text = tb or f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
        return f'<div class="cocalc-output cocalc-output-error"><pre>{esc(text)}</pre></div>'
    if kind in ("execute_result", "display_data"):
        data = out.get("data") or {}
        return f'<div class="cocalc-output cocalc-output-{kind}">{_mime_bundle(data if isinstance(data, dict) else {})}</div>'
    return f'<div class="cocalc-output cocalc-output-unknown"><pre>{esc(json.dumps(out)[:2000])}</pre></div>'


def _attachments(value: object) -> dict[str, str]:
    """A markdown cell's ``attachments`` as data URIs (raster images with valid base64 only)."""
    out: dict[str, str] = {}
    if not isinstance(value, dict):
        return out
    for name, bundle in value.items():
        if not isinstance(bundle, dict):
            continue
        for mime in ("image/png", "image/jpeg", "image/gif"):
            if mime in bundle:
                b64 = re.sub(r"\s+", "", _joined(bundle[mime]))
                try:
                    base64.b64decode(b64, validate=True)
                except (binascii.Error, ValueError):
                    continue
                out[str(name)] = f"data:{mime};base64,{b64}"
                break
    return out


def render_notebook(text: str) -> str:
    """A Jupyter notebook (nbformat 4 JSON) as a column of cells."""
    if not text.strip():
        return '<div class="cocalc-notebook cocalc-empty">This notebook is empty.</div>'
    try:
        nb = json.loads(text)
        cells = nb.get("cells")
        if not isinstance(cells, list):
            raise ValueError("it has no list of cells (is it nbformat 4?)")
    except (ValueError, AttributeError) as exc:
        return (
            f'<div class="cocalc-notebook cocalc-broken"><p class="cocalc-error">This notebook could not be read: '
            f"{esc(exc)}</p><pre>{esc(text[:200_000])}</pre></div>"
        )
    lang = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("display_name") or ""
    parts = [f'<div class="cocalc-notebook" data-kernel="{esc(lang)}">']
    for n, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        ctype = cell.get("cell_type")
        source = _joined(cell.get("source"))
        if ctype == "markdown":
            images = _attachments(cell.get("attachments"))
            parts.append(f'<div class="cocalc-cell cocalc-cell-markdown" data-index="{n}">{render_markdown(source, images)}</div>')
        elif ctype == "code":
            count = cell.get("execution_count")
            prompt = f"In [{count if count is not None else ' '}]:"
            outputs = "".join(_output(o) for o in cell.get("outputs") or [] if isinstance(o, dict))
            parts.append(
                f'<div class="cocalc-cell cocalc-cell-code" data-index="{n}">'
                f'<div class="cocalc-input"><span class="cocalc-prompt">{esc(prompt)}</span>'
                f"<pre><code>{esc(source)}</code></pre></div>"
                f'<div class="cocalc-outputs">{outputs}</div></div>'
            )
        else:
            parts.append(f'<div class="cocalc-cell cocalc-cell-raw" data-index="{n}"><pre>{esc(source)}</pre></div>')
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------- files
def _listing_html(home: Path, path: str, project_id: str) -> str:
    from urllib.parse import quote

    rows = []
    base = path.strip("/")
    for entry in homes.listing(home, base):
        rel = f"{base}/{entry['name']}" if base else entry["name"]
        href = f"/projects/{project_id}/files/{quote(rel)}" + ("/" if entry.get("isdir") else "")
        label = entry["name"] + ("/" if entry.get("isdir") else "")
        rows.append(f'<li><a href="{esc(href)}">{esc(label)}</a></li>')
    body = "".join(rows) or "<li><em>(empty directory)</em></li>"
    return f'<ul class="cocalc-listing">{body}</ul>'


def render_file(home: Path, path: str, project_id: str) -> Rendered:
    """Render ``path`` inside a project's ``home``.

    Raises ``homes.PathOutsideHome`` and ``homes.FileTooLarge`` (their texts are CoCalc's).
    """
    target = homes.resolve(home, path)
    if not target.exists():
        return Rendered(path, "missing", f'<p class="cocalc-missing">{esc(path)} does not exist.</p>')
    if target.is_dir():
        return Rendered(path, "directory", _listing_html(home, path, project_id))
    suffix = target.suffix.lower()
    if suffix in IMAGE_TYPES:
        data = target.read_bytes()
        if len(data) <= MAX_INLINE_IMAGE:
            b64 = base64.b64encode(data).decode()
            return Rendered(path, "image", f'<img class="cocalc-image" alt="{esc(path)}" src="data:{IMAGE_TYPES[suffix]};base64,{b64}">')
    raw = target.read_bytes()[:8192]
    if b"\x00" in raw:
        size = target.stat().st_size
        return Rendered(path, "binary", f'<p class="cocalc-binary">{esc(path)} is a binary file ({size} bytes).</p>')
    text = homes.read_text(home, path)
    if suffix == ".ipynb":
        return Rendered(path, "notebook", render_notebook(text))
    if suffix in (".md", ".markdown"):  # CoCalc's markdown editor: the source beside its preview
        return Rendered(path, "text", f'<div class="cocalc-md-split"><pre class="cocalc-text">{esc(text)}</pre>'
                                      f'<div class="cocalc-markdown cocalc-preview">{render_markdown(text)}</div></div>')
    return Rendered(path, "text", f'<pre class="cocalc-text">{esc(text)}</pre>')
