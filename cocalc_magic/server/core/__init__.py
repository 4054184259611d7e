"""Storage and projects: what every API generation of the local server stands on.

``store`` (SQLite: accounts, keys, projects, tokens), ``homes`` (paths inside a project's HOME),
``projects`` (life cycle), ``execute`` (CoCalc's exec semantics), ``access`` (who a key is),
``userquery`` (the database query engine of v1 ``query``, ``db.userQuery`` and v2
``user-query``), ``jupyter`` (running a cell, CoCalc's stateless execute), ``kernels`` (the
pool of real Jupyter kernels it runs in), ``jupyter_api`` (the hub's cached execute), ``jsvalues`` (JavaScript's value and error
conventions, which CoCalc's answers follow).
"""
