"""swerm: best-of-N reranking of SWE-bench agent runs (a Rust command-line tool).

The wheel installs the `swerm` executable beside the Python interpreter's scripts; this package
lets Python find and run it:

    python -m swerm rerank runs/* --labels reports/* -o out/
    from swerm import find_swerm_bin; subprocess.run([find_swerm_bin(), "--version"])
"""

import os
import sys
import sysconfig

__all__ = ["find_swerm_bin"]


def find_swerm_bin() -> str:
    """The path of the installed `swerm` executable.

    Looked for where pip puts a wheel's scripts: this interpreter's scripts directory, the
    user scheme's (``pip install --user``), and the ``bin`` directory beside a ``--target`` or
    ``--prefix`` install of this package. Raises FileNotFoundError naming every place looked.
    """
    exe = "swerm" + (sysconfig.get_config_var("EXE") or "")
    places = []
    places.append(sysconfig.get_path("scripts"))
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if sys.platform == "darwin" and sys._framework:  # pragma: no cover - macOS framework builds
        user_scheme = "osx_framework_user"
    if user_scheme and user_scheme in sysconfig.get_scheme_names():
        places.append(sysconfig.get_path("scripts", scheme=user_scheme))
    # <prefix>/lib/pythonX.Y/site-packages/swerm -> <prefix>/bin; <target>/swerm -> <target>/bin
    here = os.path.dirname(os.path.abspath(__file__))
    places.append(os.path.join(here, "..", "..", "..", "..", "bin"))
    places.append(os.path.join(here, "..", "bin"))
    for place in places:
        path = os.path.normpath(os.path.join(place, exe))
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"the swerm executable was not found; looked in: {', '.join(os.path.normpath(p) for p in places)}")
