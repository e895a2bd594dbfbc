"""mini_lib: the tested helper library behind the training-data lab notebooks.

Import submodules explicitly (``from mini_lib import corpora, train``); this file stays
light so ``python -m mini_lib list`` answers instantly.
"""

__version__ = "0.1.0"
