"""The IPython magics: ``%cocalc <subcommand>``, ``%%cocalc_write``, ``%%cocalc_exec``, ``%%cocalc_run``.

``core`` is the ``Magics`` class (one method per subcommand), ``args`` the argument parsers and
completion, ``display`` what the user sees (one-line errors, tables), ``transfer`` push, pull
and exec, ``run`` ``%%cocalc_run`` (its own ``Magics`` beside the main one), ``settings_cache``
the settings resolved once per change. The magics hold no protocol
knowledge: each subcommand asks ``CoCalc`` (the client) and shows what it got.
"""

from __future__ import annotations

from .core import _COMPLETER_KEYS, CoCalcMagics
from .run import RunMagics


def load_ipython_extension(ip) -> None:
    """``%load_ext cocalc_magic``: register the magics, their %config and their completers.

    Once per shell: after the auto-load (which registers them without the extension manager), a
    notebook's own ``%load_ext cocalc_magic`` is a silent no-op that keeps the magics' state.
    """
    if "CoCalcMagics" in ip.magics_manager.registry:
        return
    magics = CoCalcMagics(shell=ip)
    ip.register_magics(magics)
    ip.register_magics(RunMagics(shell=ip, main=magics))

    def completer(_shell, event):  # set_hook binds hooks to the shell
        return magics._complete(event)

    completer._cocalc_magic = True
    for key in _COMPLETER_KEYS:
        ip.set_hook("complete_command", completer, str_key=key)


def unload_ipython_extension(ip) -> None:
    """``%unload_ext cocalc_magic``: remove what loading added."""
    mm = ip.magics_manager
    magics = mm.registry.pop("CoCalcMagics", None)
    mm.registry.pop("RunMagics", None)
    mm.magics["line"].pop("cocalc", None)
    for name in ("cocalc_write", "cocalc_exec", "cocalc_run"):
        mm.magics["cell"].pop(name, None)
    if magics is not None and magics in ip.configurables:
        ip.configurables.remove(magics)
    dispatch = ip.strdispatchers.get("complete_command")
    if dispatch is not None:
        for key in _COMPLETER_KEYS:
            dispatch.strs.pop(key, None)


__all__ = ["CoCalcMagics", "load_ipython_extension", "unload_ipython_extension"]
