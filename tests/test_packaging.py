"""Packaging: every subpackage is installed, the weights folder ships with the package."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    if sys.version_info < (3, 11):
        tomllib = pytest.importorskip("tomli")
    else:
        import tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_listed():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "hyperspy_eelsid").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(found - listed)}"
    assert "hyperspy_eelsid.weights" in listed


def test_weights_folder_is_installed_with_the_package():
    config = _pyproject()["tool"]["setuptools"]
    assert config["package-dir"]["hyperspy_eelsid.weights"] == "weights"
    data = config["package-data"]["hyperspy_eelsid.weights"]
    assert "*.safetensors" in data and "*.json" in data
    assert (ROOT / "weights" / "__init__.py").is_file()


def test_extension_yaml_and_data_files_are_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["hyperspy_eelsid"]
    assert "hyperspy_extension.yaml" in data and "data/*" in data


def test_the_package_runs_on_the_oldest_python_it_accepts():
    """No module needs a newer Python than ``requires-python`` allows (``tomllib``, new in 3.11,
    once stopped ``eelsid train`` on 3.10). vermin reads the syntax and the standard-library
    names each file uses, and follows ``sys.version_info`` guards."""
    import re
    import subprocess

    pytest.importorskip("vermin")
    spec = _pyproject()["project"]["requires-python"]
    match = re.fullmatch(r">=\s*(\d+)\.(\d+)", spec.strip())
    assert match, f"requires-python {spec!r} is not of the form '>=X.Y'"
    result = subprocess.run(
        [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())", "--no-tips", "--violations", "--eval-annotations",
         f"-t={match[1]}.{match[2]}-", str(ROOT / "hyperspy_eelsid"), str(ROOT / "weights")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, f"needs a newer Python than {spec}:\n{result.stdout}{result.stderr}"
