"""The scorer sweep of notebook 06: synthetic scorers of known AUROC, the verdicts per scorer, the claims."""

import re

import numpy as np
import pandas as pd
import pytest

from mini_lib.core.claims import IN_SHORT, IN_SHORT_NO_DIFFERENCE, claims_table
from mini_lib.core.errors import ConfigError
from mini_lib.core.models import ModelShape
from mini_lib.core.tokenization import pack_corpus, train_tokenizer
from mini_lib.core.train import TrainConfig
from mini_lib.corpora.storyworld import generate_stories
from mini_lib.papers.data_selection.analysis import first_auroc_that_beats, sweep_verdicts
from mini_lib.papers.data_selection.data import build_corpus
from mini_lib.papers.data_selection.experiment import FULL, run_scorer_sweep, sweep_subsets
from mini_lib.papers.data_selection.paper import NO_DIFFERENCE_TOLERANCE, no_difference, selection_claims
from mini_lib.papers.data_selection.plots import sweep_figure
from tests.test_selection_experiment import fake_scores


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(120, noise_fraction=0.25, duplicate_rate=0.2, repeat_k=2, seed=0)


def test_sweep_subsets_have_the_target_aurocs_and_a_perfect_scorer_keeps_only_clean(corpus):
    subsets, auroc = sweep_subsets(fake_scores(corpus), corpus, [0.5, 0.8, 1.0], 0.3, density_fraction=0.8, seed=1)
    for target in (0.5, 0.8, 1.0):
        assert auroc[f"auroc={target:.2f}"] == pytest.approx(target, abs=0.005)
    assert corpus.is_good[subsets["auroc=1.00", 0.3]].all()
    assert corpus.is_good[subsets["auroc=0.50", 0.3]].mean() < 1.0
    assert {(FULL, 1.0), ("random", 0.3), ("askllm", 0.3), ("perplexity", 0.3), ("density", 0.8)} <= set(subsets)
    assert auroc["askllm"] > 0.9  # fake_scores knows the labels up to noise


def fake_sweep(losses: dict[str, list[float]], aurocs: dict[str, float]) -> pd.DataFrame:
    """A sweep summary with the given per-seed val losses of the large model (the small one: 5.0)."""
    rows = []
    for seed in range(len(losses[FULL])):
        rows.append({"model": "small", "sampler": FULL, "seed": seed, "val_loss": 5.0, "scorer_auroc": np.nan,
                     "over_scaling": np.nan})
        for sampler, values in losses.items():
            rows.append({"model": "large", "sampler": sampler, "seed": seed, "val_loss": values[seed],
                         "scorer_auroc": aurocs.get(sampler, np.nan),
                         "over_scaling": 100 * (values[seed] - losses[FULL][seed]) / (losses[FULL][seed] - 5.0)})
    return pd.DataFrame(rows)


LOSSES = {FULL: [4.0, 4.1, 4.2], "random": [4.3, 4.4, 4.5], "density": [4.01, 4.11, 4.2],
          "perplexity": [3.9, 4.0, 4.1], "askllm": [4.6, 4.7, 4.8],
          "auroc=0.50": [4.31, 4.4, 4.52], "auroc=0.70": [4.1, 4.2, 4.3], "auroc=0.90": [3.8, 3.9, 4.0],
          "auroc=1.00": [3.6, 3.7, 3.8]}
AUROCS = {"askllm": 0.46, "perplexity": 0.8, "auroc=0.50": 0.5, "auroc=0.70": 0.7, "auroc=0.90": 0.9,
          "auroc=1.00": 1.0}


def test_verdicts_and_the_auroc_where_a_scorer_starts_to_pay():
    verdicts = sweep_verdicts(fake_sweep(LOSSES, AUROCS), floor=0.01).set_index("scorer")
    assert verdicts.loc["auroc=0.90", "vs_full"] == "holds"
    assert verdicts.loc["auroc=0.70", "vs_full"] == "reversed"
    assert verdicts.loc["auroc=0.70", "vs_random"] == "holds"
    assert verdicts.loc["auroc=0.50", "vs_random"] == "within noise"
    assert verdicts["auroc"].is_monotonic_increasing
    frame = verdicts.reset_index()
    assert first_auroc_that_beats(frame, FULL) == pytest.approx(0.9)
    assert first_auroc_that_beats(frame, "random") == pytest.approx(0.7)
    never = frame.assign(vs_full="reversed")
    assert np.isnan(first_auroc_that_beats(never, FULL))


def test_claims_follow_the_rule():
    claims = {c.claim: c for c in selection_claims(fake_sweep(LOSSES, AUROCS), keep_fraction=0.2,
                                                   density_fraction=0.8)}
    assert [c.verdict for c in claims.values()] == ["reversed", "reversed", "holds"]
    assert "AUROC 0.46" in next(iter(claims.values())).note
    assert "beat full data from AUROC 0.90" in next(iter(claims.values())).note
    hopeless = dict(LOSSES, **{f"auroc={a}": [4.5, 4.6, 4.7] for a in ("0.50", "0.70", "0.90", "1.00")})
    note = selection_claims(fake_sweep(hopeless, AUROCS), keep_fraction=0.2, density_fraction=0.8)[0].note
    assert "no synthetic scorer, a perfect one included, beats full data beyond noise" in note
    table = claims_table(list(claims.values()))
    assert list(table["verdict"]) == ["reversed", "reversed", "holds"]
    assert table["in_short"].iloc[2] == IN_SHORT_NO_DIFFERENCE["holds"]  # Density: no difference, as the paper says
    better = dict(LOSSES, askllm=[3.5, 3.6, 3.7])
    assert selection_claims(fake_sweep(better, AUROCS), keep_fraction=0.2, density_fraction=0.8)[0].verdict == "holds"


