"""Notebook 01: the Pythia suite (arXiv 2304.01373) with Accelerate: shapes, precision, exact resume, loss vs size."""
