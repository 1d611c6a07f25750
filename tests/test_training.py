"""Loss, training loop, learning-rate search, checkpoint/resume, configs and the train/evaluate CLI."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid.networks.checkpoint import CheckpointError  # noqa: E402
from hyperspy_eelsid.networks.cli import main as cli_main  # noqa: E402
from hyperspy_eelsid.networks.data import ToyEdgeSource, fixed_batches  # noqa: E402
from hyperspy_eelsid.networks.io import load_model  # noqa: E402
from hyperspy_eelsid.networks.losses import bce_soft_f1_loss, soft_f1_loss  # noqa: E402
from hyperspy_eelsid.networks.run import apply_overrides, load_config  # noqa: E402
from hyperspy_eelsid.networks.training import LOG_COLUMNS, TrainConfig, Trainer, lr_grid_search, train  # noqa: E402

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))
EASY = ["B", "N", "Ti", "Fe", "Ba"]  # well separated edges: an easy toy task


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def toy():
    source = ToyEdgeSource(batch_size=16, seed=0, elements=EASY, max_elements=2)
    val = fixed_batches(ToyEdgeSource(batch_size=64, seed=123, elements=EASY, max_elements=2), 1)
    return source, val


def tiny_config(**kw):
    base = dict(architecture="mlp", preset="compact", model={"hidden": [32], "dropout": 0.2},
                steps_per_epoch=4, epochs=2, lr=3e-3, seed=7, device="cpu", val_batch_size=64)
    base.update(kw)
    return TrainConfig(**base)


# ----------------------------------------------------------------------------- loss
def test_loss_on_hand_computed_cases():
    logits = torch.zeros(2, 2)  # p = 0.5 everywhere
    y = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    # element 0: TP = 0.5, FP = 0.5, FN = 0.5 -> F1 = 1/2; element 1: TP = 0, FP = 1 -> F1 = 0
    assert soft_f1_loss(logits, y).item() == pytest.approx(1 - 0.25, abs=1e-6)
    assert bce_soft_f1_loss(logits, y).item() == pytest.approx(math.log(2) + 0.75, abs=1e-6)
    assert bce_soft_f1_loss(logits, y, soft_f1_weight=0).item() == pytest.approx(math.log(2), abs=1e-6)
    confident = torch.tensor([[20.0, -20.0], [20.0, -20.0]])
    y2 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # right and sure: BCE ~ 0; element 1 never present nor predicted adds F1 = 0 to the macro mean
    assert bce_soft_f1_loss(confident, y2).item() == pytest.approx(0.5, abs=1e-6)
    assert bce_soft_f1_loss(-confident, y2).item() > 10  # wrong and sure: large


# ----------------------------------------------------------------------------- training
def test_tiny_model_learns_an_easy_task(toy):
    source, val = toy
    cfg = tiny_config(epochs=3, steps_per_epoch=12, model={"hidden": [64]})
    result = train(cfg, source, val, out_dir=None, log=None)
    losses = [h["val_loss"] for h in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert result.history[-1]["val_f1"] > result.history[0]["val_f1"]
    assert 0 < result.threshold < 1


def test_same_seed_same_run(toy):
    source, val = toy
    a = train(tiny_config(), source, val, log=None).model.state_dict()
    b = train(tiny_config(), source, val, log=None).model.state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


@pytest.mark.parametrize("kind", ["batch_source", "dataset"])
def test_resume_gives_the_same_result_as_an_uninterrupted_run(toy, tmp_path, kind):
    source, val = toy
    if kind == "dataset":
        x, y = fixed_batches(source, 4)
        source = torch.utils.data.TensorDataset(x, y)
    cfg = tiny_config(epochs=3, batch_size=16)
    full = Trainer(cfg, source, val, tmp_path / "full", log=None)
    full.run()
    Trainer(tiny_config(epochs=1, batch_size=16), source, val, tmp_path / "split", log=None).run()
    resumed = Trainer(cfg, source, val, tmp_path / "split", log=None)
    resumed.run()
    assert resumed.epoch == 3
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, rtol=0, atol=0)
    drop = ("wall_s",)
    assert ([{k: v for k, v in h.items() if k not in drop} for h in resumed.history]
            == [{k: v for k, v in h.items() if k not in drop} for h in full.history])
    for d in ("full", "split"):
        rows = list(csv.DictReader(open(tmp_path / d / "log.csv")))
        assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
        assert tuple(rows[0]) == LOG_COLUMNS


def test_resume_with_other_settings_is_refused(toy, tmp_path):
    source, val = toy
    Trainer(tiny_config(epochs=1), source, val, tmp_path, log=None).run()
    with pytest.raises(CheckpointError, match=r"other settings \(lr 0\.003 there, 0\.01 now\)"):
        Trainer(tiny_config(epochs=2, lr=1e-2), source, val, tmp_path, log=None).run()


def test_fine_tuning_starts_from_the_given_weights(toy, tmp_path):
    source, val = toy
    first = Trainer(tiny_config(epochs=2, steps_per_epoch=12), source, val, tmp_path / "a", log=None).run()
    card = tmp_path / "a" / "model.json"
    start = Trainer(tiny_config(init_weights=str(card)), source, val, log=None)
    saved = load_model(card).state_dict()  # stored as float16: compare with what was saved
    assert all(torch.equal(start.model.state_dict()[k], saved[k]) for k in saved)
    # it starts where the first run ended, far better than a fresh start
    fresh = Trainer(tiny_config(), source, val, log=None)
    assert start.validate()["val_loss"] < fresh.validate()["val_loss"]
    assert start.validate()["val_f1"] == pytest.approx(first.history[-1]["val_f1"], abs=0.05)
    with pytest.raises(ValueError, match="does not fit"):
        Trainer(tiny_config(model={"hidden": [16]}, init_weights=str(card)), source, val, log=None)
    with pytest.raises(ValueError, match="architecture"):
        Trainer(tiny_config(architecture="cnn", model={}, init_weights=str(card)), source, val, log=None)


def test_learning_rate_halves_on_f1_plateau(toy):
    source, val = toy
    # no progress possible: tiny steps, no batch-norm statistics drifting
    cfg = tiny_config(epochs=3, steps_per_epoch=1, lr=1e-8, min_lr=1e-12, lr_patience=0,
                      model={"hidden": [32], "norm": "none", "dropout": 0.0})
    result = train(cfg, source, val, log=None)
    lrs = [h["lr"] for h in result.history]
    assert lrs[1] == pytest.approx(lrs[0] / 2) and lrs[2] == pytest.approx(lrs[0] / 4)


def test_lr_grid_search_picks_a_candidate(toy):
    source, val = toy
    out = lr_grid_search(tiny_config(), source, val, lrs=(1e-6, 3e-3), steps=8, log=None)
    assert [r["lr"] for r in out["results"]] == [1e-6, 3e-3]
    assert out["best_lr"] == 3e-3  # 1e-6 cannot learn anything in 8 steps


def test_bf16_autocast_on_cpu_trains(toy):
    source, val = toy
    result = train(tiny_config(epochs=1, steps_per_epoch=2, precision="bf16"), source, val, log=None)
    assert np.isfinite(result.history[0]["train_loss"])


def test_saved_model_has_card_with_threshold_and_training(toy, tmp_path):
    source, val = toy
    result = train(tiny_config(name="tiny"), source, val, out_dir=tmp_path, log=None)
    model = load_model(tmp_path / "tiny")
    assert model.threshold == pytest.approx(result.threshold)
    card = model.card
    assert card["training"]["epochs_run"] == 2 and card["training"]["steps_run"] == 8
    assert "hardware" in card["training"] and "f1" in card["metrics"]["validation"]


# ----------------------------------------------------------------------------- configs and CLI
def test_configs_exist_for_all_architectures_and_build():
    assert {load_config(p)["model"]["architecture"] for p in CONFIGS} == {
        "mlp", "cnn", "unet", "resnet", "vit", "cct"}
    for path in CONFIGS:
        _check_builds(load_config(path))


def _check_builds(config):
    """The config's training table parses and its model builds (on the meta device)."""
    from hyperspy_eelsid.networks import build_model

    m = config["model"]
    TrainConfig.from_dict({k: v for k, v in config["training"].items()
                           if k not in ("lr_grid", "lr_grid_steps", "lr")})
    with torch.device("meta"):
        build_model(m["architecture"], m.get("preset", "default"), **m.get("options", {}))


