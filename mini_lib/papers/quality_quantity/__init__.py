"""Data quality vs quantity (arXiv 2411.15821): size variants and duplicated-data variants of one packed
corpus, the size x duplication x seed grid, and the duplicate analysis. Notebook 03 walks through it."""
