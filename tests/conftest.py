"""Shared fixtures: the optional ../shared benchmark material."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EELSID_SHARED", REPO.parent / "shared"))


def shared_path(*parts) -> Path:
    """Path inside ``../shared``; skip the test cleanly when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the ../shared benchmark material is optional)")
    return path


def load_script(relative_path: str):
    """Import a script of the repository (``benchmarks/...``, ``scripts/...``) as a module."""
    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def benchmark_manifest():
    """The real-spectrum benchmark manifest, or skip."""
    path = shared_path("eels-benchmark", "manifest.json")
    manifest = json.loads(path.read_text())
    manifest["root"] = path.parent
    return manifest


@pytest.fixture
def one_torch_thread():
    """Run a test with one torch thread (small networks: faster and steadier on 2 cores)."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def flat_weights():
    """The name of a stand-in model (every probability 0.1, threshold 0.5) that ``identify_elements``
    loads with ``weights=flat_weights, device="cpu"``: front-end tests without the shipped networks."""
    from hyperspy_eelsid import inference

    class Flat:
        name, threshold = "flat", 0.5

        def predict_proba(self, x):
            import torch

            return torch.full((x.shape[0], 80), 0.1)

    key = ("flat-weights", "cpu")
    inference._CACHE[key] = Flat()
    yield key[0]
    inference._CACHE.pop(key, None)
