"""``python -m mini_lib.student``: the student copies' command (``mini_lib.lab.student``), kept at its short name."""

import sys

from mini_lib.lab.student import main

if __name__ == "__main__":
    sys.exit(main())
