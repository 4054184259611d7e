"""Moving one file's content between this machine and the project, through the Project's public
calls: text with ``p.write``/``p.read``, anything else through the base64 path
(``p.write_bytes``/``p.read_bytes``). Every download is checked against the hash the listing
gave, so a file that changed in between is never recorded as synced."""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path
from typing import Any

from ...errors import CoCalcError, InvalidRequest
from .local import sha256_file, unchanged, write_file
from .remote import still_holds

# Read straight as bytes (skipping the text read that would come back garbled).
BINARY_SUFFIXES = frozenset(
    ".png .jpg .jpeg .gif .webp .bmp .ico .tif .tiff .pdf .zip .gz .tgz .bz2 .xz .zst .7z .tar .whl .so .o "
    ".a .pyc .npy .npz .pkl .pickle .parquet .feather .h5 .hdf5 .sqlite .db .mp3 .mp4 .wav .ogg .avi .mov "
    ".xlsx .docx .pptx .odt .ods .woff .woff2 .ttf .otf .class .jar .bin .dat".split())


class NotSynced(Exception):
    """This file cannot be synced now (it changed meanwhile, or cannot be written): left for the next run."""


def is_text(data: bytes) -> str | None:
    """The text of ``data`` if it is clean UTF-8 without NUL bytes (what p.write can carry)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def upload(p: Any, local: Path, remote: str, sha: str, limit: int, expect: str | None) -> None:
    """Send ``local`` (still holding ``sha``) to ``remote`` in the project, which must still hold
    ``expect`` (what the listing saw there; None: absent)."""
    data = local.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise NotSynced("changed here while syncing; the next sync takes the new version")
    text = is_text(data)
    wire = len(data) if text is not None else 4 * ((len(data) + 2) // 3)
    if wire > limit:
        enc = "" if text is not None else f" ({wire:,} as base64)"
        raise InvalidRequest(
            f"{len(data):,} bytes{enc}, more than the {limit:,} bytes this server takes in one write: "
            "not synced (copy it another way, e.g. fetch it from inside the project)")
    if not still_holds(p, remote, expect):
        raise NotSynced("changed in the project while syncing: not overwritten; the next sync compares again")
    if text is not None:
        p.write(remote, text)
    else:
        p.write_bytes(remote, data)


def fetch(p: Any, remote: str, sha: str) -> bytes:
    """The bytes of ``remote`` as listed (hash ``sha``): text first unless the name says binary."""
    if posixpath.splitext(remote)[1].lower() not in BINARY_SUFFIXES:
        try:
            data = p.read(remote).encode("utf-8")
        except CoCalcError:
            data = b""  # e.g. too large for a text read: the base64 path may still carry it
        if hashlib.sha256(data).hexdigest() == sha:
            return data
    data = p.read_bytes(remote)
    if hashlib.sha256(data).hexdigest() != sha:
        raise NotSynced("changed in the project while syncing; the next sync takes the new version")
    return data


def download(p: Any, remote: str, local: Path, sha: str, mode: int | None, expect: str | None) -> None:
    """Fetch ``remote`` into ``local``, which must still hold ``expect`` (None: be absent)."""
    data = fetch(p, remote, sha)
    if not unchanged(local, expect):
        raise NotSynced("changed here while syncing; kept, and the next sync compares again")
    try:
        write_file(local, data, mode)
    except OSError as exc:
        raise NotSynced(f"could not be written here: {exc.strerror or exc}") from None


__all__ = ["NotSynced", "upload", "download", "fetch", "is_text", "sha256_file"]
