"""What the docs scripts that read the real-spectrum benchmark share.

``../shared/eels-benchmark`` is optional: without it a script says so and
draws nothing. Run the scripts as ``python docs/scripts/<name>.py`` (this
folder is then on the import path).
"""

from __future__ import annotations

from pathlib import Path

#: Where the benchmark lies next to the repository.
DEFAULT_BENCHMARK = Path(__file__).resolve().parents[3] / "shared" / "eels-benchmark"  # beside the clone


def add_benchmark_option(parser):
    """The ``--benchmark PATH`` option (default :data:`DEFAULT_BENCHMARK`)."""
    parser.add_argument("--benchmark", default=str(DEFAULT_BENCHMARK))


def open_benchmark(path, nothing: str = "nothing to draw"):
    """``(root, manifest)``; the manifest is None, with a message ending in ``nothing``
    printed, when there is no benchmark at ``path``."""
    from hyperspy_eelsid.evaluation import read_manifest

    root = Path(path)
    manifest = read_manifest(root)
    if manifest is None:
        print(f"no benchmark at {root}: {nothing}")
    return root, manifest
