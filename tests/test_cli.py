"""The eelsid command line: identify and map, with the transparent fake model."""

import json
from pathlib import Path

import h5py
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
    for command in ("identify", "map", "quantify", "demo", "gos", "simulate", "train", "ensemble", "evaluate"):
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
    assert f"eelsid identify: {files[1]}: the file is empty." in err
    assert err.count("empty.msa") == 1  # the file is named once
    result = json.loads((tmp_path / "out.json").read_text())
    assert list(result) == files
    si_entry, txt_entry = result[files[0]], result[files[2]]
    assert set(si_entry["probabilities"]) == set(ELEMENTS)
    assert si_entry["probabilities"]["Ti"] == pytest.approx(1.0)  # highest over pixels
    assert si_entry["detected"] == ["Ti"] and si_entry["threshold"] == 0.6
    assert txt_entry["detected"] == ["O"]
    assert "error" in result[files[1]]
    # the summary's cautions: O K (532 eV) starts 4 eV above Sb M5 (528 eV)
    assert txt_entry["cautions"] == {"coincident_edges": {"O": [["O_K", "Sb_M5"]]}, "minor_edges": {},
                                     "named_from_n_edges": []}
    assert txt_entry["dropped"] == [] and txt_entry["read_from_ev"] is None


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
    # float16 counts: a bright spectrum sums past float16's 65,504 (inf), a row at 30 % does not, and
    # against an infinite brightest total it was left out as dim; float64 totals keep it
    half = si.deepcopy()
    half.data = 2 * si.data
    half.data[5] *= 0.3
    half.change_dtype("float16")
    assert np.isinf(half.data[6:].sum(axis=-1)).all() and np.isfinite(half.data[5].sum(axis=-1)).all()
    half.save(tmp_path / "half.hspy")
    assert main(["identify", str(tmp_path / "half.hspy"), "--json", str(out), "-q", "--mask-below", "0.05"]) == 0
    assert json.loads(out.read_text())[str(tmp_path / "half.hspy")] == entry  # 50 left out, not 60


def test_map_writes_a_figure(fake_model, tmp_path):
    si = make_si((6, 7), hot={"Ti": np.eye(6, 7, dtype=bool), "O": np.ones((6, 7), bool)})
    si.save(tmp_path / "si.hspy")
    assert main(["map", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "maps.png"), "-q"]) == 0
    assert (tmp_path / "maps.png").stat().st_size > 5000 and not (tmp_path / "table.png").exists()
    assert main(["map", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "maps.png"),
                 "--table", str(tmp_path / "table.png"), "-q"]) == 0
    assert (tmp_path / "table.png").stat().st_size > 5000
    assert main(["map", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "maps.png"), "--elements", "Ti",
                 "--save", str(tmp_path / "maps"), "-q"]) == 0
    ti = hs.load(tmp_path / "maps" / "si_Ti_probability.hspy")
    np.testing.assert_allclose(ti.data, np.where(np.eye(6, 7, dtype=bool), 1.0, 0.5), atol=1e-6)  # the stand-in model
    assert ti.axes_manager.signal_shape == (7, 6) and ti.metadata.General.title == "Ti"
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


