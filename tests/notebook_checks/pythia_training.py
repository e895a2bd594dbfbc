"""What notebook pythia_training's smoke run must show in results.json; its writer owns this file."""

from mini_lib.core.claims import VERDICTS

FROM_SCRATCH = ("learning rate of every step", "losses of 6 steps by hand vs train()", "steps 4-6 resumed with load_state",
                "training FLOPs per token", "MFU of the same step time")


def check(results: dict) -> None:
    verdicts = [row["verdict"] for row in results["claims"]]
    assert verdicts[:2] == ["holds", "holds"] and verdicts[2] in VERDICTS  # exact counts and resume; sizes: any
    assert results["claims"][1]["in_short"] == "Our run cannot tell them apart either, as expected."
    # the Accelerate loop by hand: its schedule, losses, resume, FLOPs count and MFU equal the library's
    rows = results["from_scratch"]
    assert len(rows) == len(FROM_SCRATCH) and all(row["what"].startswith(w) for row, w in zip(rows, FROM_SCRATCH))
    assert [row["tolerance"] for row in rows] == [1e-12, 1e-5, 0.0, 0.0, 1e-12]
    # models named with the parameters they have in this run, smallest first
    sizes = sorted(results["sizes"], key=lambda row: row["parameters"])
    named = ", ".join(f"{row['preset']} ({row['parameters'] / 1e6:.2f}M): {row['val_loss']:.3f}" for row in sizes)
    assert results["claims"][2]["ours"] == named and results["comparison"][2]["ours"].endswith(named)
    # MFU on every row, also on a CPU (against a measured matrix multiplication), and verdicts that follow the numbers
    for row in results["throughput"]:
        assert 0 < row["mfu"] < 1 and row["peak"]
        assert "no measurable difference" not in row["verdict"]
