"""Shared machinery of the model plugins (backbones from local weight files, weight files) and the
model-version registry: versions' lifecycle (``lifecycle``), the current version of a scale
(``current``), when a version may be promoted without a person (``promotion``)."""
