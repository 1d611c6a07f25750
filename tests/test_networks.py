"""Every architecture builds from the registry and maps (B, 3072) spectra to (B, 80) logits."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid.networks import architectures, build_model, preset_config, presets  # noqa: E402
from hyperspy_eelsid.networks.layers import FEATURE_REDUCTIONS, TOKEN_REDUCTIONS  # noqa: E402

ARCHS = ["mlp", "cnn", "unet", "resnet", "vit", "cct"]
# the paper's Table 2, millions of parameters
PAPER_PARAMS_M = {"mlp": 56, "cnn": 45, "resnet": 41, "unet": 20, "vit": 2, "cct": 5}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_registry_lists_the_six_architectures():
    assert sorted(architectures()) == sorted(ARCHS)
    for arch in ARCHS:
        assert {"default", "compact"} <= set(presets(arch))


@pytest.mark.parametrize("arch", ARCHS)
def test_default_parameter_count_is_the_papers_order(arch):
    with torch.device("meta"):  # no memory, no initialisation cost
        model = build_model(arch)
    n = model.n_parameters / 1e6
    print(f"{arch} default: {n:.2f} M parameters")
    assert 0.85 * PAPER_PARAMS_M[arch] <= n <= 1.15 * PAPER_PARAMS_M[arch]


@pytest.mark.parametrize("arch", ARCHS)
def test_compact_model_maps_spectra_to_80_logits(arch):
    torch.manual_seed(0)
    model = build_model(arch, preset="compact")
    # the shipped ensemble must stay <= 25 MB in float16: a few MB per member at most
    assert model.n_parameters * 2 < 4e6
    x = torch.rand(3, 3072)
    model.train()
    out = model(x)
    assert out.shape == (3, 80) and out.dtype == torch.float32
    out.sum().backward()  # trainable end to end
    model.eval()
    with torch.no_grad():
        logits = model(x)
    p = model.predict_proba(x.numpy())
    assert isinstance(p, np.ndarray) and p.shape == (3, 80)
    np.testing.assert_allclose(p, torch.sigmoid(logits).numpy(), rtol=1e-5, atol=1e-6)
    assert model.predict_proba(x[0]).shape == (80,)
    assert model.training is False


@pytest.mark.parametrize("arch,reduction", [(a, r) for a in ("cnn", "unet", "resnet") for r in FEATURE_REDUCTIONS]
                         + [(a, r) for a in ("vit", "cct") for r in TOKEN_REDUCTIONS])
def test_dimension_reduction_options(arch, reduction):
    model = build_model(arch, preset="compact", reduction=reduction).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3072)).shape == (2, 80)


@pytest.mark.parametrize("arch", ["mlp", "cnn", "unet", "resnet", "cct"])
def test_layer_normalisation_option(arch):
    model = build_model(arch, preset="compact", norm="layer")
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())
    assert any(isinstance(m, torch.nn.LayerNorm) for m in model.modules())
    assert model(torch.rand(2, 3072)).shape == (2, 80)


def test_config_rebuilds_the_same_model():
    model = build_model("vit", preset="compact", layers=2)
    assert model.architecture == "vit"
    assert model.config == preset_config("vit", "compact", layers=2)
    again = build_model("vit", **model.config)
    assert again.n_parameters == model.n_parameters


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown architecture 'lstm'"):
        build_model("lstm")
    with pytest.raises(ValueError, match="no preset 'huge'"):
        build_model("mlp", preset="huge")
    with pytest.raises(TypeError, match="no option 'depth'"):
        build_model("mlp", depth=3)
    with pytest.raises(ValueError, match="reduction must be one of"):
        build_model("cnn", preset="compact", reduction="max")
    model = build_model("mlp", preset="compact")
    with pytest.raises(ValueError, match=r"shape \(batch, 3072\)"):
        model(torch.rand(2, 2048))


def test_networks_do_not_import_hyperspy():
    import subprocess
    import sys

    code = ("import sys; import hyperspy_eelsid.networks.training, hyperspy_eelsid.networks.io, "
            "hyperspy_eelsid.networks.cli, hyperspy_eelsid.evaluation; "
            "from hyperspy_eelsid.networks import architectures; architectures(); "
            "assert 'hyperspy.api' not in sys.modules and 'hyperspy' not in sys.modules, "
            "[m for m in sys.modules if m.startswith('hyperspy.')]")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("arch", ["cnn", "unet", "resnet", "cct"])
def test_batchnorm_fusion_keeps_predictions(arch):
    import copy

    from hyperspy_eelsid.networks.layers import fuse_batchnorm

    torch.manual_seed(0)
    model = build_model(arch, preset="compact")
    model(torch.rand(8, 3072))  # give the running statistics non-trivial values
    model.eval()
    fused = fuse_batchnorm(copy.deepcopy(model))
    convs_before = sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())
    left = sum(isinstance(m, torch.nn.BatchNorm1d) for m in fused.modules())
    assert left < convs_before
    x = torch.rand(4, 3072)
    torch.testing.assert_close(fused.predict_proba(x), model.predict_proba(x), rtol=1e-4, atol=1e-5)


def test_log_input_encoding_makes_small_edges_as_large_as_big_ones():
    from hyperspy_eelsid.networks.layers import InputEncoding

    enc = InputEncoding("log", floor=1e-5)
    # the zero padding maps to 0 and the maximum to ~1
    x = torch.tensor([[0.0, 1.0, 1e-3, 2e-3, 0.1, 0.2]])
    out = enc(x)[0, 0]
    assert out[0] == 0 and abs(out[1] - 1) < 1e-5
    # a factor 2 jump is the same step at 1e-3 of the maximum as at 0.1
    step_small, step_big = out[3] - out[2], out[5] - out[4]
    assert abs(step_small - step_big) < 0.01 * step_big
    # negative counts (dark-subtracted noise) do not give NaN
    assert torch.isfinite(enc(torch.tensor([[-0.5, 0.3]]))).all()
    both = InputEncoding("linear+log")(x)
    assert both.shape == (1, 2, 6) and torch.equal(both[:, 0], x)
    with pytest.raises(ValueError, match="input_encoding must be one of"):
        InputEncoding("sqrt")


@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_takes_the_log_encoding(arch):
    torch.manual_seed(0)
    model = build_model(arch, preset="compact", input_encoding="linear+log")
    assert model.config["input_encoding"] == "linear+log"
    out = model(torch.rand(2, 3072))
    assert out.shape == (2, 80)
    out.sum().backward()
    # the logarithmic channel reaches the output: spectra differing only far
    # below the linear scale's resolution (1e-5 vs 1e-4 of the maximum above
    # 2 keV) move the logits much more than in the same network without it
    a = torch.zeros(1, 3072)
    a[0, 75:] = 1.0
    b = a.clone()
    b[0, 2000:] = 1e-4
    a[0, 2000:] = 1e-5
    torch.manual_seed(0)
    linear = build_model(arch, preset="compact").eval()
    model.eval()
    with torch.no_grad():
        moved = (model(a) - model(b)).abs().max()
        moved_linear = (linear(a) - linear(b)).abs().max()
    assert moved > 10 * moved_linear
