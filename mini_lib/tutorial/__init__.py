"""The tutorial notebooks' own experiments (00 quickstart, 01 the Pythia suite), kept apart from the
core so that the core holds only concepts every notebook shares."""
