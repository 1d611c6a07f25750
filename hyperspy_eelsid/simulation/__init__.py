"""Simulation of the training spectra (the paper's Table 1), batched in torch on CPU or GPU.

* :class:`SimulationConfig` - every parameter of Table 1, overridable;
* :class:`Simulator` - draws labelled spectra in batches (CPU or CUDA, same code);
* :func:`write_dataset` / :class:`SimulatedDataset` - HDF5 datasets and their torch reader;
* :mod:`~hyperspy_eelsid.simulation.scene` - spectrum images of a given specimen (the demo).

No HyperSpy: this runs on the training machine.
"""

from hyperspy_eelsid.simulation.config import SimulationConfig
from hyperspy_eelsid.simulation.dataset import SimulatedDataset, read_config, write_dataset
from hyperspy_eelsid.simulation.simulator import SimulatedBatch, Simulator

__all__ = ["SimulationConfig", "Simulator", "SimulatedBatch", "write_dataset", "SimulatedDataset", "read_config"]
