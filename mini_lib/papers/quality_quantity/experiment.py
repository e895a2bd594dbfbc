"""The quality-vs-quantity grid (arXiv 2411.15821): the data variants and the settings turned into
``grid.GridCell``s for the one training loop.

The paper trains one small GPT (4 layers, 4 heads, d=128, context 128) on TinyStories variants
(``data``) for the same 1000 steps, and reports validation loss and "accuracy" (correct next tokens per
128-token window). ``grid_cells`` gives every variant its own cell: the paper's model shape
(``paper_model``), the shared validation blocks and tokenizer, and the variant's seed for the initial
weights and the batch order, so within a replicate cells differ only in their data (a paired comparison).

The budget control prices duplication in training steps: ``budget_cells`` trains each seed's clean cell
for ``budget_fractions`` of the steps, each with its own schedule (``data.budget_settings``);
``analysis.duplication_as_lost_steps`` reads their results.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from mini_lib.core.grid import GridCell
from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.train import TrainConfig
from mini_lib.papers.quality_quantity.data import (
    QualityQuantityData,
    Variant,
    VariantBlocks,
    budget_settings,
    make_variants,
)
from mini_lib.papers.quality_quantity.settings import QualityQuantitySettings

# ---- the grid ---------------------------------------------------------------------------------

def paper_model(settings: QualityQuantitySettings, vocab_size: int):
    """The model config: the paper's GPT shape (4 layers, 4 heads, d 128 in the gpu profile) in
    GPT-NeoX form, embeddings tied as in nanoGPT when ``settings.tie_embeddings``."""
    shape = ModelShape(settings.n_layers, settings.d_model, settings.n_heads)
    return neox_config(shape, vocab_size, settings.seq_len, tie_embeddings=settings.tie_embeddings)


def grid_cells(
    data: QualityQuantityData,
    variants: Sequence[Variant],
    settings: QualityQuantitySettings,
    keep_models: bool = False,
) -> list[GridCell]:
    """One ``GridCell`` per variant: its own blocks, the shared validation blocks and tokenizer,
    the paper's optimiser settings from ``settings``, seed = the variant's seed.

    ``keep_models``: keep the first replicate's final models (saved in the grid, returned in
    ``GridResult.models``) so a notebook can sample from them.
    """
    vocab = len(data.tokenizer)
    config_of_model = paper_model(settings, vocab)
    cells = []
    for variant in variants:
        blocks = VariantBlocks(data.train_docs, variant.sources, data.seq_len)
        config = TrainConfig.from_settings(settings, seed=variant.seed, progress=False)
        cells.append(GridCell(
            name=variant.name,
            tags={
                "size": variant.size, "rate": variant.rate, "seed": variant.seed, "steps": settings.steps,
                "train_documents": len(variant.sources), "distinct_documents": variant.info.n_distinct_docs,
                "variant_tokens": blocks.n_tokens, "repeated_token_share": blocks.repeated_token_share,
            },
            make_model=lambda seed=variant.seed: build_model(config_of_model, seed=seed),
            train_data=blocks,
            val_data=data.val,
            config=config,
            keep_model=keep_models and variant.seed == settings.seed,
        ))
    return cells


# ---- the budget control: duplication priced in clean training steps ----------------------------

def budget_cells(data: QualityQuantityData, settings: QualityQuantitySettings) -> list[GridCell]:
    """Clean cells on all the stories, one per seed and ``settings.budget_fractions``: the grid's clean
    cell of that seed (the same stories, initial weights and batch order) trained for fewer steps with
    its own schedule (``budget_settings``). The steps are in the name, so a changed fraction is a new cell."""
    clean = make_variants(data, replace(settings, size_fractions=(1.0,), duplication_rates=(0.0,)))
    return [replace(cell, name=f"{cell.name}_steps{cell.config.steps:05d}")
            for fraction in settings.budget_fractions
            for cell in grid_cells(data, clean, budget_settings(settings, fraction))]
