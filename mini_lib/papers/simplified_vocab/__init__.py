"""Pre-training on a simplified vocabulary (arXiv 2404.02204): the paper's span filter, its word lists,
the vocabulary-size grid and its zero-shot tables. Notebook 02 walks through it."""
