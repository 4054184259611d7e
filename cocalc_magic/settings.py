"""Where the host, API key, default project and timeout come from, and how secrets are masked.

Precedence (first wins): explicit argument > ``%config CoCalcMagics.*`` (passed as ``config``) >
environment (``COCALC_API_KEY``, ``COCALC_HOST``, ``COCALC_PROJECT_ID``, the names the official
client uses) > the credentials file that ``%cocalc login`` writes > defaults.

The credentials file maps each host to its key, so a key saved for one server is never sent to
another one. Every secret that passes through here is remembered (in this process only) so that
``redact`` can scrub it from any text: error messages, log records, reprs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

DEFAULT_HOST = "https://cocalc.ai"  # cocalc.com redirects there since July 2026
DEFAULT_TIMEOUT = 30.0  # seconds an ordinary call may take in all (connect, wait, read, retries)

ENV_API_KEY = "COCALC_API_KEY"
ENV_HOST = "COCALC_HOST"
ENV_PROJECT = "COCALC_PROJECT_ID"
ENV_CREDENTIALS = "COCALC_MAGIC_CREDENTIALS"  # overrides the credentials file's location

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


# --------------------------------------------------------------------------- masking
def mask(secret: str | None) -> str:
    """A secret as it may be shown: its ``sk_``/``sk-`` prefix and at most the last 4 characters.

    Short secrets (under 12 characters) show no tail at all, since 4 characters of them is too much.
    """
    if not secret:
        return "(none)"
    secret = str(secret)
    prefix = secret[:3] if secret[:3] in ("sk_", "sk-") else ""
    tail = secret[-4:] if len(secret) >= 12 else ""
    return f"{prefix}…{tail}"


def register_secret(secret: str | None) -> None:
    """Remember a secret so that ``redact`` scrubs it from any text shown later."""
    if secret and len(str(secret)) >= 6:
        with _SECRETS_LOCK:
            _SECRETS.add(str(secret))


def redact(text: Any) -> str:
    """``text`` with every known secret (keys, auth tokens) replaced by its mask."""
    out = str(text)
    if not _SECRETS:
        return out
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in out:
            out = out.replace(secret, mask(secret))
    # Authorization headers and ?auth_token=/api_key= parameters, whoever's they are
    out = _AUTH_HEADER_RE.sub(r"\1…", out)
    out = _AUTH_PARAM_RE.sub(lambda m: m.group(1) + "…", out)
    return out


# Compiled once: redact runs for every log record of the package's loggers while a secret is known.
_AUTH_HEADER_RE = re.compile(r"(?i)(authorization:\s*(?:basic|bearer)\s+)\S+")
_AUTH_PARAM_RE = re.compile(r"(?i)([?&](?:auth_token|api_key)=)[^&\s'\"]+")


class RedactingFilter(logging.Filter):
    """A logging filter that masks known secrets in every record of the ``cocalc_magic`` logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
                return True
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


# A logger's filters see only records logged to that very logger, not those propagated from its
# children, so each of the package's loggers gets one.
LOGGERS = ("cocalc_magic", "cocalc_magic.client", "cocalc_magic.magics", "cocalc_magic.panel",
           "cocalc_magic.server", "cocalc_magic.cli")


