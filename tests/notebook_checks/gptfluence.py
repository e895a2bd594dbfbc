"""What notebook gptfluence's smoke run must show in results.json; its writer owns this file."""

from mini_lib.core.claims import IN_SHORT, VERDICTS
from mini_lib.papers.gptfluence.experiment import SIGNAL_SOURCES
from mini_lib.papers.gptfluence.paper import COST, UNSEEN
from mini_lib.papers.gptfluence.paper import SOURCE as GPTFLUENCE_SOURCE


def check(results: dict) -> None:
    assert results["same_step0_all_runs"]
    methods = {(row["task"], row["method"]) for row in results["comparison"] if row["metric"] == "loss"}
    assert {m for _, m in methods} == {"tracin-cp", "grad-dot", "simfluence", "gptfluence"}
    assert all(row["mse"] >= 0 and row["mae"] >= 0 and row["seconds_per_sample"] > 0 for row in results["comparison"])
    assert {row["metric"] for row in results["comparison"]} >= {"loss", "bleu", "rougeL"}  # smoke: a generation task
    assert len(results["unseen"]) == 8 and all(0 <= row["area"] <= 1 for row in results["detection"])
    assert all(0 <= row["accuracy"] <= 1 for row in results["retrain"])
    assert {row["source"] for row in results["paper_vs_ours"]} >= {f"{GPTFLUENCE_SOURCE}, {part}" for part in (COST, UNSEEN)}
    assert len(results["claims"]) == 6 and all(row["verdict"] in VERDICTS and row["rule"] for row in results["claims"])
    assert {row["source"] for row in results["signal"]} == set(SIGNAL_SOURCES) and results["planted"]
    assert all(row["in_short"] == IN_SHORT[row["verdict"]] for row in results["claims"])  # no claim of no difference here
    lessons = [row["what"].split(":")[0] for row in results["from_scratch"]]
    assert lessons == ["GPTfluence"] * 4 + ["TracIn", "TracIn-CP"]  # factors A and B, one step, the rollout; one pair
