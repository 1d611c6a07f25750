"""The element/edge table: order, coverage, agreement with exSpy, no HyperSpy needed."""

import json
import subprocess
import sys

import pytest

from hyperspy_eelsid import elements as el


def test_eighty_elements_be_to_bi_in_z_order():
    assert el.N_ELEMENTS == 80
    assert el.ELEMENTS[0] == "Be" and el.ELEMENTS[-1] == "Bi"
    assert [el.atomic_number(s) for s in el.ELEMENTS] == list(range(4, 84))
    assert el.element_index("Fe") == 22  # Fe is Z=26, Be is Z=4


def test_matches_benchmark_output_order(benchmark_manifest):
    assert list(el.ELEMENTS) == benchmark_manifest["elements"]


def test_unknown_element_is_a_clear_error():
    with pytest.raises(ValueError, match="Be..Bi"):
        el.element_index("Xx")
    with pytest.raises(ValueError, match="case-sensitive"):
        el.subshells("fe")


def test_known_onsets_and_names():
    fe = {s.name: s for s in el.subshells("Fe")}
    assert fe["L3"].onset_energy == 708.0 and fe["L3"].is_major
    assert fe["L2"].onset_energy == 721.0
    assert fe["L3"].label == "Fe_L3" and fe["L3"].shell == "L"
    assert [s.name for s in el.subshells("O")] == ["K"]
    ba = {s.name for s in el.subshells("Ba", 75, 3071)}
    assert {"M4", "M5", "N4", "N5"} <= ba


def test_every_element_has_an_edge_the_networks_can_see():
    for symbol in el.ELEMENTS:
        assert el.subshells(symbol, 75.0, 3071.0), symbol


def test_covers_50_to_4000_ev_sorted_without_aliases():
    onsets = [s.onset_energy for sym in el.ELEMENTS for s in el.subshells(sym)]
    assert min(onsets) >= 50.0 and max(onsets) <= 4000.0
    assert min(onsets) < 60 and max(onsets) > 3000  # both ends are populated
    for sym in el.ELEMENTS:
        subs = el.subshells(sym)
        assert list(subs) == sorted(subs, key=lambda s: (s.onset_energy, s.name))
        assert not {"K1a", "L1a"} & {s.name for s in subs}


def test_edges_in_window_filters_by_energy_and_relevance():
    window = el.edges_in_window(400.0, 600.0)
    assert all(400 <= s.onset_energy <= 600 and s.is_major for s in window)
    labels = {s.label for s in window}
    assert {"N_K", "O_K", "Ti_L3", "V_L3"} <= labels
    assert len(el.edges_in_window(400.0, 600.0, major_only=False)) > len(window)


def test_table_agrees_with_installed_exspy():
    exspy_elements = pytest.importorskip("exspy._misc.elements").elements
    sys.path.insert(0, str(el.__file__).rsplit("/hyperspy_eelsid/", 1)[0] + "/scripts")
    try:
        from make_element_table import build_table
    finally:
        sys.path.pop(0)
    fresh = build_table(exspy_elements)
    shipped = el._table()
    assert fresh["elements"] == shipped["elements"], (
        "hyperspy_eelsid/data/elements.json is out of date with the installed exSpy: "
        "run `python scripts/make_element_table.py`"
    )


