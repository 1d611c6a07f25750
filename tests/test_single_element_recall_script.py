"""benchmarks/single_element_recall.py: recall of single elements and of element groups (shipped weights)."""

import re

from .conftest import load_script


def test_groups_report_the_recall_of_every_member(capsys):
    script = load_script("benchmarks/single_element_recall.py")
    script.main(["B", "B+P", "--n", "256", "--end-max", "400"])
    out = capsys.readouterr().out
    assert "256 simulated spectra" in out and "ending at most at 400 eV" in out
    single = re.search(r"^  B : recall ([0-9.]+), median p ([0-9.]+)", out, re.M)
    group = re.search(r"^  B\+P: recall B ([0-9.]+), P ([0-9.]+);", out, re.M)
    assert single and group, out
    assert float(single.group(1)) > 0.5  # the shipped ensemble finds B K alone in most spectra
    assert all(0.0 <= float(v) <= 1.0 for v in group.groups())
    assert float(group.group(2)) > 0.2  # the group's spectra do hold P
