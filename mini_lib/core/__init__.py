"""The machine learning core every notebook stands on, bottom to top:

* infrastructure: ``errors``, ``paths``, ``locking``, ``store`` (spec-checked artefacts), ``seeding``,
  ``progress``, ``claims`` (the claims schema), ``hardware`` (devices and their peak FLOP/s);
* data: ``tokenization`` and ``recipe`` (corpus -> tokenizer -> packed blocks), ``examples`` (prompt ->
  target), ``lm_batching``, ``encoders`` (the offline sentence encoder);
* models: ``models`` (shapes and the Pythia presets), ``neox`` (the compact GPT-NeoX forward);
* training: ``train`` (the one loop), ``checkpoints``, ``grid`` (many cells, resumably);
* measuring: ``evaluate``, ``scaling`` (power-law fits), ``zero_shot`` and its tasks and benchmarks, ``plots``.

Nothing here knows a paper or a notebook: ``mini_lib.papers`` and ``mini_lib.lab`` build on it.
"""
