"""Simulation of the training spectra (the paper's Table 1), batched in torch on CPU or GPU."""