def test_warnings_name_the_file_and_the_option_that_turns_the_handling_off(tmp_path, capsys):
    """With several files, a SpliceWarning did not say which file it was about, and it named the
    Python parameter cut_splices=False, which the command did not have."""
    from .test_splices import spliced

    energy = np.arange(100.0, 1200.0)
    np.savetxt(tmp_path / "stitched.msa", np.c_[energy, spliced(energy, 400.0)], delimiter=", ")
    np.savetxt(tmp_path / "plain.msa", np.c_[energy, spliced(energy, 400.0, gain=1.0)], delimiter=", ")
    files = [str(tmp_path / "plain.msa"), str(tmp_path / "stitched.msa")]
    assert main(["identify", *files, "-q", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"eelsid identify: {files[1]}: warning (SpliceWarning): 1 of 1 spectra are stitched")
    assert err.count("SpliceWarning") == 1 and "cut_splices=False" in err
    assert main(["identify", *files, "-q", "--device", "cpu", "--no-cut-splices"]) == 0
    assert "SpliceWarning" not in capsys.readouterr().err


@pytest.fixture
def tio_weights():
    """A stand-in model that finds Ti and O (probability 0.9) in every spectrum, nothing else."""
    from hyperspy_eelsid import inference

    class TiO:
        name, threshold = "tio", 0.5

        def predict_proba(self, x):
            import torch

            p = torch.zeros((x.shape[0], len(ELEMENTS)))
            p[:, [ELEMENTS.index("Ti"), ELEMENTS.index("O")]] = 0.9
            return p

    key = ("tio-weights", "cpu")
    inference._CACHE[key] = TiO()
    yield key[0]
    inference._CACHE.pop(key, None)


def _composition_files(tmp_path):
    """The Ti L + O K scan of test_composition (known atoms per barn) and its low loss, saved."""
    from .test_composition import N_O, N_TI, _spectra

    s, ll = _spectra(low_loss=True)
    del s.metadata.Sample.elements  # as recorded: nobody has named the elements yet
    s.save(tmp_path / "tio.hspy")
    ll.save(tmp_path / "tio_ll.hspy")
    return str(tmp_path / "tio.hspy"), str(tmp_path / "tio_ll.hspy"), N_TI, N_O


def test_quantify_identifies_fits_and_writes_the_composition(tio_weights, tmp_path, capsys):
    si, ll, n_ti, n_o = _composition_files(tmp_path)
    out = tmp_path / "q.json"
    code = main(["quantify", si, "--low-loss", ll, "--weights", tio_weights, "--device", "cpu",
                 "--json", str(out), "--save", str(tmp_path / "maps"), "--out", str(tmp_path / "at.png")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "O, Ti quantified in 12 of 12 spectra (with a low loss)" in printed
    assert "at.%" in printed and "atoms/nm^2" in printed
    entry = json.loads(out.read_text())[si]
    assert entry["elements"] == ["O", "Ti"] and entry["low_loss"] and entry["fitted"] == 12
    truth_ti = 100.0 * n_ti / (n_ti + n_o)  # the four columns of the scan
    assert entry["atomic_percent"]["Ti"]["mean"] == pytest.approx(truth_ti.mean(), abs=0.5)
    assert entry["atomic_percent"]["Ti"]["p95"] == pytest.approx(truth_ti.max(), abs=1.0)
    assert 0 < entry["atomic_percent"]["Ti"]["error"] < 1.0  # at.%, per spectrum
    assert entry["areal_density_per_nm2"]["O"]["mean"] == pytest.approx(n_o * 1e10, rel=0.02)
    # the saved maps load back with HyperSpy, with their variances and the scan's shape
    saved = hs.load(tmp_path / "maps" / "tio_Ti_atomic_percent.hspy")
    assert saved.data.shape == (3, 4) and saved.metadata.General.title == "atomic percent of Ti"
    assert np.nanmean(saved.data) == pytest.approx(entry["atomic_percent"]["Ti"]["mean"])
    assert saved.metadata.Signal.Noise_properties.variance.data.shape == (3, 4)
    density = hs.load(tmp_path / "maps" / "tio_O_areal_density.hspy")
    assert np.nanmean(density.data) == pytest.approx(n_o * 1e10, rel=0.02)
    assert (tmp_path / "maps" / "tio_O_intensity.hspy").is_file()
    assert (tmp_path / "at.png").stat().st_size > 5000
    # the file on disk is not changed: still no elements named in it
    assert not hs.load(si).metadata.has_item("Sample.elements")
    # read lazily (block by block), the same figures
    lazy = tmp_path / "lazy.json"
    assert main(["quantify", si, "--low-loss", ll, "--weights", tio_weights, "--device", "cpu", "--lazy", "-q",
                 "--json", str(lazy)]) == 0
    lazy_entry = json.loads(lazy.read_text())[si]
    for quantity in ("atomic_percent", "areal_density_per_nm2"):
        for el in ("O", "Ti"):
            for key, value in entry[quantity][el].items():
                assert lazy_entry[quantity][el][key] == pytest.approx(value, rel=1e-9, abs=1e-9)


def test_quantify_one_spectrum_draws_the_fit(tmp_path, capsys, caplog):
    si, ll, n_ti, n_o = _composition_files(tmp_path)
    hs.load(si).inav[3, 0].save(tmp_path / "one.hspy")
    hs.load(ll).inav[3, 0].save(tmp_path / "one_ll.hspy")
    code = main(["quantify", str(tmp_path / "one.hspy"), "--elements", "Ti", "O", "--low-loss",
                 str(tmp_path / "one_ll.hspy"), "--out", str(tmp_path / "fit.png"), "--json", str(tmp_path / "q.json")])
    assert code == 0
    captured = capsys.readouterr()
    assert "quantified in one spectrum" in captured.out
    assert not [r for r in caplog.records if "slow" in r.getMessage()]  # HyperSpy's notice: nothing is slow here
    entry = json.loads((tmp_path / "q.json").read_text())[str(tmp_path / "one.hspy")]
    ti = entry["atomic_percent"]["Ti"]
    assert ti["mean"] == ti["p05"] == ti["p95"] == pytest.approx(100.0 * n_ti[3] / (n_ti[3] + n_o), abs=0.5)
    assert (tmp_path / "fit.png").stat().st_size > 5000
    # a shorter fit range changes the figures but not the answer (the end of this spectrum is sound)
    assert main(["quantify", str(tmp_path / "one.hspy"), "--elements", "Ti", "O", "--signal-range", "360", "700",
                 "--low-loss", str(tmp_path / "one_ll.hspy"), "--json", str(tmp_path / "r.json"), "-q"]) == 0
    ranged = json.loads((tmp_path / "r.json").read_text())[str(tmp_path / "one.hspy")]["atomic_percent"]["Ti"]
    assert ranged["mean"] != ti["mean"] and ranged["mean"] == pytest.approx(ti["mean"], abs=1.0)
    # one element named, no low loss: the table gives its fitted intensity (a share would be 100 %)
    assert main(["quantify", str(tmp_path / "one.hspy"), "--elements", "O", "Au"]) == 0
    printed = capsys.readouterr().out
    assert "edge intensity" in printed and "not fitted (no edge in the energy range): Au" in printed


def test_quantify_bad_input_gets_a_clear_error(flat_weights, tmp_path, capsys):
    si, ll, _, _ = _composition_files(tmp_path)
    bare = hs.load(si)
    del bare.metadata.Acquisition_instrument
    bare.save(tmp_path / "bare.hspy")
    path = str(tmp_path / "bare.hspy")
    assert main(["quantify", path, "--elements", "Ti", "O"]) == 1
    err = capsys.readouterr().err
    assert "does not record the beam energy, convergence angle and collection angle that" in err
    assert "--beam-energy VALUE" in err
    assert main(["quantify", path, "--elements", "Ti", "O", "--beam-energy", "200", "--convergence-angle", "10",
                 "--collection-angle", "30", "-q"]) == 0
    assert not hs.load(path).metadata.has_item("Acquisition_instrument")  # given for this run only
    assert main(["quantify", si, "--elements", "Ti", "O", "--beam-energy", "-200"]) == 1
    assert "--beam-energy -200.0 is not a plausible value (keV" in capsys.readouterr().err
    assert main(["quantify", si, "--elements", "Ti", "O", "--beam-energy", "200000"]) == 1  # eV, not keV
    assert "300 kV is 300, not 300000" in capsys.readouterr().err
    assert main(["quantify", si, "--elements", "Xx"]) == 1
    assert "Xx" in capsys.readouterr().err
    assert main(["quantify", si, "--elements", "Au"]) == 1
    assert "No edge of the signal's elements lies on its energy axis" in capsys.readouterr().err
    assert main(["quantify", si, "--elements", "Ti", "O", "Au", "-q"]) == 0  # a warning, in the command's words
    err = capsys.readouterr().err
    assert err.startswith("eelsid quantify: warning: Au: no edge on the energy axis") and "UserWarning" not in err
    assert main(["quantify", si, "--elements", "Ti", "O", "--signal-range", "400", "500"]) == 1
    assert "below every edge of O" in capsys.readouterr().err
    assert main(["quantify", si, "--elements", "Ti", "O", "--fine-structure-width", "-5"]) == 1
    assert "positive width in eV" in capsys.readouterr().err
    hs.load(ll).inav[0:2, 0].save(tmp_path / "ll_two.hspy")
    assert main(["quantify", si, "--elements", "Ti", "O", "--low-loss", str(tmp_path / "ll_two.hspy")]) == 1
    assert "navigation shape" in capsys.readouterr().err
    assert main(["quantify", si, "--weights", flat_weights, "--device", "cpu", "-q"]) == 1  # nothing detected
    assert "no element detected" in capsys.readouterr().err
    assert main(["quantify", str(tmp_path / "missing.hspy"), "--elements", "O"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_map_bad_input_gets_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["map", str(tmp_path / "missing.hspy"), "--out", str(tmp_path / "m.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("eelsid map: ") and "no such file" in err and err.count("missing.hspy") == 1
    (tmp_path / "empty.msa").write_text("")
    assert main(["map", str(tmp_path / "empty.msa"), "--out", str(tmp_path / "m.png")]) == 1
    assert "the file is empty" in capsys.readouterr().err
    make_si((3, 3)).save(tmp_path / "si.hspy")
    assert main(["map", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "m.png"), "--threshold", "2"]) == 1
    assert "threshold must lie strictly between 0 and 1" in capsys.readouterr().err
    assert not (tmp_path / "m.png").exists()
    # an output folder that does not exist: said before the identification, not after it
    for argv in (["map", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "no" / "m.png")],
                 ["map", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "m.png"), "--table",
                  str(tmp_path / "no" / "t.png")],
                 ["quantify", str(tmp_path / "si.hspy"), "--json", str(tmp_path / "no" / "q.json")],
                 ["quantify", str(tmp_path / "si.hspy"), "--out", str(tmp_path / "no" / "q.png")]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert "its folder does not exist" in err and "Element identification" not in out
    assert main(["map", str(tmp_path), "--out", str(tmp_path / "m.png")]) == 1
    assert "a folder, not a file" in capsys.readouterr().err


def test_train_and_evaluate_report_bad_input_without_a_traceback(tmp_path, capsys):
    """A missing or malformed configuration, a malformed --set, missing weights or data: one
    line naming what is wrong and exit status 2 (these were tracebacks; the ensemble's came
    after its validation spectra had been simulated)."""
    root = Path(__file__).resolve().parents[1]
    broken = tmp_path / "broken.toml"
    broken.write_text("x = [")
    no_labels = tmp_path / "spectra_only.h5"
    with h5py.File(no_labels, "w") as h:
        h["spectra"] = np.zeros((4, 3072), np.float32)
    cases = [
        (["train", "--config", str(tmp_path / "none.toml")], "none.toml does not exist"),
        (["train", "--config", str(broken)], f"{broken}: "),
        (["train", "--config", str(root / "configs" / "unet_compact.toml"), "--set", "bogus"], "not of the form table.key=value"),
        (["evaluate", "--weights", str(tmp_path / "none"), "--data", "x.h5"], "none.json is missing"),
        (["evaluate", "--weights", str(root / "weights"), "--data", str(tmp_path / "x.h5")], "x.h5 does not exist"),
        (["evaluate", "--weights", str(root / "weights"), "--data", str(no_labels)], "has no dataset 'labels'"),
        (["evaluate", "--weights", str(root / "weights"), "--data", str(broken)], f"{broken} is not an HDF5 file"),
        (["evaluate", "--weights", str(root / "weights"), "--data", str(no_labels), "--output",
          str(tmp_path / "no" / "m.json")], "its folder does not exist"),  # was a traceback after evaluating
        (["ensemble", str(tmp_path / "none.json"), "--out", str(tmp_path / "ens")], "none.json is missing"),
        (["ensemble", str(root / "weights" / "unet_cpu.json"), "--out", str(tmp_path / "ens"), "--n-val", "0"],
         "--n-val must be at least 1"),  # was a ZeroDivisionError
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"eelsid {argv[0]}: error: ") and message in err and "Traceback" not in err


def test_demo_and_identify_refuse_bad_output_and_options_before_working(tmp_path, capsys):
    """These were tracebacks, the JSON one after every file had been identified."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["demo", "--out", str(blocker / "figures")]) == 1  # a folder inside a file
    assert capsys.readouterr().err.startswith("eelsid demo: ")
    assert main(["demo", "--device", "gpu", "--out", str(tmp_path / "demo")]) == 1
    assert "device must be 'auto', 'cpu' or 'cuda'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--seed", "-1"])
    assert "a seed is a non-negative integer" in capsys.readouterr().err
    assert main(["identify", "any.msa", "--json", str(tmp_path / "missing" / "out.json")]) == 2
    assert "its folder does not exist" in capsys.readouterr().err
