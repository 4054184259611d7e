"""Shared test set-up. The ``cocalc_server`` fixture comes from ``cocalc_magic.testing``
(registered as a pytest11 entry point when installed; listed here for a checkout run)."""

import os

os.environ.setdefault("COCALC_MAGIC_NO_AUTOLOAD", "1")  # tests load the extension themselves

pytest_plugins = ["cocalc_magic.testing"]
