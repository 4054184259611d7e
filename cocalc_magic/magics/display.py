"""What the magics show: short errors, file listings, masked tokens, and whether a result is kept.

Kept apart from ``magics.py`` so that loading the extension imports none of it; everything here is
pure (no client, no network) and tested without a server.
"""

from __future__ import annotations

import dis
import opcode
import re
import sys
from datetime import datetime
from typing import Any, Iterable

# Anything shaped like a CoCalc key (``sk_`` or ``sk-`` and 16+ base62 characters) in text we are
# about to show; masked as a safety net on top of the client's own masking. Titles such as
# "sk-learn-demo" are left alone.
SECRET_RE = re.compile(r"\bsk[-_][A-Za-z0-9]{16,}\b")


def mask(secret: str | None) -> str:
    """``sk_…abcd``: the prefix and the last 4 characters at most (settings.mask)."""
    from ..settings import mask as settings_mask

    return settings_mask(secret)


def scrub(text: str, *secrets: str | None) -> str:
    """Replace the given secrets, every secret the settings module has seen, and anything shaped
    like a key, by their masked form."""
    from ..settings import redact

    text = redact(text)
    for s in secrets:
        if s and s in text:
            text = text.replace(s, mask(s))
    return SECRET_RE.sub(lambda m: mask(m.group(0)), text)


class CoCalcMagicError(Exception):
    """An error IPython shows as this one line, without a traceback (``_render_traceback_``)."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line

    def _render_traceback_(self) -> list[str]:
        return [self.line]


class MaskedToken(str):
    """An auth token: usable as the string it is, but its repr (what a notebook shows) is masked."""

    def __repr__(self) -> str:
        return f"<auth token {mask(str(self))}>"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        import html

        return f"<code>{html.escape(repr(self))}</code>"


def _fmt_size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def clock_text(t: datetime) -> str:
    """``t.strftime("%Y-%m-%d %H:%M:%S %Z").strip()`` (e.g. "2026-11-26 23:42:36 UTC"), built
    from the fields: datetime.strftime re-encodes the format, fills a ``struct tm`` and calls the C
    library's strftime, several times the cost (years below 1000 are zero-padded here)."""
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    tz = t.tzname()
    return f"{text} {tz}".strip() if tz else text


def _fmt_time(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if isinstance(t, datetime) else ""


class Listing(list):
    """``%cocalc ls``: a list of the client's FileEntry objects that displays as a table."""

    def __init__(self, entries: Iterable[Any], project: str = "", path: str = ""):
        super().__init__(entries)
        self.project, self.path = project, path

    def _rows(self) -> list[tuple[str, str, str]]:
        return [
            (e.name + ("/" if e.isdir else ""), "" if e.isdir else _fmt_size(e.size), _fmt_time(e.mtime))
            for e in self
        ]

    def _folder(self) -> str:
        return "~/" + self.path.strip("/") if self.path.strip("/") else "~"

    def _head(self) -> str:
        """'3 entries in ~/data of Tour project' (a title and a path are never run together)."""
        count = "no entries" if not self else f"{len(self)} entr{'y' if len(self) == 1 else 'ies'}"
        return f"{count} in {self._folder()}" + (f" of {self.project}" if self.project else "")

    def __repr__(self) -> str:
        if not self:
            return self._head()
        rows = self._rows()
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines = [self._head()]
        lines += [f"  {n:<{w0}}  {s:>{w1}}  {t}".rstrip() for n, s, t in rows]
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        from html import escape as esc

        head = esc(self._head())
        if not self:
            return f"<div>{head}</div>"
        body = "".join(
            f"<tr><td style='text-align:left'><code>{esc(n)}</code></td><td style='text-align:right'>{esc(s)}</td>"
            f"<td>{esc(t)}</td></tr>"
            for n, s, t in self._rows()
        )
        return (
            f"<div>{head}</div><table class='cocalc-listing'><thead><tr><th style='text-align:left'>name</th>"
            f"<th>size</th><th>modified</th></tr></thead><tbody>{body}</tbody></table>"
        )


class Report:
    """A small key/value report (``%cocalc whoami``) shown as aligned text and as an HTML table."""

    def __init__(self, title: str, rows: list[tuple[str, str]]):
        self.title, self.rows = title, rows

    def __repr__(self) -> str:
        w = max((len(k) for k, _ in self.rows), default=0)
        return "\n".join([self.title] + [f"  {k:<{w}}  {v}" for k, v in self.rows])

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        from html import escape as esc

        body = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td style='text-align:left'>{esc(v)}</td></tr>"
                       for k, v in self.rows)
        return f"<div><b>{esc(self.title)}</b></div><table class='cocalc-report'>{body}</table>"


# ------------------------------------------------------------------ is the result kept?
# `r = %cocalc exec ls` should hand back the client's object, while a bare `%cocalc exec ls` has
# already shown the command's output and must not show it again as Out[n]. A magic cannot see the
# assignment, so look at what the calling code does with the value next (IPython itself reads the
# caller's frame for var_expand and needs_local_scope). Unknown bytecode counts as "kept", so a
# future Python at worst shows a result twice; it never loses one.
_DISPLAY_OPS = {"PRINT_EXPR"}          # Python 3.11: expression statement in "single" mode
_DISCARD_OPS = {"POP_TOP"}


def result_fate() -> str:
    """"display", "discard" or "kept": what the code that called the magic does with its value."""
    f = sys._getframe(1)
    while f is not None and not (
        f.f_code.co_name in ("run_line_magic", "run_cell_magic") and "IPython" in f.f_code.co_filename
    ):
        f = f.f_back
    caller = f.f_back if f is not None else None
    if caller is None:
        return "kept"
    try:
        op, arg = _next_op(caller.f_code, caller.f_lasti)
    except Exception:
        return "kept"
    if op in _DISPLAY_OPS or (op == "CALL_INTRINSIC_1" and arg == 1):  # 3.12+: INTRINSIC_PRINT
        return "display"
    return "discard" if op in _DISCARD_OPS else "kept"


_OPNAME = opcode.opname
_CACHE_ENTRIES = getattr(opcode, "_inline_cache_entries", None)  # 3.11+: inline caches after each op


def _next_op(code, lasti: int) -> tuple[str, int]:
    """The instruction after the call at ``lasti``: read in place (skipping the call's inline
    caches), so the cost does not grow with the size of the cell; ``dis`` as the fallback."""
    raw = code.co_code
    name = _OPNAME[raw[lasti]]
    caches = _CACHE_ENTRIES
    i = -1
    if name == "CACHE":  # 3.11+: f_lasti is the call's last inline cache entry
        i = lasti + 2
    elif name.startswith("CALL") and caches is not None:
        n = caches.get(name, 0) if isinstance(caches, dict) else caches[raw[lasti]]
        i = lasti + 2 + 2 * n
    if i >= 0:
        while i < len(raw) and _OPNAME[raw[i]] == "EXTENDED_ARG":
            i += 2
        if i < len(raw):
            return _OPNAME[raw[i]], raw[i + 1]
    for ins in dis.get_instructions(code):
        if ins.offset > lasti:
            return ins.opname, ins.arg or 0
    return "", 0


def magic_hint(hint_id: str) -> str:
    """The magics' wording of hint ``hint_id``, continuing a sentence after a colon."""
    from ..hints import text

    hint = text(hint_id, "magic")
    return hint[:1].lower() + hint[1:]
