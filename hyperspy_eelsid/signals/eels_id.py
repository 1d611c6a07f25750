"""The ``EELS_ID`` signal type: exSpy's EELS spectrum, extended with element identification."""

from exspy.signals import EELSSpectrum, LazyEELSSpectrum

from hyperspy_eelsid.signals import identification as _identification
from hyperspy_eelsid.signals import quantification as _quantification


class EELSIDSpectrum(EELSSpectrum):
    """Core-loss EELS spectrum (or spectrum image) with automatic element identification.

    A subclass of :class:`exspy.signals.EELSSpectrum` registered under its own
    ``signal_type`` ``"EELS_ID"``: everything exSpy offers (``add_elements``,
    ``create_model``, ``set_microscope_parameters``, ...) works unchanged.

    Examples
    --------
    >>> import hyperspy.api as hs
    >>> s = hs.load("spectrum.msa", signal_type="EELS_ID")  # doctest: +SKIP
    >>> probabilities = s.identify_elements()  # doctest: +SKIP
    >>> s.metadata.Sample.elements  # doctest: +SKIP
    ['Ba', 'O', 'Ti']
    """

    _signal_type = "EELS_ID"
    _alias_signal_types = ["EELSID"]

    def identify_elements(
        self,
        threshold=None,
        min_fraction=0.01,
        device="auto",
        batch_size=None,
        show_progressbar=None,
        weights=None,
        print_summary=True,
        cut_splices=True,
        cut_saturation=True,
        check_white_lines=True,
        check_sc_n=True,
        navigation_mask=None,
    ):
        return _identification.identify_elements(
            self,
            threshold=threshold,
            min_fraction=min_fraction,
            device=device,
            batch_size=batch_size,
            show_progressbar=show_progressbar,
            weights=weights,
            print_summary=print_summary,
            cut_splices=cut_splices,
            cut_saturation=cut_saturation,
            check_white_lines=check_white_lines,
            check_sc_n=check_sc_n,
            navigation_mask=navigation_mask,
        )

    identify_elements.__doc__ = _identification.identify_elements.__doc__

    def elemental_map(self, elements=None, thresholded=False):
        return _identification.elemental_map(self, elements=elements, thresholded=thresholded)

    elemental_map.__doc__ = _identification.elemental_map.__doc__

    def plot_identification(self, present=None, title=None, ax=None, pixel=False):
        return _identification.plot_identification(self, present=present, title=title, ax=ax, pixel=pixel)

    plot_identification.__doc__ = _identification.plot_identification.__doc__

    def create_model(
        self,
        low_loss=None,
        auto_background=True,
        auto_add_edges=True,
        GOS=None,
        gos_file_path=None,
        dictionary=None,
    ):
        return _quantification.create_model(
            self,
            low_loss=low_loss,
            auto_background=auto_background,
            auto_add_edges=auto_add_edges,
            GOS=GOS,
            gos_file_path=gos_file_path,
            dictionary=dictionary,
        )

    create_model.__doc__ = _quantification.create_model.__doc__

    def quantify_elements(
        self, low_loss=None, show_progressbar=None, return_model=False, GOS=None, gos_file_path=None,
        navigation_mask=None, cut_splices=True, cut_saturation=True, fine_structure=False, signal_range=None,
        fine_structure_width=None,
    ):
        return _quantification.quantify_elements(
            self,
            low_loss=low_loss,
            show_progressbar=show_progressbar,
            return_model=return_model,
            GOS=GOS,
            gos_file_path=gos_file_path,
            navigation_mask=navigation_mask,
            cut_splices=cut_splices,
            cut_saturation=cut_saturation,
            fine_structure=fine_structure,
            signal_range=signal_range,
            fine_structure_width=fine_structure_width,
        )

    quantify_elements.__doc__ = _quantification.quantify_elements.__doc__

    def _slicer(self, slices, isNavigation=None, out=None):
        # HyperSpy's inav / isig / [...]: the stored probabilities follow the navigation cut
        result = super()._slicer(slices, isNavigation=isNavigation, out=out)
        _identification._follow_slicing(self, result if out is None else out, slices, isNavigation)
        return result

    @property
    def identification(self):
        """Summary of the last :meth:`identify_elements` run (table on ``print``)."""
        return _identification.identification_summary(self)


class LazyEELSIDSpectrum(EELSIDSpectrum, LazyEELSSpectrum):
    """Lazy (dask-backed) twin of :class:`EELSIDSpectrum`."""
