"""Training-data influence of GPT models (GPTfluence, arXiv 2404.07840): collect fine-tuning dynamics
on the training loop, simulate them with GPTfluence, Simfluence, TracIn-CP and Grad-Dot, and score
the simulators as the paper does. Notebook 04 walks through it."""

from mini_lib.influence.collect import (
    BaseModel,
    CollectConfig,
    CollectedTask,
    PretrainConfig,
    collect_task,
    example_set,
    finetune,
    load_base_model,
    load_collected,
    pretrain_base_model,
    run_batches,
    target_losses,
)
from mini_lib.influence.detection import DetectionCurve, detection_curve
from mini_lib.influence.experiment import (
    METHODS,
    Features,
    FittedMethod,
    MethodResult,
    SimulatorSettings,
    average_over_tasks,
    compare_methods,
    fit_method,
    mean_trajectory,
    order_ablation,
    run_method,
    runs_frame,
    signal_study,
    task_split,
    trajectory_frame,
    unseen_study,
)
from mini_lib.influence.features import encode_examples, encode_texts
from mini_lib.influence.generation import bleu, greedy_continuations, rouge_l, text_scores
from mini_lib.influence.gptdynamics import (Example, FileIds, Run, TaskDynamics, read_file_ids, read_run, read_task,
                                            write_run, write_task)
from mini_lib.influence.gptfluence import FitConfig, FitReport, GPTfluenceConfig, GPTfluenceSimulator
from mini_lib.influence.metrics import MeanStd, SimulatorScores, score_simulator
from mini_lib.influence.mislabel import (
    curve_frame,
    detection_over_splits,
    detection_table,
    retrain_after_removal,
    self_influence_scores,
)
from mini_lib.influence.paper import PAPER, paper_vs_ours
from mini_lib.influence.plots import true_vs_simulated
from mini_lib.influence.planted import PLANTED, PlantedStudy, planted_study
from mini_lib.influence.simfluence import Simfluence
from mini_lib.influence.splits import RunSplit, split_examples, split_runs
from mini_lib.influence.synthetic import SyntheticConfig, synthetic_task
from mini_lib.influence.tasks import (
    EMBEDDED_TASKS,
    KINDS,
    REAL_TASKS,
    FineTuneTask,
    convert_rows,
    load_real_task,
    make_task,
    rte_like,
    sst2_item,
    webnlg_like,
)
from mini_lib.influence.tracin import (
    CheckpointGradients,
    GradientProjection,
    LinearRescale,
    output_layer_grads,
    predicted_trajectories,
    tracin_self_influence,
)
from mini_lib.influence.verdicts import notebook_claims

__all__ = [
    "PLANTED", "PlantedStudy", "detection_over_splits", "mean_trajectory", "notebook_claims", "planted_study", "runs_frame", "signal_study",
    "true_vs_simulated",
    "BaseModel", "CheckpointGradients", "CollectConfig", "CollectedTask", "DetectionCurve", "EMBEDDED_TASKS", "Example",
    "FileIds", "Features", "FineTuneTask", "FitConfig", "FitReport", "FittedMethod", "GPTfluenceConfig", "GPTfluenceSimulator",
    "GradientProjection", "KINDS", "LinearRescale", "METHODS", "MeanStd", "MethodResult", "PAPER", "PretrainConfig",
    "REAL_TASKS", "Run", "RunSplit", "Simfluence", "SimulatorScores", "SimulatorSettings", "SyntheticConfig",
    "TaskDynamics", "average_over_tasks", "bleu", "collect_task", "compare_methods", "convert_rows", "curve_frame",
    "detection_curve", "detection_table", "encode_examples", "encode_texts", "example_set", "finetune", "fit_method",
    "greedy_continuations", "load_base_model", "load_collected", "load_real_task", "make_task", "order_ablation",
    "output_layer_grads", "paper_vs_ours", "predicted_trajectories", "pretrain_base_model", "read_file_ids",
    "read_run", "read_task",
    "retrain_after_removal", "rouge_l", "rte_like", "run_batches", "run_method", "score_simulator",
    "self_influence_scores", "split_examples", "sst2_item", "split_runs", "synthetic_task", "target_losses", "task_split",
    "text_scores", "tracin_self_influence", "trajectory_frame", "unseen_study", "webnlg_like", "write_run", "write_task",
]
