"""Code that runs INSIDE the project's Python kernel for ``%%cocalc_run`` (its source is sent as
the first ``history`` entry; it is never imported by the client at run time).

``setup`` writes the kernel's pid where the client's Ctrl-C can find it (``~/.cocalc-magic/``)
and registers a ``post_run_cell`` hook that fires once, after the user's cell: it removes the pid
file and, for ``-o NAME``, publishes the variables as one ``text/x-cocalc-magic-vars`` display
item, a JSON text: plain data exactly as it is, pandas DataFrame/Series in a typed columnar form.
Nothing is pickled. What cannot travel, or would pass the server's output limit, is named, not
cut. Standard library only (pandas and numpy only when the value is one of theirs).
"""

import json
import os

MIME = "text/x-cocalc-magic-vars"
PLAIN = (type(None), bool, int, float, str)
TRAVEL = ("JSON data (dict with str keys, list, str, int, float, bool, None), "
          "pandas DataFrame and Series")


class Refused(TypeError):
    pass


def plain(value, where):
    """``value`` checked to be JSON data (numpy scalars become their Python value)."""
    t = type(value)
    if t in PLAIN:
        return value
    if t is list:
        return [plain(v, where) for v in value]
    if t is dict:
        for k in value:
            if type(k) is not str:
                raise Refused(f"{where} has a key of type {type(k).__name__} ({k!r}): only str keys travel as JSON")
        return {k: plain(v, where) for k, v in value.items()}
    mod = getattr(t, "__module__", "")
    if mod == "numpy" and hasattr(value, "item") and getattr(value, "shape", None) == ():
        item = value.item()
        if type(item) in PLAIN:
            return item
    raise Refused(f"{where} is of type {mod + '.' if mod not in ('builtins', '') else ''}{t.__name__}: "
                  f"only {TRAVEL} travel")


def _column(s, where):
    """One pandas column (a Series) as ``{"dtype", "values"}`` (+ categories for a category)."""
    import pandas as pd

    dtype = str(s.dtype)
    kind = getattr(s.dtype, "kind", "O")
    if dtype == "category":
        cats = s.cat.categories
        return {"dtype": "category", "ordered": bool(s.cat.ordered),
                "categories": _column(pd.Series(cats), where + " (categories)"),
                "codes": [int(c) for c in s.cat.codes]}
    if kind in "mM":  # datetime64 / timedelta64, tz-aware too: integer ticks, NaT as None
        import numpy as np

        unit = getattr(s.dtype, "unit", None) or np.datetime_data(s.dtype)[0]
        ints = s.array.asi8 if hasattr(s.array, "asi8") else s.to_numpy().view("int64")
        nat = -(2 ** 63)
        return {"dtype": dtype, "unit": unit, "tz": str(getattr(s.dtype, "tz", None) or "") or None,
                "values": [None if int(v) == nat else int(v) for v in ints]}
    if kind in "biuf" or dtype in ("object", "str", "string", "boolean") or dtype[:1] in ("I", "U", "F"):
        values = []
        for v in s.tolist():
            values.append(None if v is pd.NA else plain(v, where))
        return {"dtype": dtype, "values": values}
    raise Refused(f"{where} has dtype {dtype}: columns of numbers, bool, str, object (of JSON values), "
                  "category, datetime and timedelta travel")


def _index(idx, where):
    import pandas as pd

    if isinstance(idx, pd.MultiIndex):
        raise Refused(f"{where} is a MultiIndex: call .reset_index() (or flatten the columns) first")
    name = plain(idx.name, where + " name")
    if isinstance(idx, pd.RangeIndex):
        return {"range": [idx.start, idx.stop, idx.step], "name": name}
    return {"column": _column(pd.Series(idx, copy=False), where), "name": name}


def encode(value, name):
    """``value`` as JSON-ready data with its kind, or Refused saying what travels."""
    mod = type(value).__module__ or ""
    if mod.startswith("pandas"):
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            cols = [_column(value.iloc[:, i], f"{name}[{value.columns[i]!r}]") for i in range(value.shape[1])]
            return {"kind": "pandas.DataFrame", "shape": list(value.shape),
                    "columns": _index(value.columns, f"{name}.columns"),
                    "index": _index(value.index, f"{name}.index"), "data": cols}
        if isinstance(value, pd.Series):
            return {"kind": "pandas.Series", "shape": [len(value)], "name": plain(value.name, f"{name}.name"),
                    "index": _index(value.index, f"{name}.index"), "data": _column(value, name)}
    return {"kind": "json", "value": plain(value, name)}


def export(ns, names, limit):
    """The JSON text published for ``names`` (each encoded, missing or refused)."""
    out = {}
    for n in names:
        if n not in ns:
            out[n] = {"kind": "missing"}
            continue
        try:
            out[n] = encode(ns[n], n)
        except Refused as exc:
            out[n] = {"kind": "refused", "why": str(exc)}
        except (ValueError, RecursionError) as exc:  # a circular list, say
            out[n] = {"kind": "refused", "why": f"{n} cannot be written as JSON ({exc})"}
    text = json.dumps(out, separators=(",", ":"))
    if limit and len(text) > limit:
        sizes = {n: len(json.dumps(v, separators=(",", ":"))) for n, v in out.items()}
        text = json.dumps({"__too_big__": {"limit": limit, "sizes": sizes}})
    return text


def setup(ip, token, names, limit, home=False):
    """Called from the history cell: the working directory (``home``: the project's home, saving
    the server a separate chdir call), the pid file, and the hook for the user's cell."""
    if home:
        os.chdir(os.path.expanduser("~"))
    marker = "cocalc-magic-setup-" + token
    pidfile = os.path.join(os.path.expanduser("~"), ".cocalc-magic", f"run-{token}.pid")
    try:
        os.makedirs(os.path.dirname(pidfile), exist_ok=True)
        with open(pidfile, "w") as fh:
            fh.write(str(os.getpid()))
    except OSError:
        pidfile = None

    def hook(result):
        raw = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        if marker in raw:
            return  # this is the history cell itself
        ip.events.unregister("post_run_cell", hook)
        if pidfile:
            try:
                os.remove(pidfile)
            except OSError:
                pass
        if names and getattr(result, "success", False):
            from IPython.display import publish_display_data

            publish_display_data({MIME: export(ip.user_ns, names, limit),
                                  "text/plain": f"<cocalc-magic: {', '.join(names)}>"})

    ip.events.register("post_run_cell", hook)
