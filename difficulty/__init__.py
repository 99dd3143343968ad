"""Difficulty estimation and test-budget allocation. Never executes code: execution results
come in as pass matrices or through a caller's ``reveal`` callback.

    from difficulty import plan_budget, make_estimator, load_estimator
    k = plan_budget(problems, budget=8, estimator="model.pkl")   # {task_id: tests to keep}
"""
from difficulty.allocate import BudgetError, allocate, allocate_equal, allocate_greedy, marginal_gain, total_tests
from difficulty.estimators import Estimator, EstimatorError, FeatureEstimator, OracleEstimator, pass_rates_from_labels
from difficulty.features import exec_signals, text_features
from difficulty.plan import ALLOCATORS, plan_budget
from difficulty.registry import ESTIMATOR_NAMES, load_estimator, make_estimator
from difficulty.curves import GainCurves, allocate_curves
from difficulty.separation import allocate_separation, split_rate
from difficulty.adaptive import AdaptiveResult, allocate_adaptive

__all__ = [
    "ALLOCATORS", "AdaptiveResult", "BudgetError", "GainCurves", "allocate_adaptive", "allocate_curves", "ESTIMATOR_NAMES", "Estimator", "EstimatorError", "FeatureEstimator",
    "OracleEstimator", "allocate", "allocate_equal", "allocate_greedy", "allocate_separation", "exec_signals",
    "load_estimator", "make_estimator", "marginal_gain", "pass_rates_from_labels", "plan_budget", "split_rate",
    "text_features", "total_tests",
]
