"""Progress display for ``cc.map``: an ipywidgets bar inside a kernel, a text line on a terminal."""

from __future__ import annotations

import sys
import threading
import time


class Progress:
    """An ipywidgets bar inside a kernel; a ``\\r`` text line on a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self._lock = threading.Lock()
        self._widget = None
        self._last = 0.0
        if _in_kernel():
            try:
                import ipywidgets as w
                from IPython.display import display

                self._bar = w.IntProgress(value=0, min=0, max=total, description="cocalc")
                self._label = w.Label(f"0/{total}")
                self._widget = w.HBox([self._bar, self._label])
                display(self._widget)
            except Exception:  # noqa: BLE001 - no widgets: fall back to text
                self._widget = None

    def step(self, failed: int = 0) -> None:
        with self._lock:
            self.done += 1
            self.failed = failed
            now = time.monotonic()
            if self.done < self.total and now - self._last < 0.1:
                return
            self._last = now
            text = f"{self.done}/{self.total}" + (f" ({self.failed} failed)" if self.failed else "")
            if self._widget is not None:
                self._bar.value = self.done
                self._label.value = text
            else:
                sys.stderr.write(f"\rcocalc: {text}")
                sys.stderr.flush()

    def close(self) -> None:
        if self._widget is not None:
            self._bar.bar_style = "danger" if self.failed else "success"
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython

        ip = get_ipython()
    except Exception:  # noqa: BLE001
        return False
    return ip is not None and getattr(ip, "kernel", None) is not None
