"""Optimal learning policies and the Learning Law (arXiv 2402.17759, "Towards Optimal Learning of LMs").

A learning policy gamma (T x N, rows on the simplex) re-weights N training examples at every step of
full-batch gradient descent; it is optimised to minimise the area under the desired-loss curve
J = (1/T) sum_t L_dsr(theta_t) (equivalently, to maximise the compression ratio log|V| / J).

Modules, in reading order: ``simplex`` (projection), ``problem`` / ``derivatives`` (a model as
per-example losses of a flat vector), ``unrolled`` (the inner run and the adjoint gradient),
``optimise`` (projected gradient descent on gamma), ``perceptron`` / ``tiny_lm`` / ``perturb`` /
``lm_data`` (the paper's two settings), ``learning_law`` (contributions CT and their similarity),
``analysis`` / ``summary`` (AUC, CR, speed-up, learning-law fits), ``experiment`` (both settings from
a notebook's settings), ``plots`` (notebook 05's figures), ``paper`` (the paper's numbers beside
ours), ``reweighting`` (the learned weights in the package's one training loop).
"""

from mini_lib.policy.analysis import (Acceleration, FitComparison, FitInterval, LearningLawFit, acceleration_ratio,
                                      area_under_curve, compare_fits, compression_ratio, fit_interval,
                                      fit_learning_law_curve, identifiability_by_steps, interval_verdict)
from mini_lib.policy.experiment import (PolicyExperiment, contributions_frame, curves_frame, fit_frame, fit_table, headline,
                                        lm_config, lm_data_from_settings, objective_frame, perceptron_experiment,
                                        perceptron_fits_by_steps,
                                        policy_matrix, resolve_device, similarity_frame, tiny_lm_experiment,
                                        weights_frame)
from mini_lib.policy.learning_law import (ContributionSimilarity, ContributionTrace, ZeroWeightReport,
                                          contribution_similarity, contributions, trace_contributions,
                                          zero_weight_report)
from mini_lib.policy.lm_data import PolicyLMData, prepare_policy_lm_data
from mini_lib.policy.optimise import PolicyConfig, PolicyResult, optimise_policy, pgd_step
from mini_lib.policy.paper import PAPER_RESULTS, paper_vs_ours, scaling_law_claims, speedup_summary
from mini_lib.policy.perceptron import PerceptronSetup, PerceptronTask, make_perceptron_task, perceptron_losses
from mini_lib.policy.perturb import PerturbedTokens, perturb_sequences
from mini_lib.policy.problem import PolicyProblem
from mini_lib.policy.reweighting import (batch_weights, policy_weights, retrain_with_weights, reweighting_schemes,
                                         rows_as_blocks)
from mini_lib.policy.simplex import project_to_simplex
from mini_lib.policy.summary import PolicySummary, summarise_policy
from mini_lib.policy.tiny_lm import TinyLMConfig, count_parameters, init_tiny_lm, make_tiny_lm_problem
from mini_lib.policy.unrolled import PolicyGradient, Trajectory, policy_gradient, simulate, uniform_policy

__all__ = [
    "Acceleration", "ContributionSimilarity", "ContributionTrace", "FitComparison", "FitInterval", "LearningLawFit", "PAPER_RESULTS",
    "PerceptronSetup", "PerceptronTask", "PerturbedTokens", "PolicyConfig", "PolicyExperiment", "PolicyGradient",
    "PolicyLMData", "PolicyProblem", "PolicyResult", "PolicySummary", "TinyLMConfig", "Trajectory",
    "ZeroWeightReport", "acceleration_ratio", "area_under_curve", "batch_weights", "compare_fits",
    "compression_ratio", "contribution_similarity", "contributions", "contributions_frame", "count_parameters",
    "curves_frame", "fit_frame", "fit_interval", "fit_table", "fit_learning_law_curve", "headline", "identifiability_by_steps",
    "interval_verdict", "init_tiny_lm", "lm_config",
    "lm_data_from_settings", "make_perceptron_task", "make_tiny_lm_problem", "objective_frame", "optimise_policy",
    "paper_vs_ours", "perceptron_experiment", "perceptron_fits_by_steps", "perceptron_losses", "perturb_sequences", "pgd_step", "scaling_law_claims",
    "policy_gradient", "policy_matrix", "policy_weights", "prepare_policy_lm_data", "project_to_simplex", "resolve_device",
    "retrain_with_weights", "reweighting_schemes", "rows_as_blocks", "similarity_frame", "simulate", "speedup_summary",
    "summarise_policy", "tiny_lm_experiment", "trace_contributions", "uniform_policy", "weights_frame",
    "zero_weight_report",
]