def install_log_filter(name: str) -> None:
    """Mask known secrets in every record logged to the logger ``name``."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


for _name in LOGGERS:
    install_log_filter(_name)


class SecretStr(str):
    """A string (an auth token, a key) that shows itself masked in reprs and notebooks.

    ``str(s)`` and string operations give the real value, so it can still be put in a URL;
    ``repr(s)``, IPython's display and f-strings with ``!r`` show ``mask(s)``.
    """

    def __new__(cls, value: str) -> "SecretStr":
        register_secret(value)
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return repr(mask(str.__str__(self)))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    @property
    def masked(self) -> str:
        return mask(str.__str__(self))


# --------------------------------------------------------------------------- credentials file
def credentials_path() -> Path:
    """``$COCALC_MAGIC_CREDENTIALS``, else ``$XDG_CONFIG_HOME/cocalc-magic/credentials.json``
    (``~/.config/cocalc-magic/credentials.json``)."""
    explicit = os.environ.get(ENV_CREDENTIALS)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "cocalc-magic" / "credentials.json"


def _read_credentials() -> dict[str, Any]:
    path = credentials_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"keys": {}}
    if not isinstance(data, dict):
        return {"keys": {}}
    keys = data.get("keys")
    data["keys"] = keys if isinstance(keys, dict) else {}
    for key in data["keys"].values():
        register_secret(key)
    return data


def normalize_host(host: str) -> str:
    """``host`` as a base URL: scheme added (https, or http for loopback), no trailing slash."""
    host = str(host).strip()
    if not host:
        raise ValueError("the CoCalc host is empty; give a URL such as https://cocalc.ai")
    if "://" not in host:
        loopback = host.startswith(("127.", "localhost", "[::1]"))
        host = ("http://" if loopback else "https://") + host
    return host.rstrip("/")


def save_credentials(host: str, api_key: str) -> Path:
    """Store ``api_key`` for ``host`` (and make it the default host) in a file of mode 0600."""
    host = normalize_host(host)
    if not api_key:
        raise ValueError("refusing to save an empty API key")
    register_secret(api_key)
    data = _read_credentials()
    data["keys"][host] = api_key
    data["default_host"] = host
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path.parent, 0o700)
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    os.chmod(path, 0o600)
    return path


def clear_credentials(host: str | None = None) -> bool:
    """Forget the key of ``host`` (or every saved key when ``host`` is None). True if one was removed."""
    path = credentials_path()
    if not path.exists():
        return False
    if host is None:
        path.unlink()
        return True
    host = normalize_host(host)
    data = _read_credentials()
    removed = data["keys"].pop(host, None) is not None
    if data.get("default_host") == host:
        data.pop("default_host", None)
    if not data["keys"]:
        path.unlink()
    else:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.chmod(path, 0o600)
    return removed


# --------------------------------------------------------------------------- resolution
@dataclass
class Settings:
    """The resolved connection settings; ``sources`` says where each one came from."""

    host: str = DEFAULT_HOST
    api_key: str | None = None
    project: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    sources: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        key = mask(self.api_key) if self.api_key else None
        return (
            f"Settings(host={self.host!r}, api_key={key!r}, project={self.project!r}, "
            f"timeout={self.timeout!r}, sources={self.sources!r})"
        )

    def describe(self) -> list[tuple[str, str, str]]:
        """(field, shown value, source) rows, secrets masked: for ``%cocalc config`` and friends."""
        return [
            ("host", self.host, self.sources.get("host", "")),
            ("api_key", mask(self.api_key) if self.api_key else "(not set)", self.sources.get("api_key", "")),
            ("project", self.project or "(not set)", self.sources.get("project", "")),
            ("timeout", f"{self.timeout:g} s", self.sources.get("timeout", "")),
        ]


def _pick(name: str, explicit: Any, config: Mapping[str, Any], env_name: str | None) -> tuple[Any, str | None]:
    if explicit not in (None, ""):
        return explicit, "argument"
    if config.get(name) not in (None, ""):
        return config[name], "%config"
    if env_name and os.environ.get(env_name):
        return os.environ[env_name], f"environment ({env_name})"
    return None, None


def resolve(
    host: str | None = None,
    api_key: str | None = None,
    project: str | None = None,
    timeout: float | None = None,
    config: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from arguments, ``%config`` values, the environment, the credentials file, defaults."""
    config = dict(config or {})
    sources: dict[str, str] = {}
    creds: dict[str, Any] | None = None

    def credentials() -> dict[str, Any]:
        nonlocal creds
        if creds is None:
            creds = _read_credentials()
        return creds

    value, source = _pick("host", host, config, ENV_HOST)
    if value is None and credentials().get("default_host"):
        value, source = credentials()["default_host"], f"credentials file ({credentials_path()})"
    if value is None:
        value, source = DEFAULT_HOST, "default"
    resolved_host = normalize_host(value)
    sources["host"] = source or "default"

    key, source = _pick("api_key", api_key, config, ENV_API_KEY)
    if key is None:
        saved = credentials()["keys"].get(resolved_host)
        if saved:
            key, source = saved, f"credentials file ({credentials_path()})"
    sources["api_key"] = source or "not set"
    if key is not None:
        key = str(key).strip()
        register_secret(key)

    proj, source = _pick("project", project, config, ENV_PROJECT)
    sources["project"] = source or "not set"

    tmo, source = _pick("timeout", timeout, config, None)
    if tmo is None:
        tmo, source = DEFAULT_TIMEOUT, "default"
    try:
        tmo = float(tmo)
    except (TypeError, ValueError):
        raise ValueError(f"timeout must be a number of seconds, not {tmo!r}") from None
    if tmo <= 0:
        raise ValueError(f"timeout must be positive, not {tmo!r}")
    sources["timeout"] = source or "default"

    return Settings(host=resolved_host, api_key=key or None, project=(str(proj) if proj else None),
                    timeout=tmo, sources=sources)
