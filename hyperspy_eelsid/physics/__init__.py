"""Physics: Hartree-Fock-Slater atoms, generalized oscillator strengths (GOS) and core-loss cross sections."""
