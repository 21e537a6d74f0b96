"""The one name of a trained model version, used by training runs, prediction, the UI and retrain.

A version is named by its model and the content of its weight file, ``<model>-<sha256[:12]>``:
the same weights always have the same name, wherever the file lies or however it was produced,
and two different weight files never share one (12 hex digits: a collision among a lab's
versions is out of reach).
"""

from __future__ import annotations

SHA_DIGITS = 12


def version_name(model_id: str, weights_sha256: str) -> str:
    """``idfnp-3f2a9c0d81b7`` for the weights of ``idfnp`` whose sha256 starts 3f2a9c0d81b7."""
    if len(weights_sha256) < SHA_DIGITS:
        raise ValueError(f"not a sha256: {weights_sha256!r}")
    return f"{model_id}-{weights_sha256[:SHA_DIGITS]}"
