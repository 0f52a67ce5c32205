"""Parameters and CPU forward+backward time per image of MC-LCR next to LRL, against their bare backbone.

Default: the full-size configurations (configs/mclcr.toml, configs/paper.toml: Xception at 299). The
baseline, measured in the same run, is the bare timm backbone (no head) on RGB; LRL runs two such
backbones (RGB and frequency), MC-LCR one plus its style block and amplitude / phase branch. Prints
medians of --repeats timed training steps (loss included; the three alternate) after one warm-up each.

    python benchmarks/mclcr_model.py [--backbone legacy_xception] [--strides 8,16,32] [--size 299] [--batch 2]
"""

from __future__ import annotations

import timm
import torch
from lrl_model import count, median_seconds, model_parser, prepare  # LRL's benchmark, beside this script

from model import MCLCRConfig, ModelConfig, build_model, compute_loss


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--lrl-variant", default="full")
    args = parser.parse_args()
    strides = prepare(args)
    mcfg = MCLCRConfig(backbone=args.backbone, strides=strides)
    lcfg = ModelConfig(backbone=args.backbone, variant=args.lrl_variant, strides=strides)
    mclcr, lrl = build_model(mcfg).train(), build_model(lcfg).train()
    bare = timm.create_model(args.backbone, pretrained=False, num_classes=0).train()

    print(
        f"{args.backbone}, strides {strides}, {args.size} px, batch {args.batch}, {torch.get_num_threads()} "
        "threads"
    )
    parts = {
        "backbone": mclcr.backbone,
        "style block": mclcr.style,
        "amp/phase attn": mclcr.spectrum,
        "fusion": mclcr.fusion,
        "classifier": mclcr.classifier,
        "projection": mclcr.projection,
    }
    for name, part in parts.items():
        print(f"  MC-LCR params {name:15s} {count(part):>12,}")
    print(f"  MC-LCR params {'total':15s} {count(mclcr):>12,}")
    print(
        f"  LRL {args.lrl_variant} params total   {count(lrl):>12,}   (bare backbone, no head: "
        f"{count(bare):,})"
    )

    b, s = args.batch, args.size
    rgb, freq = torch.randn(b, 3, s, s), torch.randn(b, 1, s, s)
    label, mask = torch.arange(b) % 2, torch.zeros(b, 1, s, s)
    mask[1::2, :, s // 4 : s // 2, s // 3 : 2 * s // 3] = 1
    batch = {"label": label, "mask": mask}

    def step(net, cfg):
        def run() -> None:
            net.zero_grad(set_to_none=True)
            compute_loss(net(rgb, freq), batch, cfg).total.backward()

        return run

    def bare_step() -> None:
        bare.zero_grad(set_to_none=True)
        bare.forward_features(rgb).float().mean().backward()

    t_bare, t_lrl, t_mclcr = median_seconds([bare_step, step(lrl, lcfg), step(mclcr, mcfg)], args.repeats)
    for name, t in (("bare backbone", t_bare), (f"LRL {args.lrl_variant}", t_lrl), ("MC-LCR full", t_mclcr)):
        print(
            f"  {name:18s} fwd+bwd: {1000 * t / b:8.1f} ms/image  ({t / t_bare:.2f}x bare)  (median of "
            f"{args.repeats})"
        )
    print(f"  ratio MC-LCR / LRL: {t_mclcr / t_lrl:.2f}")


if __name__ == "__main__":
    main()