def test_the_ask_llm_claim_names_the_fraction_it_is_measured_at():
    percent = re.compile(r"\d+%")
    for keep in (0.2, 0.1):
        claim = selection_claims(fake_sweep(LOSSES, AUROCS), keep_fraction=keep, density_fraction=0.8)[0]
        named = set(percent.findall(claim.claim))
        assert named == {f"{keep:.0%}", f"{1 - keep:.0%}"} and named <= set(percent.findall(claim.ours))
        assert claim.in_short == IN_SHORT[claim.verdict]


def test_density_claim_is_a_claim_of_no_difference_within_a_stated_tolerance():
    gain = 0.9  # full data: large 4.0-4.2, small 5.0
    tolerance = NO_DIFFERENCE_TOLERANCE * gain
    cases = {"holds": [4.0, 4.1, 4.2],  # the same loss: no difference at all
             "reversed": [4.0 + 3 * tolerance, 4.1 + 3 * tolerance, 4.2 + 3 * tolerance],  # worse by 3x the tolerance
             "within noise": [4.0, 4.1 + 2 * tolerance, 4.2 - 2 * tolerance]}  # no mean difference, but too noisy
    for verdict, density in cases.items():
        claim = selection_claims(fake_sweep(dict(LOSSES, density=density), AUROCS), keep_fraction=0.2,
                                 density_fraction=0.8)[-1]
        assert claim.no_difference and claim.verdict == verdict, (verdict, claim.ours)
        assert claim.in_short == IN_SHORT_NO_DIFFERENCE[verdict]
        assert f"+-{tolerance:.3f} nats" in claim.ours
    better = [3.0, 3.1, 3.2]  # far better than full data is a difference too: not what "recovers" claims
    assert selection_claims(fake_sweep(dict(LOSSES, density=better), AUROCS), keep_fraction=0.2,
                            density_fraction=0.8)[-1].verdict == "reversed"


def test_no_difference_rule():
    assert no_difference([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], tolerance=0.0).verdict == "holds"
    assert no_difference([1.0, 1.2], [1.0, 1.0], tolerance=0.05).verdict == "within noise"  # mean 0.1, spread 0.14
    assert no_difference([1.3, 1.31], [1.0, 1.0], tolerance=0.05).verdict == "reversed"
    assert no_difference([1.01], [1.0], tolerance=1.0).verdict == "within noise"  # one seed: spread unknown
    decided = no_difference([1.02, 1.04], [1.0, 1.0], tolerance=0.1)
    assert decided.difference == pytest.approx(0.03) and decided.verdict == "holds"
    assert decided.describe(" nats") == "+0.030 nats (seed spread 0.014 nats; tolerance +-0.100 nats)"


def test_sweep_trains_every_scorer_once_per_seed(corpus, tmp_path):
    tok = train_tokenizer(generate_stories(200, seed=5)["text"], 320, model_max_length=32)
    val = pack_corpus(tok, generate_stories(30, seed=6)["text"], list(range(30)), 32)
    config = TrainConfig(steps=3, batch_size=4, lr=3e-3, warmup_steps=1, eval_examples=8, progress=False,
                         device="cpu", log_every=100)
    sweep = run_scorer_sweep(corpus, fake_scores(corpus), tok, val, tmp_path, aurocs=[1.0], keep_fraction=0.3,
                             density_fraction=0.8, seeds=[0, 1], large=ModelShape(1, 16, 2),
                             small=ModelShape(1, 8, 2), train_config=config, seq_len=32)
    assert len(sweep) == 2 * 7  # small, full, random, perplexity, askllm, density, one synthetic scorer
    assert sweep.groupby("seed").size().tolist() == [7, 7]
    assert sweep.loc[sweep.sampler == "auroc=1.00", "scorer_auroc"].tolist() == [1.0, 1.0]
    seed0, seed1 = (sweep[(sweep.seed == s) & (sweep.sampler == FULL) & (sweep.model == "large")] for s in (0, 1))
    assert seed0["val_loss"].iloc[0] != seed1["val_loss"].iloc[0]  # the seed reaches model and data order
    with pytest.raises(ConfigError, match="seed"):
        run_scorer_sweep(corpus, fake_scores(corpus), tok, val, tmp_path, aurocs=[1.0], keep_fraction=0.3,
                         density_fraction=0.8, seeds=[], large=ModelShape(1, 16, 2), small=ModelShape(1, 8, 2),
                         train_config=config, seq_len=32)


def test_sweep_figure_draws_both_panels_with_every_scorer():
    fig = sweep_figure(fake_sweep(LOSSES, AUROCS))
    over, loss = fig.axes
    labels = loss.get_legend_handles_labels()[1]
    assert {"askllm (per seed)", "perplexity (per seed)", "full data", "random"} <= set(labels)
    line = over.get_lines()[0]  # the synthetic scorers' mean: one point per target AUROC, in order
    assert list(line.get_xdata()) == pytest.approx([0.5, 0.7, 0.9, 1.0])
    assert loss.get_lines()[0].get_ydata()[-1] == pytest.approx(3.7)


def test_sweep_settings_are_checked_before_a_kernel_starts():
    from mini_lib.lab.profiles import check_value

    check_value("06_data_selection", "sweep_seeds", (0, 1), (0, 1, 2))  # seed 0 is a seed
    with pytest.raises(ConfigError, match="sweep_aurocs got 0.3"):
        check_value("06_data_selection", "sweep_aurocs", (0.3, 1.0), (0.5, 1.0))
