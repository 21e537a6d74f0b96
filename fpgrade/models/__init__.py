"""Shared machinery of the model plugins: backbones from local weight files, weight files."""
