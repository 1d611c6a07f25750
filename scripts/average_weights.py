"""Average the weights of models trained on from the same weights (a "model soup").

Models fine-tuned from one starting point often stay in one basin of the
loss, and the uniform average of their weights can generalise better than
each of them (Wortsman et al., ICML 2022). This writes that average as a new
model (safetensors + card). Floating-point tensors, batch-norm running
statistics included, are averaged; integer ones (batch counters) are taken
from the first model. Every model must have the same architecture and
configuration. Run::

    python scripts/average_weights.py weights/unet_cpu.json runs/unet_cpu_v7/unet_cpu.json ... --out runs/soup/unet_cpu

and combine the averaged members with ``eelsid ensemble``. Session 13 tried
it on v6 and the five CPU candidates of sessions 11-12 (see
docs/results.md); it was not shipped.
"""

from __future__ import annotations

import argparse
import sys


def average_models(cards):
    """The first model of ``cards`` with the uniform average of all their weights."""
    import torch

    from hyperspy_eelsid.networks.io import load_model

    models = [load_model(c) for c in cards]
    first = models[0]
    for card, model in zip(cards[1:], models[1:]):
        if model.architecture != first.architecture or model.config != first.config:
            raise ValueError(f"{card} is not a {first.architecture} with the configuration of {cards[0]}")
    states = [m.state_dict() for m in models]
    averaged = {k: (torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v)
                for k, v in states[0].items()}
    first.load_state_dict(averaged)
    return first


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cards", nargs="+", help="model cards (.json) of one architecture")
    parser.add_argument("--out", required=True, help="file stem of the averaged model")
    args = parser.parse_args(argv)
    if len(args.cards) < 2:
        parser.error("give at least two models")
    from hyperspy_eelsid.networks.io import save_model

    model = average_models(args.cards)
    dtype = model.card["weights"].get("dtype", "float32")  # stored as the first one (its card)
    card = save_model(model, args.out, dtype=dtype, training={"note": "uniform average of the weights of " + ", ".join(args.cards)})
    print(f"wrote {args.out}.json ({card['n_parameters']:,} parameters, average of {len(args.cards)} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
