"""One package per notebook, named like it (``NN_<name>.ipynb`` -> ``mini_lib.papers.<name>``): 00 and 01
are the tutorial (the Pythia suite, arXiv 2304.01373), 02-06 reproduce one paper each. Every package has
``settings.py`` (the typed settings and their profiles) and ``experiment.py``; the paper packages add
``data.py``, ``analysis.py``, ``paper.py`` (the paper's numbers, rows and claims) and ``plots.py``, with the
paper's mechanism in modules named after it. Papers never import each other."""
