# Installed by cocalc_magic into {sys.prefix}/etc/ipython/startup/. IPython and ipykernel run every
# *.py here at start-up, so %cocalc is there in every kernel of this environment.
# Set COCALC_MAGIC_NO_AUTOLOAD=1 to skip.
def _cocalc_magic_autoload():
    import os

    if os.environ.get("COCALC_MAGIC_NO_AUTOLOAD", "").lower() not in ("", "0", "false"):
        return
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None and "cocalc_magic" not in ip.extension_manager.loaded:
            # Registered directly, not through the extension manager: a notebook's own
            # `%load_ext cocalc_magic` then loads quietly instead of printing "already loaded".
            import cocalc_magic

            cocalc_magic.load_ipython_extension(ip)
    except Exception as exc:  # never break kernel start-up
        import sys

        print(f"cocalc_magic: autoload failed: {exc!r}", file=sys.stderr)


_cocalc_magic_autoload()
del _cocalc_magic_autoload
