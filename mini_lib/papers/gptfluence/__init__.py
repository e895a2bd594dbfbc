"""Training-data influence of GPT models (GPTfluence, arXiv 2404.07840): collect fine-tuning dynamics
on the training loop, simulate them with GPTfluence, Simfluence, TracIn-CP and Grad-Dot, and score
the simulators as the paper does. Notebook 04 walks through it."""

from mini_lib.core.lazy_exports import lazy_exports

# submodule -> the names it gives the package, imported on first use (the submodules import torch;
# mini_lib.papers.gptfluence.settings must stay light)
__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "analysis": ("MeanStd", "SimulatorScores", "score_simulator"),
    "collect": ("BaseModel", "CollectConfig", "CollectedTask", "PretrainConfig", "collect_task", "example_set",
                "finetune", "load_base_model", "load_collected", "pretrain_base_model", "run_batches",
                "target_losses"),
    "detection": ("DetectionCurve", "detection_curve"),
    "experiment": ("METHODS", "Features", "FittedMethod", "MethodResult", "SimulatorSettings", "average_over_tasks",
                   "compare_methods", "fit_method", "mean_trajectory", "order_ablation", "run_method", "runs_frame",
                   "signal_study", "task_split", "trajectory_frame", "unseen_study"),
    "features": ("encode_examples", "encode_texts"),
    "generation": ("bleu", "greedy_continuations", "rouge_l", "text_scores"),
    "gptdynamics": ("Example", "FileIds", "Run", "TaskDynamics", "read_file_ids", "read_run", "read_task",
                    "write_run", "write_task"),
    "gptfluence": ("FitConfig", "FitReport", "GPTfluenceConfig", "GPTfluenceSimulator"),
    "mislabel": ("curve_frame", "detection_over_splits", "detection_table", "retrain_after_removal",
                 "self_influence_scores"),
    "paper": ("PAPER", "findings", "notebook_claims", "paper_vs_ours"),
    "planted": ("PLANTED", "PlantedStudy", "planted_study"),
    "plots": ("planted_figure", "signal_figure", "true_trajectories", "true_vs_simulated"),
    "simfluence": ("Simfluence",),
    "splits": ("RunSplit", "split_examples", "split_runs"),
    "synthetic": ("SyntheticConfig", "synthetic_task"),
    "data": ("EMBEDDED_TASKS", "KINDS", "REAL_TASKS", "FineTuneTask", "convert_rows", "load_real_task", "make_task",
              "rte_like", "sst2_item", "webnlg_like"),
    "tracin": ("CheckpointGradients", "GradientProjection", "LinearRescale", "output_layer_grads",
               "predicted_trajectories", "tracin_self_influence"),
})