def test_cpu_and_gpu_configs_build_and_name_existing_simulator_settings():
    """The configs in configs/cpu and configs/gpu (the shipped members' recipes and the
    prepared GPU runs) parse, build, and point at simulator settings that exist."""
    from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides

    root = Path(__file__).resolve().parents[1]
    paths = sorted((root / "configs").glob("*/*.toml"))
    assert {p.stem for p in paths} >= {"unet_cpu", "resnet_cpu", "unet_gpu_v13", "resnet_gpu_v13"}
    for path in paths:
        config = load_config(path)
        _check_builds(config)
        for table in ("data", "validation"):
            if config[table].get("source") == "simulator" and "simulation" in config[table]:
                setting = root / config[table]["simulation"]  # (without one: the paper's Table 1)
                assert setting.is_file(), f"{path.name}: [{table}] simulation {setting} is missing"
                SimulationConfig.from_dict(read_overrides(str(setting)))


def test_overrides():
    config = apply_overrides({"model": {"architecture": "vit"}},
                             ["training.epochs=3", "model.options.norm=layer", "training.lr=1e-4"])
    assert config["training"] == {"epochs": 3, "lr": 1e-4}
    assert config["model"]["options"] == {"norm": "layer"}


def test_train_and_evaluate_commands(tmp_path, capsys):
    import h5py

    config = [p for p in CONFIGS if p.stem == "mlp_compact"][0]
    out = tmp_path / "run"
    assert cli_main(["train", "--config", str(config), "--smoke", "--out", str(out), "-q"]) == 0
    assert (out / "mlp_compact.json").is_file() and (out / "lr_grid.json").is_file()
    x, y = fixed_batches(ToyEdgeSource(batch_size=20, seed=5), 1)
    with h5py.File(tmp_path / "test.h5", "w") as f:
        f["spectra"] = x.numpy()
        f["labels"] = y.numpy().astype("u1")
    report = tmp_path / "metrics.json"
    assert cli_main(["evaluate", "--weights", str(out / "mlp_compact.json"), "--data",
                     str(tmp_path / "test.h5"), "--ignore-carbon", "--output", str(report)]) == 0
    metrics = json.loads(report.read_text())
    assert metrics["n_spectra"] == 20 and "confused_pairs" in metrics
    assert "C" not in metrics["per_element"]
    # "auto" picks the device (it reached torch as a device name and failed there)
    evaluate = ["evaluate", "--weights", str(out / "mlp_compact.json"), "--data", str(tmp_path / "test.h5")]
    assert cli_main([*evaluate, "--device", "auto"]) == 0
    capsys.readouterr()
    # options that would give meaningless figures or a traceback are refused in one line
    for option, message in ((["--threshold", "1.5"], "--threshold must be a probability"),
                            (["--batch-size", "0"], "--batch-size must be at least 1"),
                            (["--device", "gpu"], "device must be 'auto', 'cpu' or 'cuda'")):
        assert cli_main([*evaluate, *option]) == 2
        err = capsys.readouterr().err
        assert err.startswith("eelsid evaluate: error:") and message in err
    assert cli_main(["ensemble", str(out / "mlp_compact.json"), "--out", str(tmp_path / "ens"),
                     "--n-val", "8", "--device", "gpu"]) == 2
    assert "eelsid ensemble: error: device must be" in capsys.readouterr().err
    assert not (tmp_path / "ens").exists()


