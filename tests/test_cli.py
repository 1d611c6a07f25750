"""The eelsid command line: identify and map, with the transparent fake model."""

import json

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")

from hyperspy_eelsid.cli import build_parser, main  # noqa: E402
from hyperspy_eelsid.elements import ELEMENTS  # noqa: E402

from .test_identification import CHANNEL, fake_model, make_si, make_white_line_si  # noqa: E402,F401


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("identify", "map", "demo", "gos", "simulate", "train", "ensemble", "evaluate"):
        assert command in out
    assert build_parser().parse_args(["identify", "a.msa"]).min_fraction == 0.01


def test_identify_json_and_bad_files(fake_model, tmp_path, capsys):
    si = make_si((10, 10), hot={"Ti": np.arange(100).reshape(10, 10) < 5})
    si.save(tmp_path / "si.hspy")
    energy = np.arange(80.0, 1080.0)
    counts = np.full(energy.size, 50.0)
    counts[95 - 80] = 100.0
    counts[CHANNEL["O"] - 80] = 100.0
    np.savetxt(tmp_path / "eelsdb.msa", np.c_[energy, counts], delimiter=", ")
    (tmp_path / "empty.msa").write_text("")
    files = [str(tmp_path / "si.hspy"), str(tmp_path / "empty.msa"), str(tmp_path / "eelsdb.msa")]
    code = main(["identify", *files, "--json", str(tmp_path / "out.json"), "--device", "cpu"])
    assert code == 1  # one file failed, the others were processed
    err = capsys.readouterr().err
    assert "empty.msa" in err and "empty" in err
    result = json.loads((tmp_path / "out.json").read_text())
    assert list(result) == files
    si_entry, txt_entry = result[files[0]], result[files[2]]
    assert set(si_entry["probabilities"]) == set(ELEMENTS)
    assert si_entry["probabilities"]["Ti"] == pytest.approx(1.0)  # highest over pixels
    assert si_entry["detected"] == ["Ti"] and si_entry["threshold"] == 0.6
    assert txt_entry["detected"] == ["O"]
    assert "error" in result[files[1]]


def test_identify_threshold_and_min_fraction(fake_model, tmp_path):
    si = make_si((10, 10), hot={"Ti": np.arange(100).reshape(10, 10) < 5})
    si.save(tmp_path / "si.hspy")
    out = tmp_path / "o.json"
    assert main(["identify", str(tmp_path / "si.hspy"), "--min-fraction", "0.1", "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text())[str(tmp_path / "si.hspy")]["detected"] == []
    assert main(["identify", str(tmp_path / "si.hspy"), "--threshold", "1.5", "-q"]) == 1


def test_identify_white_line_check_and_its_switch(fake_model, tmp_path):
    make_white_line_si(0.8).save(tmp_path / "coba.hspy")  # Ba-like lines, Co and Ba both detected
    path, out = str(tmp_path / "coba.hspy"), tmp_path / "o.json"
    assert main(["identify", path, "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text())[path]["detected"] == ["Ba"]
    assert main(["identify", path, "--json", str(out), "-q", "--no-white-line-check"]) == 0
    assert sorted(json.loads(out.read_text())[path]["detected"]) == ["Ba", "Co"]


def test_identify_and_map_leave_dim_and_nan_pixels_out(fake_model, tmp_path):
    # 10 x 10 scan: Mn in one pixel (1 %); 40 vacuum pixels (counts / 100) and 10 NaN pixels
    mn = np.zeros((10, 10), bool)
    mn[9, 9] = True
    si = make_si((10, 10), hot={"Mn": mn})
    si.data[:4] /= 100
    si.data[4] = np.nan
    si.save(tmp_path / "si.hspy")
    path, out = str(tmp_path / "si.hspy"), tmp_path / "o.json"
    assert main(["identify", path, "--json", str(out), "-q"]) == 1  # NaN: a clear error, nothing else
    assert "NaN" in json.loads(out.read_text())[path]["error"]
    assert main(["identify", path, "--json", str(out), "-q", "--mask-below", "0.05"]) == 0
    entry = json.loads(out.read_text())[path]
    assert (entry["spectra"], entry["left_out"]) == (50, 50) and entry["detected"] == ["Mn"]  # 1 of 50
    assert main(["identify", path, "--json", str(out), "-q", "--mask-below", "0.05", "--lazy"]) == 0
    assert json.loads(out.read_text())[path] == entry
    assert main(["map", path, "--out", str(tmp_path / "maps.png"), "-q", "--mask-below", "0.05"]) == 0
    assert (tmp_path / "maps.png").stat().st_size > 5000
    assert main(["identify", path, "-q", "--mask-below", "1.5"]) == 1


def test_map_writes_a_figure(fake_model, tmp_path):
    si = make_si((6, 7), hot={"Ti": np.eye(6, 7, dtype=bool), "O": np.ones((6, 7), bool)})
    si.save(tmp_path / "si.hspy")
    assert main(["map", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "maps.png"), "-q"]) == 0
    assert (tmp_path / "maps.png").stat().st_size > 5000
    single = make_si((), hot={"Fe": np.True_})
    single.save(tmp_path / "one.hspy")
    assert main(["map", str(tmp_path / "one.hspy"), "--out", str(tmp_path / "pt.png"), "-q"]) == 0
    assert (tmp_path / "pt.png").stat().st_size > 5000


def test_command_output_is_free_of_library_warnings(tmp_path):
    """A user running ``eelsid identify`` sees the result, not HyperSpy's numba/numexpr
    fallback warnings (the ``speed`` extra is a dependency) or exSpy's import
    deprecation warnings."""
    import subprocess
    import sys

    energy = np.arange(300.0, 800.0)
    counts = 1e5 * (energy / 300.0) ** -3 + 50.0 * (energy > 532)
    np.savetxt(tmp_path / "o.msa", np.c_[energy, counts], delimiter=", ")
    run = subprocess.run([sys.executable, "-m", "hyperspy_eelsid.cli", "identify", str(tmp_path / "o.msa"),
                          "--device", "cpu"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Element identification" in run.stdout
    for noise in ("Numba is not installed", "Numexpr is not installed", "VisibleDeprecationWarning"):
        assert noise not in run.stderr + run.stdout
