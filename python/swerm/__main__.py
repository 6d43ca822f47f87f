"""`python -m swerm ARGS...`: runs the installed `swerm` executable with ARGS, with its exit
code (on POSIX the process is replaced, so signals and Ctrl-C reach swerm itself)."""

import os
import subprocess
import sys

from swerm import find_swerm_bin


def _run() -> None:
    swerm = find_swerm_bin()
    args = [swerm, *sys.argv[1:]]
    if sys.platform == "win32":
        sys.exit(subprocess.run(args).returncode)
    os.execv(swerm, args)


if __name__ == "__main__":
    _run()