def test_train_refuses_bad_settings_before_writing_anything(tmp_path, capsys):
    config = str([p for p in CONFIGS if p.stem == "mlp_compact"][0])
    out = tmp_path / "run"
    assert cli_main(["train", "--config", config, "--smoke", "--out", str(out), "-q"]) == 0
    recorded = (out / "config.json").read_text()
    checkpoint = (out / "checkpoint.json").read_text()
    capsys.readouterr()
    # resuming with another seed: one line naming the setting, the run's files untouched
    assert cli_main(["train", "--config", config, "--smoke", "--out", str(out), "-q",
                     "--set", "training.seed=3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eelsid train: error:") and "Traceback" not in err
    assert "seed 0 there, 3 now" in err and "--no-resume" in err
    assert (out / "config.json").read_text() == recorded
    assert (out / "checkpoint.json").read_text() == checkpoint
    # a bad setting or a data file that is no HDF5 file: no output directory is made
    (tmp_path / "notes.h5").write_text("not HDF5")
    for extra, message in ((["--set", "model.architecture=foo"], "unknown architecture 'foo'"),
                           (["--set", "training.optimizer=sgd"], "unknown training settings ['optimizer']")):
        assert cli_main(["train", "--config", config, "--smoke", "--out", str(tmp_path / "new"), "-q",
                         *extra]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "new").exists()
    assert cli_main(["train", "--config", config, "--out", str(tmp_path / "new"), "-q",
                     "--set", "data.source=hdf5", "--set", f"data.path={tmp_path / 'notes.h5'}",
                     "--set", "training.lr=1e-3", "--set", "validation.source=toy"]) == 2
    assert "notes.h5 is not an HDF5 file" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_checkpoint_of_another_model_shape_is_a_clear_error(tmp_path):
    from hyperspy_eelsid.networks import build_model
    from hyperspy_eelsid.networks.checkpoint import load_checkpoint, save_checkpoint

    small = build_model("mlp", preset="compact", hidden=[16])
    opt = torch.optim.Adam(small.parameters())
    save_checkpoint(tmp_path / "ckpt", small, opt, state={"epoch": 1})
    other = build_model("mlp", preset="compact", hidden=[32])  # e.g. a preset changed since
    with pytest.raises(CheckpointError, match="another model configuration.*--no-resume"):
        load_checkpoint(tmp_path / "ckpt", other, torch.optim.Adam(other.parameters()))


def test_time_budget_stops_and_resume_continues(toy, tmp_path):
    source, val = toy
    cfg = tiny_config(epochs=3, batch_size=16)
    first = Trainer(cfg, source, val, tmp_path, log=None)
    first.run(max_wall_s=0.0)  # budget spent after the first epoch
    assert first.epoch == 1
    again = Trainer(cfg, source, val, tmp_path, log=None)
    again.run()
    assert again.epoch == 3
    full = Trainer(cfg, source, val, tmp_path / "full", log=None)
    full.run()
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(again.model.state_dict()[k], v, rtol=0, atol=0)


def test_in_memory_source_serves_every_spectrum_once_per_pass(tmp_path):
    h5py = pytest.importorskip("h5py")
    from hyperspy_eelsid.networks.data import InMemorySpectra

    n = 40
    x = np.zeros((n, 3072), np.float32)
    x[:, 0] = np.arange(n) / n  # spectrum id in channel 0 (exact in float16)
    y = np.zeros((n, 80), np.uint8)
    y[np.arange(n), np.arange(n) % 80] = 1
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        f["spectra"], f["labels"] = x, y
    src = InMemorySpectra(path, batch_size=8, seed=3, block=16)
    assert len(src) == n and src.steps_per_pass == 5
    seen = torch.cat([src(s)[0][:, 0] for s in range(5)])
    assert sorted((seen * n).round().int().tolist()) == list(range(n))
    xb, yb = src(7)
    ids = (xb[:, 0] * n).round().long()
    # labels travel with their spectra; batches depend on the step alone
    assert torch.equal(yb.argmax(1), ids % 80) and xb.dtype == torch.float32
    again = InMemorySpectra(path, batch_size=8, seed=3)
    assert torch.equal(again(7)[0], xb) and not torch.equal(src(2)[0], xb)
    with pytest.raises(ValueError, match="fewer than one batch"):
        InMemorySpectra(path, batch_size=64)


def test_simulator_source_reads_overrides_from_a_json_file(tmp_path):
    from hyperspy_eelsid.networks.data import SimulatorSource

    repo = Path(__file__).resolve().parents[1]
    realistic = repo / "configs" / "simulation" / "realistic.json"
    try:
        src = SimulatorSource(batch_size=4, seed=0, simulation=str(realistic))
    except FileNotFoundError:
        pytest.skip("the package's GOS table is not built")
    assert src.simulator.config.white_line_strength == (1.0, 10.0)
    assert src.simulator.config.end_distribution == "log-uniform"
    x, y = src(0)
    assert x.shape == (4, 3072) and y.shape == (4, 80)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        SimulatorSource(batch_size=4, simulation=str(bad))


def test_chunked_simulator_source_hands_out_one_large_simulation_step_by_step():
    from hyperspy_eelsid.networks.data import SimulatorSource
    from hyperspy_eelsid.simulation.simulator import batch_seed

    try:
        src = SimulatorSource(batch_size=4, seed=5, chunk_steps=3)
    except FileNotFoundError:
        pytest.skip("the package's GOS table is not built")
    steps = [src(s) for s in range(6)]
    assert all(x.shape == (4, 3072) and y.shape == (4, 80) for x, y in steps)
    # steps 0-2 are the rows of one simulation of 12 spectra with the seed of chunk 0
    whole = src.simulator.simulate(12, seed=batch_seed(5, 0))
    assert torch.equal(steps[1][0], whole.spectra.float()[4:8])
    assert torch.equal(steps[2][1], whole.labels.float()[8:12])
    assert not torch.equal(steps[0][0], steps[3][0])
    # a resumed run (a new source starting mid-chunk) sees the same spectra
    assert torch.equal(SimulatorSource(batch_size=4, seed=5, chunk_steps=3)(4)[0], steps[4][0])
    with pytest.raises(ValueError, match="chunk_steps"):
        SimulatorSource(batch_size=4, chunk_steps=0)
