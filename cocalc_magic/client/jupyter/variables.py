"""``-o NAME``: variables of a remote cell brought back into this Python, without pickle.

The kernel side (``kernel_side.py``, its source sent as the first ``history`` entry) publishes
them as one ``text/x-cocalc-magic-vars`` item, a JSON text. Here it becomes values again: JSON
data exactly as it was; a pandas DataFrame or Series rebuilt whole from its typed columns (same
dtypes, index and column names); anything else refused with what travels. Unpickling would run
the project's code here (a project is another machine), so it is never done.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from ...errors import CoCalcError, InvalidRequest

MIME = "text/x-cocalc-magic-vars"
_SOURCE = (Path(__file__).with_name("kernel_side.py")).read_text()


class VariablesNotReturned(CoCalcError):
    """A variable could not come back (missing, refused, or over the server's output limit)."""


def new_token() -> str:
    return secrets.token_hex(8)


def setup_code(token: str, names: list[str], limit: int, home: bool = False) -> str:
    """The history entry that installs the kernel side (run first, its output dropped)."""
    return (f"_cocalc_magic_ns = {{}}; exec({_SOURCE!r}, _cocalc_magic_ns)\n"
            f"_cocalc_magic_ns['setup'](get_ipython(), {token!r}, {list(names)!r}, {int(limit)}, {bool(home)})"
            f"  # cocalc-magic-setup-{token}\n"
            "del _cocalc_magic_ns")


def check_names(names: list[str]) -> list[str]:
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise InvalidRequest(f"-o takes variable names, not {bad[0]!r}", hint="Give plain names, e.g. -o df total")
    return list(dict.fromkeys(names))


def decode(text: str, names: list[str]) -> dict[str, Any]:
    """The variables in a published payload; VariablesNotReturned names what did not come."""
    data = json.loads(text)
    if "__too_big__" in data:
        info = data["__too_big__"]
        sizes = ", ".join(f"{n} {s:,}" for n, s in info.get("sizes", {}).items())
        raise VariablesNotReturned(
            f"the variables are too big to come back: {sizes} characters as JSON, over this server's "
            f"per-cell output limit of {info.get('limit', 0):,} characters (nothing was cut)",
            hint="run_vars_big")
    out: dict[str, Any] = {}
    problems = []
    for n in names:
        item = data.get(n) or {"kind": "missing"}
        kind = item.get("kind")
        if kind == "missing":
            problems.append(f"{n} is not defined in the remote cell")
        elif kind == "refused":
            problems.append(item.get("why", f"{n} cannot travel"))
        elif kind == "json":
            out[n] = item["value"]
        elif kind in ("pandas.DataFrame", "pandas.Series"):
            out[n] = _pandas(item, n)
        else:
            problems.append(f"{n} came back in an unknown form {kind!r}")
    if problems:
        err = VariablesNotReturned("; ".join(problems), hint="")
        err.values = out  # what did come back
        raise err
    return out


def _need_pandas(name: str):
    try:
        import pandas as pd
    except ImportError:
        raise VariablesNotReturned(f"{name} is a pandas object but pandas is not installed here",
                                   hint="pip install pandas, then run the cell again") from None
    return pd


def _column(col: dict, pd):
    import numpy as np

    dtype = col["dtype"]
    if dtype == "category":
        cats = pd.Index(_column(col["categories"], pd))
        return pd.Series(pd.Categorical.from_codes(col["codes"], categories=cats, ordered=col["ordered"]))
    if "unit" in col:
        ints = np.array([-(2 ** 63) if v is None else v for v in col["values"]], dtype="int64")
        base = "datetime64" if dtype.startswith("datetime64") else "timedelta64"
        s = pd.Series(ints.view(f"{base}[{col['unit']}]"))
        if col.get("tz"):
            s = s.dt.tz_localize("UTC").dt.tz_convert(col["tz"])
        return s
    return pd.Series(col["values"], dtype=dtype)


def _index(info: dict, pd):
    if "range" in info:
        return pd.RangeIndex(*info["range"], name=info["name"])
    return pd.Index(_column(info["column"], pd), name=info["name"])


def _pandas(item: dict, name: str):
    pd = _need_pandas(name)
    index = _index(item["index"], pd)
    if item["kind"] == "pandas.Series":
        s = _column(item["data"], pd)
        s.index = index
        s.name = item["name"]
        return s
    columns = _index(item["columns"], pd)
    cols = [_column(c, pd) for c in item["data"]]
    df = pd.concat(cols, axis=1, ignore_index=True) if cols else pd.DataFrame(index=range(item["shape"][0]))
    df.index = index
    df.columns = columns
    return df


def describe(name: str, value: Any) -> str:
    """The line printed for a variable that came back (row and column counts for pandas)."""
    kind = type(value).__name__
    shape = getattr(value, "shape", None)
    if kind == "DataFrame" and shape is not None:
        return f"{name}: DataFrame, {shape[0]:,} rows × {shape[1]:,} columns"
    if kind == "Series" and shape is not None:
        return f"{name}: Series, {shape[0]:,} rows"
    return f"{name}: {kind}"