def test_loads_without_hyperspy():
    code = (
        "import sys, hyperspy_eelsid.elements as e, hyperspy_eelsid.preprocessing as p;"
        "assert len(e.ELEMENTS) == 80;"
        "print(json.dumps(sorted(m for m in ('hyperspy', 'exspy') if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json;" + code],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_supplementary_subshells_fill_what_exspy_leaves_out():
    # exSpy lists only M4,5 for W; real W spectra also show M3 (2281 eV) and N4,5
    listed = {s.name for s in el.subshells("W")}
    both = {s.name: s for s in el.subshells("W", supplementary=True)}
    assert listed == {"M4", "M5"}
    assert {"M1", "M2", "M3", "N1", "N2", "N3", "N4", "N5"} <= set(both)
    assert both["M3"].onset_energy == pytest.approx(2281, abs=1) and both["M3"].supplementary
    assert not both["M5"].supplementary and both["M5"].onset_energy == 1809.0
    assert el.subshells("S", supplementary=True)[-1].name == "K"  # S K, 2472 eV
    for sym in el.ELEMENTS:
        subs = el.subshells(sym, supplementary=True)
        assert list(subs) == sorted(subs, key=lambda s: (s.onset_energy, s.name))
        extra = [s for s in subs if s.supplementary]
        assert all(s.relevance == "Minor" and 50 <= s.onset_energy <= 4000 for s in extra)
        # never a second copy of a subshell exSpy lists, combined names included (Al L2,3)
        covered = {n for s in el.subshells(sym) for n in
                   ([s.name[0] + p for p in s.name[1:].split(",")] + [s.name])}
        assert not covered & {s.name for s in extra}, sym
        # major-only lists (labels) are unchanged
        assert el.subshells(sym, major_only=True, supplementary=True) == el.subshells(sym, major_only=True)


def test_supplementary_subshells_agree_with_xraydb():
    xraydb = pytest.importorskip("xraydb")
    table = el._table()["supplementary"]["subshells"]
    for sym, subs in table.items():
        edges = xraydb.xray_edges(sym)
        for s in subs:
            assert s["onset_energy"] == pytest.approx(edges[s["name"]].energy, abs=0.1), (sym, s)


def test_coincident_edges_pairs_nearby_onsets_both_ways():
    from hyperspy_eelsid.elements import coincident_edges

    ((n_k, near),) = coincident_edges("N", 75, 3071)
    assert n_k.label == "N_K" and [s.label for s in near] == ["Sc_L3", "Cd_M5"]
    sc = {e.label: [s.label for s in others] for e, others in coincident_edges("Sc", 75, 3071)}
    assert sc["Sc_L3"][0] == "N_K"
    # N4 and N5 share one onset: one row, and one edge per other element
    rows = coincident_edges("Pr", 75, 400)
    assert [e.label for e, _ in rows] == ["Pr_N4"]
    assert [s.label for s in rows[0][1]] == ["Be_K", "Ce_N4", "Rb_M4", "Nd_N4"]
    # the window and the tolerance limit what is listed
    assert coincident_edges("N", 402.5, 3071) == []
    assert [s.label for s in coincident_edges("N", 75, 3071, tolerance=1.0)[0][1]] == ["Sc_L3"]
    with pytest.raises(ValueError, match="tolerance"):
        coincident_edges("N", tolerance=-1)


def test_minor_edges_near_names_the_real_benchmark_confusions():
    """Sr L1 read as Au M5 and La M3 read as Ga L3 in real SrTiO3 and La2O3 spectra."""
    from hyperspy_eelsid.elements import minor_edges_near

    def labels(rows):
        return [(e.label, [m.label for m in near]) for e, near in rows]

    assert labels(minor_edges_near("Au", ["Sr"], 1780, 2803)) == [("Au_M5", ["Sr_L1"])]
    assert labels(minor_edges_near("Ga", ["La", "Ga"], 695, 1717)) == [("Ga_L3", ["La_M3"])]
    # only minor edges of the other elements: Sr's major L3 edge is not one, Au alone has none
    assert minor_edges_near("Sr", ["Au"], 1780, 2803) == []
    assert minor_edges_near("Au", [], 1780, 2803) == []
    # the window and the tolerance limit what is listed
    assert minor_edges_near("Au", ["Sr"], 1780, 2210) == []
    assert minor_edges_near("Au", ["Sr"], 1780, 2803, tolerance=9.0) == []
    with pytest.raises(ValueError, match="tolerance"):
        minor_edges_near("Au", ["Sr"], tolerance=float("nan"))


def test_lanthanides_are_la_to_lu():
    from hyperspy_eelsid.elements import LANTHANIDES

    assert LANTHANIDES[0] == "La" and LANTHANIDES[-1] == "Lu" and len(LANTHANIDES) == 15
