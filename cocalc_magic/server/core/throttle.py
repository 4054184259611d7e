"""Failed sign-in attempts, counted per account and per IP address as CoCalc's
``server/auth/throttle.ts`` does, in bounded memory.

CoCalc keeps its counts in LRU caches (10,000 keys for the minute, 20,000 for the hour), so a
flood of failures with fresh e-mails or tokens cannot grow them without end; ``FailureLog`` does
the same: failure times per key, entries older than the longest window dropped whenever a key is
touched and in a sweep every thousand failures, and past ``max_keys`` the keys that failed least
recently go first.

One guess of ours (in the report): on a loopback connection every client has the address
127.0.0.1, so a per-IP count is a count for the whole machine and 31 failures by anyone would
lock every user out; for loopback peers only the per-account rules apply.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from typing import Callable

MAX_KEYS = 20_000  # CoCalc's hour-window LRU size
HOUR = 3600.0

# signInCheck: refused once MORE than `limit` failures fall in the window ("> 5", "> 50", ...)
ACCOUNT_RULES = (
    (60.0, 5, 'Too many attempts per minute to sign in as "{who}". Wait one minute, then try again.'),
    (HOUR, 50, 'Too many attempts per hour to sign in as "{who}". Wait about an hour, then try again.'),
)
IP_RULES = (
    (60.0, 30, "Too many attempts per minute to sign in from your computer. Wait one minute, then try again."),
    (HOUR, 200, "Too many attempts per hour to sign in from your computer. Wait about an hour, then try again."),
)


class FailureLog:
    """Failure times per key, bounded in keys (``max_keys``) and in age (``horizon_s``)."""

    def __init__(self, horizon_s: float = HOUR, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.horizon_s, self.max_keys, self.clock = horizon_s, max_keys, clock
        self._times: OrderedDict[object, list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._since_sweep = 0

    def __len__(self) -> int:
        return len(self._times)

    def count(self, key: object, window_s: float) -> int:
        """Failures of ``key`` in the last ``window_s`` seconds."""
        now = self.clock()
        with self._lock:
            return sum(1 for t in self._times.get(key, ()) if now - t < window_s)

    def record(self, key: object) -> None:
        now = self.clock()
        with self._lock:
            times = [t for t in self._times.pop(key, ()) if now - t < self.horizon_s]
            times.append(now)
            self._times[key] = times[-256:]  # more than any rule counts
            self._since_sweep += 1
            if self._since_sweep >= 1000:
                self._since_sweep = 0
                for stale in [k for k, ts in self._times.items() if now - ts[-1] >= self.horizon_s]:
                    del self._times[stale]
            while len(self._times) > self.max_keys:
                self._times.popitem(last=False)


def is_loopback(ip: str | None) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip.split("%")[0]).is_loopback
    except ValueError:
        return False


class SignInThrottle:
    """``signInCheck`` and ``recordFail``: per account (5 a minute, 50 an hour) and per IP
    address (30 a minute, 200 an hour). Every way of proving who one is (JSON and form sign-in,
    the get-api-key page, sign-in tokens, the password behind an auth token) counts against the
    same account, so fresh callers or a second route do not buy more guesses."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.accounts = FailureLog(clock=clock)
        self.ips = FailureLog(clock=clock)

    def refusal(self, account: str, ip: str | None, shown: str) -> str | None:
        """The refusal text, or None when this attempt may go ahead."""
        for window, limit, text in ACCOUNT_RULES:
            if self.accounts.count(account, window) > limit:
                return text.format(who=shown)
        if ip is not None and not is_loopback(ip):
            for window, limit, text in IP_RULES:
                if self.ips.count(ip, window) > limit:
                    return text
        return None

    def failed(self, account: str, ip: str | None) -> None:
        self.accounts.record(account)
        if ip is not None and not is_loopback(ip):
            self.ips.record(ip)


def sign_in_throttle(ctx) -> SignInThrottle:
    """The server's one throttle (kept in ``ctx.caches``)."""
    return ctx.caches.setdefault("sign_in_throttle", SignInThrottle())


def account_key(store, email: str) -> str:
    """What an e-mail's failures are counted under: its account when there is one (so every
    route to that account shares the count), else the address itself."""
    acct = store.account_by_email(email) if email else None
    return f"account:{acct['account_id']}" if acct else f"email:{email.strip().lower()}"


def ban_list(ctx, name: str, seconds: float) -> FailureLog:
    """A short ban per (caller, target) as CoCalc's auth-token.coffee keeps, that forgets."""
    return ctx.caches.setdefault(name, FailureLog(horizon_s=seconds))


__all__ = ["FailureLog", "SignInThrottle", "sign_in_throttle", "account_key", "ban_list", "is_loopback"]
