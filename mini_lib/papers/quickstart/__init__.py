"""Notebook 00, the quickstart: corpus -> tokenizer -> tiny Pythia -> samples, and its own checks."""
