"""The exchanges of ``recordings/real-ai-transcripts.md`` (a copy of the team's reference file),
parsed into requests to replay and answers to compare with (``test_ai_replay.py``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORDING = Path(__file__).parent / "recordings" / "real-ai-transcripts.md"
_RESPONSE = re.compile(r"^Response: status (\S+), content-type (.*?) \(")


@dataclass
class Exchange:
    title: str
    note: str
    method: str  # "GET", "POST" or "CONAT-WS" (a websocket call, not HTTP)
    path: str
    auth: str  # as recorded, e.g. "Basic base64({api_key}:)", "none"
    body: str | None  # the raw body text, or None
    status: int | None
    content_type: str | None
    response: str  # the last code block: the body as recorded

    def expected_json(self) -> Any:
        return json.loads(self.response)


def _blocks(text: str) -> list[str]:
    """The code blocks of a section; the line break before each closing fence is the file's."""
    return [b[:-1] if b.endswith("\n") else b for b in re.findall(r"```\n(.*?)```", text, re.S)]


def parse(path: Path = RECORDING) -> list[Exchange]:
    sections = re.split(r"\n### ", path.read_text())[1:]
    out = []
    for sec in sections:
        title, rest = sec.split("\n", 1)
        req_part, _, resp_part = rest.partition("\nResponse: ")
        note = req_part.split("Request:", 1)[0].strip()
        request = _blocks(req_part)[0].splitlines()
        method, _, where = request[0].partition(" ")
        auth = next((x[6:] for x in request if x.startswith("auth: ")), "none")
        body = next((x[6:] for x in request if x.startswith("body: ")), None)
        m = _RESPONSE.match("Response: " + resp_part.split("\n", 1)[0])
        status = int(m.group(1)) if m and m.group(1).isdigit() else None
        ctype = m.group(2) if m and m.group(2) != "None" else None
        blocks = _blocks(resp_part)
        out.append(Exchange(title.strip(), note, method, where.strip(), auth, body, status, ctype,
                            blocks[-1] if blocks else ""))
    return out
