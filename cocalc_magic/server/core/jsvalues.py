"""What the hub and project conat APIs share: errors in CoCalc's words, JavaScript-like argument
handling, and the dispatch of ``{name, args}`` to a function table.

CoCalc's dispatchers do ``const [group, fn] = name.split(".")``, look the function up, let an
auth transform inject the caller into ``args[0]``, then call ``f(...args)``; anything thrown comes
back as ``{"error": String(err)}``. So the texts clients see are JavaScript's own
(``TypeError: Cannot read properties of undefined (reading 'split')``), and we reproduce the ones
the recordings show.
"""

from __future__ import annotations

import json
import math
from typing import Any, Awaitable, Callable


class RemoteError(Exception):
    """An error whose ``str`` is exactly the ``error`` text the server replies with."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def error(msg: str) -> RemoteError:
    """A thrown ``Error(msg)``: the reply says ``Error: msg``."""
    return RemoteError(f"Error: {msg}")


def type_error(msg: str) -> RemoteError:
    return RemoteError(f"TypeError: {msg}")


def js_str(value: Any) -> str:
    """``String(value)`` as JavaScript renders it (for messages and stringified titles)."""
    if value is None:
        return "undefined"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_str(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def js_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def read_prop(value: Any, prop: str) -> Any:
    """``value.prop`` with JavaScript's TypeError for undefined/null."""
    if value is None:
        raise type_error(f"Cannot read properties of undefined (reading '{prop}')")
    if isinstance(value, dict):
        return value.get(prop)
    return None


def spread_args(args: Any) -> list:
    """``f(...args)``: a list stays, a string spreads into characters, anything else throws."""
    if args is None:
        return []
    if isinstance(args, list):
        return list(args)
    if isinstance(args, str):
        return list(args)
    raise type_error("Spread syntax requires ...iterable[Symbol.iterator] to be a function")


def inject_first(args: list, key: str, value: str | None) -> list:
    """CoCalc's ``authFirst``: ``args[0] ??= {}; args[0][key] = value``."""
    if not args or args[0] is None:
        args = [{}] + args[1:]
    first = args[0]
    if isinstance(first, (str, int, float, bool)):
        shown = js_str(first)
        raise type_error(f"Cannot create property '{key}' on {js_type(first)} '{shown}'")
    if isinstance(first, list):  # an array takes the property silently; nothing reads it back
        first = {}
    first = dict(first)
    if value is not None:
        first[key] = value
    args[0] = first
    return args


Func = Callable[..., Awaitable[Any]]


def lookup(table: dict[str, dict[str, Func]], name: Any) -> Func:
    """The function named ``group.fn`` (further dots are ignored, as ``split`` does)."""
    if name is None:
        raise type_error("Cannot read properties of undefined (reading 'split')")
    if not isinstance(name, str):
        raise type_error("name.split is not a function")
    parts = name.split(".")
    group, fn = parts[0], (parts[1] if len(parts) > 1 else None)
    f = table.get(group, {}).get(fn) if fn is not None else None
    if f is None:
        raise error(f"unknown function '{name}'")
    return f


def json_safe(value: Any) -> Any:
    """Round-trip through JSON so replies never carry Python-only types."""
    return json.loads(json.dumps(value, default=str))
