"""Trained network weights shipped with hyperspy-eelsid.

The repository's top-level ``weights/`` folder is installed as the package
``hyperspy_eelsid.weights`` (see ``pyproject.toml``). The shipped ensemble
lives here: ``ensemble.json`` lists its members, and each member is a
``<name>.safetensors`` weight file with its ``<name>.json`` card. Load it with
:func:`hyperspy_eelsid.inference.load_predictor_model`.
"""
