import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.models import PRESETS, ModelShape, build_model, flops_per_token, model_size, neox_config, suite_table

# Published Pythia totals (HF model cards / the suite's README) at vocab 50304.
KNOWN_TOTALS = {"pythia-14m": 14_067_712, "pythia-70m": 70_426_624, "pythia-160m": 162_322_944}


def test_70m_non_embedding_count_matches_the_suite():
    assert model_size(neox_config("pythia-70m", 50304)).non_embedding == 18_915_328


@pytest.mark.parametrize("name,total", KNOWN_TOTALS.items())
def test_totals_match_published_counts(name, total):
    assert model_size(neox_config(name, 50304)).total == total


@pytest.mark.parametrize("name", ["pythia-1m", "pythia-3m", "pythia-14m"])
def test_analytic_count_equals_real_model(name):
    config = neox_config(name, 2048, 128)
    assert model_size(config).total == sum(p.numel() for p in build_model(config).parameters())


def test_tiny_presets_are_about_1m_and_3m_at_cpu_vocab():
    assert 0.8e6 < model_size(neox_config("pythia-1m", 4096)).total < 1.6e6
    assert 2.5e6 < model_size(neox_config("pythia-3m", 4096)).total < 3.8e6


def test_architecture_follows_pythia():
    config = neox_config("pythia-160m")
    assert config.use_parallel_residual and not config.tie_word_embeddings
    assert config.rope_parameters["partial_rotary_factor"] == 0.25
    assert config.intermediate_size == 4 * config.hidden_size
    assert PRESETS["pythia-160m"].lr == 6e-4 and PRESETS["pythia-410m"].lr == 3e-4


def test_a_preset_is_a_model_shape_and_any_shape_builds_like_it():
    preset = PRESETS["pythia-14m"]
    shape = ModelShape(preset.n_layers, preset.d_model, preset.n_heads)
    assert isinstance(preset, ModelShape) and not hasattr(shape, "lr")
    assert neox_config(shape, 2048, 128).to_dict() == neox_config(preset, 2048, 128).to_dict()
    assert list(suite_table()[0])[:5] == ["name", "n_layers", "d_model", "n_heads", "lr"]


def test_flops_per_token_of_any_model():
    """GPT-NeoX: the analytic count; any other model: 6N (grid summaries and the loop's MFU use it)."""
    model = build_model(neox_config(ModelShape(1, 16, 2), 300, 32))
    assert flops_per_token(model, 32) == model_size(model.config, 32).flops_per_token
    linear = torch.nn.Linear(4, 3)
    assert flops_per_token(linear, 32) == 6.0 * (4 * 3 + 3)


def test_flops_per_token_is_6n_plus_attention():
    config = neox_config("pythia-70m", 50304, 2048)
    size = model_size(config, 2048)
    expected = 6 * (size.non_embedding + 50304 * 512) + 12 * 6 * 512 * 2048
    assert size.flops_per_token == expected


def test_same_seed_same_weights_and_different_seed_differs():
    config = neox_config("pythia-1m", 512, 32)
    a, b, c = build_model(config, 1), build_model(config, 1), build_model(config, 2)
    assert torch.equal(a.get_output_embeddings().weight, b.get_output_embeddings().weight)
    assert not torch.equal(a.get_output_embeddings().weight, c.get_output_embeddings().weight)


def test_bad_preset_and_shape_errors():
    with pytest.raises(ConfigError, match="pythia-70m"):
        neox_config("pythia-7b")
    with pytest.raises(ConfigError, match="divisible"):
        neox_config(ModelShape(2, 30, 4))


def test_suite_table_has_every_preset():
    assert [row["name"] for row in suite_table()] == list(PRESETS)
