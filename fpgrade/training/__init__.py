"""Training and evaluation: data sets, subject-grouped protocols, the engine, metrics."""
