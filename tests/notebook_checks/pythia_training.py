"""What notebook pythia_training's smoke run must show in results.json; its writer owns this file."""



from mini_lib.core.claims import VERDICTS


def check(results: dict) -> None:
    verdicts = [row["verdict"] for row in results["claims"]]
    assert verdicts[:2] == ["holds", "holds"] and verdicts[2] in VERDICTS  # exact counts and resume; sizes: any
