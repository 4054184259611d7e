"""Demo data: a couple of projects with a notebook each, so there is something to look at."""

from __future__ import annotations

import base64
import json
import struct
import zlib

from .core import homes
from .core.store import Store


def _png(width: int = 120, height: int = 60) -> str:
    """A small gradient PNG, base64-encoded, made here so the demo needs no data files."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 2 % 256, y * 4 % 256, 180)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def notebook(title: str, code: str, stdout: str, with_image: bool = False) -> str:
    outputs: list[dict] = [{"output_type": "stream", "name": "stdout", "text": stdout}]
    if with_image:
        outputs.append(
            {"output_type": "display_data", "metadata": {}, "data": {"image/png": _png(), "text/plain": "<Figure>"}}
        )
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": f"# {title}\n\nA notebook served by the local CoCalc."},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": code, "outputs": outputs},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1)


def seed(store: Store, owner: str) -> list[str]:
    """Create the demo projects once (idempotent by title); returns their ids."""
    wanted = [
        ("Demo: Getting started", "welcome.ipynb", "Welcome", "print('hello from CoCalc')", "hello from CoCalc\n", False),
        ("Demo: Data analysis", "analysis.ipynb", "Analysis", "total = sum(range(10))\nprint(total)", "45\n", True),
    ]
    have = {p["title"]: p["project_id"] for p in store.projects_of(owner)}
    ids = []
    for title, path, heading, code, out, image in wanted:
        pid = have.get(title) or store.create_project(owner, title, "Created by cocalc-magic serve --demo")
        home = store.home(pid)
        if not (home / path).exists():
            homes.write_text(home, path, notebook(heading, code, out, image))
            homes.write_text(home, "README.md", f"# {title}\n\nOpen `{path}`.\n")
        ids.append(pid)
    return ids
