"""Optimal learning policies and the Learning Law (arXiv 2402.17759, "Towards Optimal Learning of LMs").

A learning policy gamma (T x N, rows on the simplex) re-weights N training examples at every step of
full-batch gradient descent; it is optimised to minimise the area under the desired-loss curve
J = (1/T) sum_t L_dsr(theta_t) (equivalently, to maximise the compression ratio log|V| / J).

Modules, in reading order: ``simplex`` (projection), ``problem`` / ``derivatives`` (a model as
per-example losses of a flat vector), ``unrolled`` (the inner run and the adjoint gradient),
``optimise`` (projected gradient descent on gamma), ``perceptron`` / ``tiny_lm`` / ``perturb`` /
``data`` (the paper's two settings), ``learning_law`` (contributions CT and their similarity),
``analysis`` / ``summary`` (AUC, CR, speed-up, learning-law fits), ``experiment`` (both settings from
a notebook's settings), ``plots`` (notebook 05's figures), ``paper`` (the paper's numbers beside
ours), ``reweighting`` (the learned weights in the package's one training loop).
"""

from mini_lib.core.lazy_exports import lazy_exports

# submodule -> the names it gives the package, imported on first use (the submodules import torch;
# mini_lib.papers.optimal_learning.settings must stay light)
__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "analysis": ("Acceleration", "FitComparison", "FitInterval", "LearningLawFit", "acceleration_ratio",
                 "area_under_curve", "compare_fits", "compression_ratio", "fit_interval", "fit_learning_law_curve",
                 "identifiability_by_steps", "interval_verdict"),
    "data": ("PolicyLMData", "prepare_policy_lm_data"),
    "experiment": ("LAW_BAND", "PolicyExperiment", "contributions_frame", "curves_frame", "epoch_printer", "fit_frame",
                   "fit_table", "headline", "late_active", "lm_config", "lm_data_from_settings", "objective_frame",
                   "perceptron_experiment", "perceptron_fits_by_steps", "policy_matrix", "readable", "resolve_device",
                   "similarity_frame", "simplex_checks", "spread_summary", "tiny_lm_experiment", "weights_frame"),
    "learning_law": ("ContributionSimilarity", "ContributionTrace", "ZeroWeightReport", "contribution_similarity",
                     "contributions", "trace_contributions", "zero_weight_report"),
    "optimise": ("PolicyConfig", "PolicyResult", "optimise_policy", "pgd_step"),
    "paper": ("OFFICIAL_SETUP", "PAPER_RESULTS", "paper_vs_ours", "scaling_law_claims", "setup_table", "speedup_summary",
              "takeaway"),
    "perceptron": ("PerceptronSetup", "PerceptronTask", "make_perceptron_task", "perceptron_losses"),
    "perturb": ("PerturbedTokens", "perturb_sequences"),
    "problem": ("PolicyProblem",),
    "reweighting": ("batch_weights", "policy_weights", "retrain_with_weights", "reweighting_schemes",
                    "rows_as_blocks"),
    "simplex": ("project_to_simplex",),
    "summary": ("PolicySummary", "summarise_policy"),
    "tiny_lm": ("TinyLMConfig", "count_parameters", "init_tiny_lm", "make_tiny_lm_problem"),
    "unrolled": ("PolicyGradient", "Trajectory", "policy_gradient", "simulate", "uniform_policy"),
})
