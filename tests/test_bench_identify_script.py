"""benchmarks/bench_identify.py: the batch-size sweep that chose the CPU batch size, the white-line fit timing."""

from .conftest import load_script


def test_batch_sweep_prints_a_median_and_every_pass_per_size(capsys):
    script = load_script("benchmarks/bench_identify.py")
    script.main(["--device", "cpu", "--batch-sweep", "16", "64", "--n", "128", "--repeats", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("model: ") and "device cpu" in lines[0]
    rows = [line.split() for line in lines[2:]]
    assert [r[0] for r in rows] == ["16", "64"]
    for r in rows:
        passes = [float(v) for v in r[2:]]
        assert len(passes) == 2 and min(passes) > 0
        assert min(passes) <= float(r[1]) <= max(passes)  # the median of the passes


def test_line_fit_prints_first_call_and_median_per_size(capsys):
    script = load_script("benchmarks/bench_identify.py")
    script.main(["--line-fit", "3", "20"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["white-line", "fit"]
    rows = [line.split() for line in lines[1:]]
    assert [r[4] for r in rows] == ["3", "20"]  # "Co / Ba lines", then the number of spectra
    assert all(float(r[5]) > 0 and float(r[6]) > 0 for r in rows)  # first call, median
