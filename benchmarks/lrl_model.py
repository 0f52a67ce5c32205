"""Parameter counts and CPU forward+backward time per image of the LRL network vs its bare timm backbones.

Default: the paper configuration (Xception, full variant, 299 px). The baseline, measured in the same run,
is the bare timm backbone (no head) run forward+backward on both inputs (RGB 3-channel, frequency 1-channel).
Prints medians of --repeats timed steps (the two alternate) after one warm-up step each, and their ratio.

    python benchmarks/lrl_model.py [--backbone legacy_xception] [--variant full] [--size 299] [--batch 2]

(Not benchmarks/model.py: run as a script, that name would shadow the `model` package.)
"""

from __future__ import annotations

import argparse
import statistics
import time

import timm
import torch

from model import VARIANTS, ModelConfig, build_model, lrl_loss


def count(module: torch.nn.Module | None) -> int:
    return sum(p.numel() for p in module.parameters()) if module is not None else 0


def median_seconds(steps, repeats: int) -> list[float]:
    """Median time of each step; steps alternate within every repeat so load drift hits them alike."""
    times = [[] for _ in steps]
    for step in steps:
        step()  # warm-up
    for _ in range(repeats):
        for step, out in zip(steps, times, strict=True):
            start = time.perf_counter()
            step()
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def model_parser(doc: str) -> argparse.ArgumentParser:
    """The options of both model benchmarks (this one and mclcr_model.py): backbone, strides, size, batch,
    repeats, threads."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--backbone", default="legacy_xception")
    parser.add_argument("--strides", default="8,16,32")
    parser.add_argument("--size", type=int, default=299)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    return parser


def prepare(args) -> tuple[int, ...]:
    """Apply --threads and seed 0; the strides as a tuple."""
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return tuple(int(s) for s in args.strides.split(","))


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--variant", default="full", choices=list(VARIANTS))
    args = parser.parse_args()
    strides = prepare(args)
    cfg = ModelConfig(backbone=args.backbone, variant=args.variant, strides=strides)
    net = build_model(cfg).train()
    bare = [
        timm.create_model(args.backbone, pretrained=False, num_classes=0, in_chans=c).train() for c in (3, 1)
    ]

    parts = {
        "rgb stream": net.rgb,
        "freq stream": net.freq,
        "RFAM x3": net.rfam,
        "decoder": net.decoder,
        "classifier": net.classifier,
    }
    print(
        f"{args.backbone} / {args.variant}, strides {strides}, {args.size} px, batch {args.batch}, "
        f"{torch.get_num_threads()} threads"
    )
    for name, part in parts.items():
        print(f"  params {name:12s} {count(part):>12,}")
    print(
        f"  params {'total':12s} {count(net):>12,}   (bare timm backbone, no head: {count(bare[0]):,} each)"
    )

    b, s = args.batch, args.size
    rgb, freq = torch.randn(b, 3, s, s), torch.randn(b, 1, s, s)
    label, mask = torch.arange(b) % 2, torch.zeros(b, s, s)
    mask[1::2, s // 4 : s // 2, s // 3 : 2 * s // 3] = 1

    def lrl_step() -> None:
        net.zero_grad(set_to_none=True)
        lrl_loss(net(rgb, freq), label, mask, cfg).total.backward()

    def bare_step() -> None:
        for model, x in zip(bare, (rgb, freq), strict=True):
            model.zero_grad(set_to_none=True)
            model.forward_features(x).float().mean().backward()

    t_bare, t_lrl = median_seconds([bare_step, lrl_step], args.repeats)
    print(f"  bare backbones x2 fwd+bwd: {1000 * t_bare / b:8.0f} ms/image (median of {args.repeats})")
    print(f"  LRL {args.variant:16s} fwd+bwd: {1000 * t_lrl / b:8.0f} ms/image (median of {args.repeats})")
    print(f"  ratio LRL / bare backbones: {t_lrl / t_bare:.2f}")


if __name__ == "__main__":
    main()
