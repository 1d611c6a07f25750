"""The training path (simulator, networks, training, eelsid train) never imports HyperSpy.

The GPU training machine has torch, numpy, scipy and h5py but not HyperSpy
or exSpy: this test blocks both imports and runs the pipeline end to end.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_simulate_and_train_without_hyperspy(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["hyperspy"] = None   # any import of them now fails
        sys.modules["exspy"] = None
        from hyperspy_eelsid.cli import main
        from hyperspy_eelsid.simulation import Simulator
        batch = Simulator().simulate(4, seed=0)
        assert batch.spectra.shape == (4, 3072)
        code = main(["train", "--config", r"{ROOT / 'configs' / 'vit_compact.toml'}", "--smoke",
                     "--out", r"{tmp_path / 'run'}", "--device", "cpu", "-q"])
        assert code == 0, code
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
    assert (tmp_path / "run" / "vit_compact.safetensors").is_file()
