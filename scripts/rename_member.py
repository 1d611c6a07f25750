"""Copy a saved model (card + weights) under another name, for ensembles of members that share one.

``eelsid ensemble`` refuses two members with the same name, and every run of
``scripts/finetune_cpu_fresh.sh`` saves its members as ``unet_cpu`` and
``resnet_cpu``. To combine members of different runs (e.g. the shipped
ensemble's with a candidate's), copy each under a name of its own first::

    python scripts/rename_member.py weights/unet_cpu.json runs/mix/unet_cpu_v13.json
    python scripts/rename_member.py runs/v15/unet_cpu.json runs/mix/unet_cpu_v15.json
    eelsid ensemble runs/mix/unet_cpu_v13.json runs/mix/unet_cpu_v15.json --out runs/mix ...

The weights are copied byte for byte (their SHA-256 in the card still
holds); the card keeps everything else and records the name it had.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from hyperspy_eelsid.networks.io import read_card


def rename_member(card_path, new_card_path) -> dict:
    """Copy the model of ``card_path`` to ``new_card_path`` (its stem is the new name); returns the new card."""
    card_path, new_card_path = Path(card_path), Path(new_card_path)
    if new_card_path.suffix != ".json":
        raise ValueError(f"{new_card_path}: the new card must end in .json")
    card = read_card(card_path)  # a clear error for a missing, corrupt or non-model card
    weights = card_path.parent / card["weights"]["file"]
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}, the weights named by {card_path}, is missing")
    name = new_card_path.stem
    new_card_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(weights, new_card_path.with_suffix(".safetensors"))
    card["renamed_from"] = card["name"]
    card["name"] = name
    card["weights"] = dict(card["weights"], file=f"{name}.safetensors")
    new_card_path.write_text(json.dumps(card, indent=2) + "\n")  # as save_model writes cards
    return card


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("card", help="model card (.json) to copy")
    ap.add_argument("new_card", help="where to write it; the file's stem becomes the model's name")
    a = ap.parse_args(argv)
    card = rename_member(a.card, a.new_card)
    print(f"{a.card} -> {a.new_card} (name {card['name']!r})")


if __name__ == "__main__":
    main()
