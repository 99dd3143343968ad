"""Evaluation: best-of-N and test-quality metrics, and the accuracy-throughput (Pareto) report."""
