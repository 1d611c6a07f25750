"""``eelsid gos build``: a deterministic rebuild, and rebuilding chosen elements of a table
keeps its other elements (Be and B: about 2 s each)."""

import shutil

import h5py
import pytest

from hyperspy_eelsid.cli import main
from hyperspy_eelsid.physics.build import build_gosh
from hyperspy_eelsid.physics.gos_table import gos_file


@pytest.fixture(scope="module")
def be_b(tmp_path_factory):
    """Be and B built in one run."""
    path = tmp_path_factory.mktemp("gosh") / "be_b.gosh"
    build_gosh(path, elements=["Be", "B"], log=None)
    return path


def test_rebuilding_one_element_keeps_the_others_byte_for_byte(tmp_path, be_b):
    path = tmp_path / "table.gosh"
    build_gosh(path, elements=["Be"], log=None)
    summary = build_gosh(path, elements=["B"], log=None, keep_others=True)
    assert summary["elements"] == ["B"] and summary["kept"] == ["Be"]
    assert path.read_bytes() == be_b.read_bytes()  # as if both had been built at once
    build_gosh(path, elements=["B"], log=None, keep_others=True)  # B again: replaced, not added twice
    assert path.read_bytes() == be_b.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.gosh"]  # no partial file left


def test_command_with_elements_does_not_drop_the_rest_of_the_table(tmp_path, be_b, capsys):
    """`eelsid gos build --elements B` used to rewrite the file with B alone, the shipped table
    included when no --out was given."""
    path = tmp_path / "table.gosh"
    shutil.copy(be_b, path)
    assert main(["gos", "build", "--elements", "B", "--out", str(path)]) == 0
    assert "kept the other 1 elements" in capsys.readouterr().out
    with h5py.File(path) as h:
        assert sorted(k for k in h if k != "metadata") == ["B", "Be"]
    assert path.read_bytes() == be_b.read_bytes()


def test_command_refuses_to_mix_exchange_parameters_and_unknown_symbols(tmp_path, be_b, capsys):
    path = tmp_path / "table.gosh"
    shutil.copy(be_b, path)
    before = path.read_bytes()
    assert main(["gos", "build", "--elements", "B", "--alpha", "1", "--out", str(path)]) == 1
    assert "differs in: scf" in capsys.readouterr().err
    assert main(["gos", "build", "--elements", "Xx", "--out", str(path)]) == 1
    assert "Xx" in capsys.readouterr().err
    assert path.read_bytes() == before  # the table is left as it was


def test_shipped_table_was_computed_as_a_rebuild_would(tmp_path):
    """The shipped file's recorded method, grids and exchange are those of the current build,
    so `eelsid gos build --elements Fe` can rebuild its elements in place."""
    path = tmp_path / "shipped.gosh"
    shutil.copy(gos_file(), path)
    summary = build_gosh(path, elements=["Be"], log=None, keep_others=True)
    assert len(summary["kept"]) == 79
    with h5py.File(path) as new, h5py.File(gos_file()) as old:
        assert sorted(new) == sorted(old)
        assert new["Fe/L23/data"][:].tobytes() == old["Fe/L23/data"][:].tobytes()


def test_a_missing_output_folder_is_said_before_computing(tmp_path, capsys, monkeypatch):
    """The tables were computed (8 minutes for all elements) and then h5py failed on the
    temporary file's name."""
    from hyperspy_eelsid.physics import build

    monkeypatch.setattr(build, "_worker", lambda job: pytest.fail("computed before the path was checked"))
    assert main(["gos", "build", "--elements", "Be", "--out", str(tmp_path / "no" / "t.gosh")]) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "its folder does not exist" in err and ".partial" not in err


def test_compute_element_uses_the_configuration_it_is_given(be_b):
    """A sensitivity study (docs/scripts/gos_configuration_sensitivity.py) computes an element in
    another configuration; the default stays the ground state of the shipped table."""
    import numpy as np

    from hyperspy_eelsid.physics.build import compute_element

    ground = compute_element("Be", tables=["K1"])
    excited = compute_element("Be", tables=["K1"], occupations={(1, 0): 2, (2, 0): 1, (2, 1): 1})
    with h5py.File(be_b) as h:
        stored = h["Be/K1/data"][:].T
    np.testing.assert_array_equal(ground["tables"]["K1"].astype(np.float32), stored)
    assert "2p" in excited["eigenvalues"] and "2p" not in ground["eigenvalues"]
    assert not np.allclose(excited["tables"]["K1"], ground["tables"]["K1"], rtol=1e-3)
