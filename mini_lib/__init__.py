"""mini_lib: the tested library behind the training-data lab notebooks, in three layers.

* ``mini_lib.core``: the data recipe, model shapes, the one training loop, checkpoints, grids,
  evaluation, and what they stand on (artefact store, locks, paths, errors, seeds, progress, claims);
  ``mini_lib.corpora``: the storyworld generator and the hub and local-file loaders;
* ``mini_lib.papers``: one package per notebook, named like it (``03_quality_quantity`` ->
  ``mini_lib.papers.quality_quantity``);
* ``mini_lib.lab``: what knows every notebook: profiles, the notebook session, the runner, the report.

Imports point down only (lab -> papers -> core), and papers never import each other (a contract in
``pyproject.toml`` that CI checks). Import submodules explicitly (``from mini_lib.core import train``);
this file stays light so ``python -m mini_lib list`` answers instantly.
"""

__version__ = "0.1.0"
