"""The summary of an identification: what was detected, where, and what to doubt.

:class:`IdentificationSummary` is what ``s.identification`` returns and what
``identify_elements`` prints; it is stored as a dictionary in
``s.metadata.EELSID.summary`` (:meth:`IdentificationSummary.as_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyperspy_eelsid.elements import ELEMENTS, LANTHANIDES, coincident_edges, minor_edges_near, subshells
from hyperspy_eelsid.line_ratios import summarise_verdicts
from hyperspy_eelsid.pair_classifier import summarise_pair_verdicts
from hyperspy_eelsid.preprocessing import GRID, energy_axis_from_signal, readout_windows, spectra_last

__all__ = ["IdentificationSummary", "COINCIDENCE_EV", "MINOR_EDGE_EV"]

#: Two edges whose onsets lie this close (eV) are listed as coincident in the
#: summary: the networks tell them apart only by fine structure and other edges.
COINCIDENCE_EV = 5.0

#: A detected element's major edge within this many eV of a minor edge (L1,
#: M1-M3, ...) of another detected element is listed in the summary: the minor
#: edge alone may be what the networks read.
MINOR_EDGE_EV = 10.0


@dataclass
class IdentificationSummary:
    """What ``identify_elements`` found, one row per element worth listing.

    Made by :func:`~hyperspy_eelsid.signals.identification.identify_elements`, which prints it;
    ``s.identification`` returns it.

    Attributes
    ----------
    detected : list of str
        Elements detected (in at least ``min_fraction`` of the pixels).
    threshold, min_fraction : float
        The detection settings used.
    n_spectra : int
        Number of spectra identified (those ``navigation_mask`` left out
        not counted).
    max_probability, fraction : dict
        Per element: highest probability over the pixels, and the fraction of
        pixels where it reaches the threshold (and, with the white-line
        check, is not contradicted by it).
    edges : dict
        Per element: the names of its edges inside the measured energy range.
    model : str
        The model or ensemble used.
    coincident : dict
        Per detected element with such edges: lists ``[edge, other, ...]`` of
        exSpy edge names (e.g. ``["N_K", "Sc_L3", "Cd_M5"]``), one of the
        element's major edges in range followed by the other elements' major
        edges that start within :data:`COINCIDENCE_EV` of it
        (:func:`~hyperspy_eelsid.elements.coincident_edges`): detections to
        check against the fine structure and the other edges.
    minor_overlaps : dict
        Per detected element with such edges: lists ``[edge, minor, ...]``,
        one of the element's major edges in range followed by the minor
        edges of the other detected elements that start within
        :data:`MINOR_EDGE_EV` of it (:func:`~hyperspy_eelsid.elements.minor_edges_near`),
        e.g. ``["Au_M5", "Sr_L1"]``: the minor edge alone may explain the
        detection.
    white_lines : list of dict
        The white-line ratio check of each coincident pair (Co L3,2 / Ba
        M5,4, Cu L3,2 / Pr M5,4) detected in some spectrum:
        ``pair``, ``ranges``, ``fitted``, ``verdicts`` and ``median_ratio``
        (see :func:`~hyperspy_eelsid.line_ratios.summarise_verdicts`).
    sc_n : dict or None
        The Sc / N classifier, where the networks name both: ``pair``,
        ``fitted`` (spectra classified), ``verdicts`` and ``median_p``
        (median P(Sc)); see
        :func:`~hyperspy_eelsid.pair_classifier.summarise_pair_verdicts`.
        None when it did not run.
    dropped : list of str
        Elements the networks detected that the white-line check or the Sc / N
        classifier removed: once their vetoes are applied, they reach the
        threshold in fewer than ``min_fraction`` of the spectra (or in none).
    n_masked : int
        Spectra left out by ``navigation_mask``.
    read_from : dict or None
        For a single spectrum read from a gain splice or the end of a
        saturated run on: ``energy_ev`` (the first energy read) and
        ``reasons`` (``"gain splice"``, ``"saturation"``). Edges below it are
        not in ``edges``. None otherwise.
    cut_from : list of int or None
        For a signal cut from an identified scan with ``inav`` (or ``[...]``):
        the navigation shape of that scan. The summary is the scan's; the
        probabilities (and so the maps) are cut like the signal. None otherwise.
    """

    detected: list
    threshold: float
    min_fraction: float
    n_spectra: int
    max_probability: dict = field(repr=False)
    fraction: dict = field(repr=False)
    edges: dict = field(repr=False)
    model: str = ""
    coincident: dict = field(default_factory=dict, repr=False)
    minor_overlaps: dict = field(default_factory=dict, repr=False)
    white_lines: list = field(default_factory=list, repr=False)
    sc_n: dict | None = field(default=None, repr=False)
    dropped: list = field(default_factory=list)
    n_masked: int = 0
    read_from: dict | None = None
    cut_from: list | None = None

    def rows(self, min_probability: float = 0.1, candidates: int = 5):
        """(element, max probability, fraction, edges) of the detected elements,
        then of up to ``candidates`` others that reached ``min_probability``."""
        others = [el for el in ELEMENTS if el not in self.detected and self.max_probability[el] >= min_probability]
        others = sorted(others, key=lambda el: -self.max_probability[el])[:candidates]
        names = sorted(self.detected, key=lambda el: -self.max_probability[el]) + others
        return [(el, self.max_probability[el], self.fraction[el], self.edges.get(el, [])) for el in names]

    def named_from_n_edges(self) -> list:
        """Detected lanthanides whose only major edges in the measured range are N4,5 edges.

        Their N4,5 edges lie 4-11 eV apart and have no shape of their own in the
        simulated training spectra, so from these edges alone the networks often
        name a neighbouring lanthanide (docs/results.md); the M5,4 edges tell them apart.
        """
        return [el for el in self.detected
                if el in LANTHANIDES and self.edges.get(el) and all(e.startswith("N") for e in self.edges[el])]

    def _heading(self) -> str:
        return (
            f"Element identification: {len(self.detected)} element(s) detected in "
            f"{self.n_spectra} spectr{'um' if self.n_spectra == 1 else 'a'} "
            f"(threshold {self.threshold:.3g}"
            + (f", in >= {100 * self.min_fraction:g} % of pixels" if self.n_spectra > 1 else "")
            + f"; model {self.model})"
            + (f"; {self.n_masked} left out by the navigation mask" if self.n_masked else "")
        )

    def _read_from_text(self) -> str | None:
        if not self.read_from:
            return None
        return (f"Read from {self.read_from['energy_ev']:.0f} eV on ("
                + " and ".join({"gain splice": "a gain splice", "saturation": "the end of a saturated run"}[r]
                               for r in self.read_from["reasons"])
                + "): edges below it were not seen.")

    def _cut_from_text(self) -> str | None:
        if not self.cut_from:
            return None
        shape = " x ".join(str(n) for n in self.cut_from)
        return (f"This signal was cut from the identified scan ({shape} spectra) that this summary describes; "
                "its probabilities and maps are cut like it. identify_elements() on it gives its own summary.")

    def _notes(self) -> list:
        """The cautions under the table, as groups of lines: a statement, then its details."""
        notes = []
        if self.coincident:
            group = [f"Edges starting within {COINCIDENCE_EV:g} eV of another element's edge "
                     "(check the fine structure and the other edges):"]
            for el in self.detected:
                for edge, *others in self.coincident.get(el, []):
                    near = ", ".join(f"{_edge_text(o)} (max p {self.max_probability[o.split('_')[0]]:.3f})"
                                     for o in others)
                    group.append(f"{_edge_text(edge)}: {near}")
            notes.append(group)
        if self.minor_overlaps:
            group = [f"Edges starting within {MINOR_EDGE_EV:g} eV of a minor edge of another detected element "
                     "(the minor edge alone may explain them):"]
            for el in self.detected:
                for edge, *minor in self.minor_overlaps.get(el, []):
                    group.append(f"{_edge_text(edge)}: {', '.join(_edge_text(m) for m in minor)}")
            notes.append(group)
        n_only = self.named_from_n_edges()
        if n_only:
            m5 = ", ".join(_edge_text(f"{el}_M5") for el in n_only)
            notes.append([f"{', '.join(n_only)}: named from N4,5 edges alone. Neighbouring lanthanides are often "
                          f"confused there; a spectrum reaching the M5,4 edges confirms ({m5})."])
        notes.extend(_white_line_text(check, self.dropped) for check in self.white_lines)
        if self.sc_n is not None:
            notes.append(_sc_n_text(self.sc_n, self.dropped))
        return notes

    def __str__(self):
        lines = [self._heading()]
        if self.cut_from:
            lines.append(f"  {self._cut_from_text()}")
        if self.read_from:
            lines.append(f"  {self._read_from_text()}")
        lines.append(f"  {'':1}{'El':<3} {'max p':>6} {'pixels >= t':>12}  edges in range")
        for el, p, frac, edges in self.rows():
            mark = "*" if el in self.detected else " "
            lines.append(f"  {mark}{el:<3} {p:6.3f} {100 * frac:11.1f}%  {' '.join(edges) or '-'}")
        lines.append("  (* detected; other lines: the most likely undetected elements)")
        for first, *rest in self._notes():
            lines.append(f"  {first}")
            lines.extend(f"    {line}" for line in rest)
        return "\n".join(lines)

    def _repr_html_(self):
        """The summary as an HTML table, for Jupyter notebooks."""
        from html import escape

        parts = [f"<p><b>{escape(self._heading())}</b></p>"]
        if self.cut_from:
            parts.append(f"<p>{escape(self._cut_from_text())}</p>")
        if self.read_from:
            parts.append(f"<p>{escape(self._read_from_text())}</p>")
        parts.append("<table><thead><tr><th>element</th><th>max p</th><th>pixels &ge; t</th>"
                     "<th>edges in range</th><th>detected</th></tr></thead><tbody>")
        for el, p, frac, edges in self.rows():
            found = el in self.detected
            cell = (lambda text: f"<b>{text}</b>") if found else (lambda text: text)
            parts.append(f"<tr><td>{cell(escape(el))}</td><td>{p:.3f}</td><td>{100 * frac:.1f} %</td>"
                         f"<td>{escape(' '.join(edges) or '-')}</td><td>{'yes' if found else ''}</td></tr>")
        parts.append("</tbody></table>")
        notes = self._notes()
        if notes:
            items = []
            for first, *rest in notes:
                sub = "".join(f"<li>{escape(line)}</li>" for line in rest)
                items.append(f"<li>{escape(first)}" + (f"<ul>{sub}</ul>" if sub else "") + "</li>")
            parts.append(f"<ul>{''.join(items)}</ul>")
        return "".join(parts)

    def as_dict(self):
        """A JSON-friendly dictionary (used for metadata and the CLI)."""
        return {
            "detected": list(self.detected),
            "threshold": self.threshold,
            "min_fraction": self.min_fraction,
            "n_spectra": self.n_spectra,
            "model": self.model,
            "max_probability": {k: float(v) for k, v in self.max_probability.items()},
            "fraction": {k: float(v) for k, v in self.fraction.items()},
            "edges": {k: list(v) for k, v in self.edges.items()},
            "coincident": {k: [list(row) for row in v] for k, v in self.coincident.items()},
            "minor_overlaps": {k: [list(row) for row in v] for k, v in self.minor_overlaps.items()},
            "white_lines": [dict(c) for c in self.white_lines],
            "sc_n": None if self.sc_n is None else dict(self.sc_n),
            "dropped": list(self.dropped),
            "n_masked": int(self.n_masked),
            "cut_from": None if not self.cut_from else [int(n) for n in self.cut_from],
            "read_from": None if not self.read_from else {"energy_ev": float(self.read_from["energy_ev"]),
                                                          "reasons": list(self.read_from["reasons"])},
        }


def _read_from(signal, readout=(True, True)):
    """For a single spectrum cut at a gain splice or after a saturated run: the first energy the
    networks read and why (the summary's ``read_from``); None otherwise (scans: per pixel)."""
    if not any(readout) or int(np.prod(signal.axes_manager.navigation_shape, dtype=int)) > 1:
        return None
    window, cuts = readout_windows(np.asarray(spectra_last(signal)), energy_axis_from_signal(signal), *readout)
    found = {r: float(e.max()) for r, e in (("gain splice", cuts.splices), ("saturation", cuts.saturation)) if e.size}
    if not found or not window[0].any():
        return None
    reasons = [r for r, e in found.items() if e == max(found.values())]  # the cut that sets the start
    return {"energy_ev": float(GRID[np.argmax(window[0])]), "reasons": reasons}


def _energy_range(signal, read_from=None):
    """The energy range whose edges the summary lists as in range: the signal axis's, from
    ``read_from`` on where a single spectrum was cut."""
    energy = energy_axis_from_signal(signal).centres  # eV, increasing
    lo = float(energy[0]) if read_from is None else max(float(energy[0]), read_from["energy_ev"])
    return lo, float(energy[-1])


def _edge_text(label):
    """``"N_K"`` -> ``"N K 401 eV"``."""
    element, name = label.split("_", 1)
    onset = next(s.onset_energy for s in subshells(element, 0, 1e6, supplementary=True) if s.name == name)
    return f"{element} {name} {onset:g} eV"


def _white_line_text(check, dropped):
    a, b = check["pair"]
    ranges = ", ".join(f"{el} {lo:g}-{hi:g}" for el, (lo, hi) in check["ranges"].items())
    v = check["verdicts"]
    ratio = "" if check["median_ratio"] is None else f"; median ratio {check['median_ratio']:.2f}"
    return [
        f"White-line ratio of {a} and {b} (first line / second; {ranges}): {check['fitted']} "
        f"spectr{'um' if check['fitted'] == 1 else 'a'} fitted, {v[a]} point to {a}, {v[b]} to {b}, "
        f"{v['neither']} to neither{ratio}.",
        _removed_text((a, b), dropped, "the ratio"),
    ]


def _sc_n_text(check, dropped):
    a, b = check["pair"]
    v = check["verdicts"]
    return [
        f"{a} L3,2 or {b} K (classifier of the 360-500 eV region, where both are detected): "
        f"{check['fitted']} spectr{'um' if check['fitted'] == 1 else 'a'} classified, {v[a]} point to {a}, "
        f"{v[b]} to {b}, {v['neither']} undecided; median P({a}) {check['median_p']:.2f}.",
        _removed_text((a, b), dropped, "the classifier"),
    ]


def _removed_text(pair, dropped, by):
    """The second line of a check's summary: which of the pair's detections it removed."""
    gone = [el for el in pair if el in dropped]
    return f"Not detected: {', '.join(gone)} (contradicted by {by})." if gone else "No detection removed."


def _detected(max_p, frac, threshold, min_fraction):
    return [
        el
        for i, el in enumerate(ELEMENTS)
        if frac[i] > 0 and frac[i] >= min_fraction and max_p[i] >= threshold
    ]


def _summarise(max_p, frac, threshold, min_fraction, n, energy_range, model, checked=None, n_masked=0,
               read_from=None):
    """``checked``: what :func:`~hyperspy_eelsid.signals.checks._run_checks` returned, if a check ran."""
    lo, hi = energy_range
    detected = _detected(max_p, frac, threshold, min_fraction)
    white_lines, dropped = [], []
    sc_n = None
    if checked is not None:
        if checked["white"] is not None:
            white_lines = summarise_verdicts(*checked["white"])
        if checked["sc_n"] is not None:
            sc_n = summarise_pair_verdicts(*checked["sc_n"])
        kept = _detected(max_p, checked["frac"], threshold, min_fraction)
        dropped = [el for el in detected if el not in kept]
        detected, frac = kept, checked["frac"]
    edges = {el: [s.name for s in subshells(el, lo, hi, major_only=True)] for el in ELEMENTS}
    coincident = {
        el: [[edge.label] + [o.label for o in others]
             for edge, others in coincident_edges(el, lo, hi, COINCIDENCE_EV)]
        for el in detected
    }
    minor = {
        el: [[edge.label] + [m.label for m in near]
             for edge, near in minor_edges_near(el, detected, lo, hi, MINOR_EDGE_EV)]
        for el in detected
    }
    return IdentificationSummary(
        detected=detected,
        threshold=threshold,
        min_fraction=min_fraction,
        n_spectra=n,
        max_probability=dict(zip(ELEMENTS, map(float, max_p))),
        fraction=dict(zip(ELEMENTS, map(float, frac))),
        edges=edges,
        model=model,
        coincident={el: rows for el, rows in coincident.items() if rows},
        minor_overlaps={el: rows for el, rows in minor.items() if rows},
        white_lines=white_lines,
        sc_n=sc_n,
        dropped=dropped,
        n_masked=n_masked,
        read_from=read_from,
    )


