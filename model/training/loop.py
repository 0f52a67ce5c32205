"""The training loop, in the shape of torchvision's reference scripts: one epoch, evaluate, checkpoint.

Model selection: best.pt is the epoch of highest frame AUC on the validation split. When that split has
no samples or only one class (AUC undefined), the run says so at its start and in every log.jsonl entry
("best_by"), and best.pt then follows the last epoch: never a checkpoint silently stale at epoch 1.
Every checkpoint records the preprocessing of the shards it was trained on (index.json: crop size,
alpha, mask parameters, schema version, freq_std), which evaluation compares with the shards it is given.
A run trains and validates on cfg.datasets (training_datasets: by default the train split's datasets
that have a val split, so FF++ alone in a WORK that also holds Celeb-DF's or DFDC's training videos).
The LRL network leaves out of training the samples whose mask is unknown (mask_known 0), saying how many:
its similarity and segmentation targets come from the mask; MC-LCR, which has neither, trains on them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from model import build_model, compute_loss, detector_class
from model.detector import SIMILARITY
from model.training import checkpoint, distributed, guard, tensorboard
from model.training.collapse import collapse_warning, dissimilarity_stats, dissimilarity_sums
from model.training.config import TrainConfig, save
from model.training.data import BalancedSampler, LRLSamples
from model.training.evaluate import predict, report
from model.training.runlock import run_folder
from pipeline.errors import LrlError
from pipeline.store.atomic import write_bytes
from pipeline.store.index import preprocessing
from pipeline.store.reader import SampleFilter, ShardDataset, ShardSet

LOSS_PARTS = ("ce", "sim", "seg", "con")  # loss components, as the two networks' log_dict() name them


def make_optimizer(net, cfg: TrainConfig) -> torch.optim.Adam:
    """Adam (section 4.1); the classifier in its own group at lr x classifier_lr_scale (group 0: the rest)."""
    o = cfg.optim
    head = {id(p) for p in net.classifier.parameters()}
    rest = [p for p in net.parameters() if id(p) not in head]
    groups = [
        {"params": rest},
        {"params": list(net.classifier.parameters()), "lr": o.lr * o.classifier_lr_scale},
    ]
    return torch.optim.Adam(groups, lr=o.lr, betas=(o.beta1, o.beta2), weight_decay=o.weight_decay)


def make_loader(samples: LRLSamples, cfg: TrainConfig, dist, device) -> DataLoader:
    """Balanced batches when asked or when the detector needs them (model.detector), else shuffled."""
    if cfg.data.balanced or detector_class(cfg.model).balanced_batches:
        sampler = BalancedSampler(samples.shards.labels, dist.world, dist.rank, cfg.run.seed)
    else:
        sampler = DistributedSampler(samples, dist.world, dist.rank, shuffle=True, seed=cfg.run.seed)
    return DataLoader(
        samples,
        batch_size=cfg.data.batch_size,
        sampler=sampler,
        num_workers=cfg.data.workers,
        pin_memory=device.type == "cuda",
        drop_last=len(sampler) > cfg.data.batch_size,
    )


def to_device(batch: dict, device, channels_last: bool) -> dict:
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return {
        k: v.to(device, non_blocking=True, memory_format=fmt)
        if v.dim() == 4
        else v.to(device, non_blocking=True)
        for k, v in batch.items()
    }


def train_one_epoch(net, loader, optimizer, cfg, device, dist, epoch: int) -> dict:
    """One pass over the training loader; returns the mean loss ("loss"), its components, samples/s and, for
    MPSM variants, the mean off-diagonal 1 - s_hat of reals and of fakes (model/training/collapse.py)."""
    net.train()
    similarity = SIMILARITY in getattr(net, "module", net).shows  # DDP wraps the detector
    sums, keys = None, []
    dissim = torch.zeros(4, dtype=torch.float64)
    bf16 = cfg.run.bf16 and device.type == "cuda"
    channels_last = cfg.run.channels_last and device.type == "cuda"
    start = time.perf_counter()
    bar = tqdm(
        loader,
        desc=f"epoch {epoch + 1}/{cfg.run.epochs}",
        leave=False,
        disable=not (dist.main and cfg.run.show_progress),
    )
    for i, batch in enumerate(bar):
        if cfg.run.max_batches and i >= cfg.run.max_batches:
            break
        batch = to_device(batch, device, channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = net(batch["rgb"], batch["freq"])
        terms = compute_loss(out, batch, cfg.model)
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        optimizer.step()
        guard.check_step(
            terms.log_dict(), net, epoch + 1, i + 1, optimizer.param_groups[0]["lr"]
        )  # before saving
        n = len(batch["label"])
        parts = terms.log_dict()
        keys = ["loss" if k == "total" else k for k in parts]
        step = torch.tensor([v * n for v in parts.values()] + [n], dtype=torch.float64)
        sums = step if sums is None else sums + step
        dissim += dissimilarity_sums(out.s_hat if similarity else None, batch["label"])
        bar.set_postfix(loss=f"{float(terms.total.detach()):.4f}")
    if sums is None:
        raise LrlError("no training batch in this epoch (fewer samples than one batch per process?)")
    if dist.enabled:
        sums, dissim = distributed.sum_over_ranks(torch.cat([sums, dissim]), device).split([len(sums), 4])
    seconds = time.perf_counter() - start
    count = max(sums[-1].item(), 1.0)
    stats = {k: sums[j].item() / count for j, k in enumerate(keys)}
    stats["samples_per_s"] = sums[-1].item() / seconds
    return stats | dissimilarity_stats(dissim)


def epoch_line(h: dict) -> str:
    val = f"val ACC {h['val_acc']:.4f} AUC {h['val_auc']:.4f}" if "val_auc" in h else "val n/a"
    val += " (best.pt: this epoch)" if h.get("best_by", "val AUC") != "val AUC" else ""
    parts = " ".join(f"{k} {h[k]:.4f}" for k in LOSS_PARTS if k in h)
    guard = (
        f" 1-s_hat real {h['dissim_real']:.4f} fake {h['dissim_fake']:.4f}"
        if "dissim_real" in h and "dissim_fake" in h
        else ""
    )
    return (
        f"epoch {h['epoch']:>3} loss {h['loss']:.4f} ({parts}) "
        f"lr {h['lr']:.2e} {h['samples_per_s']:.1f} samples/s{guard} {val}"
    )


def training_datasets(
    cfg: TrainConfig, opened: ShardSet | None = None, keep: SampleFilter | None = None
) -> tuple[tuple[str, ...], str | None]:
    """The datasets a run trains and validates on, and a line naming those of the train split it leaves out
    (None when none). Default: the train split's datasets that also have samples in the val split (model
    selection needs them), or every dataset of the train split when none has. LrlError when --datasets
    names one the train split does not hold. `opened`: cfg's shard set, already open; `keep`: the run's
    sample filter."""
    d = cfg.data
    opened = opened or ShardSet(d.shards)

    def present(split: str) -> set[str]:
        found = ShardDataset(opened, split, fields=(), qualities=d.quality_list, keep=keep)
        return set(found.meta["dataset"].tolist())

    train = present(d.train_split)
    if d.datasets:
        missing = sorted(set(d.datasets) - train)
        if missing:
            raise LrlError(
                f"{d.shards}: no {', '.join(missing)} samples in split {d.train_split!r} "
                f"(it holds {', '.join(sorted(train)) or 'none'})"
            )
        return d.datasets, None
    chosen = tuple(sorted(train & present(d.val_split))) or tuple(sorted(train))
    left = sorted(train - set(chosen))
    if not left:
        return chosen, None
    return chosen, (
        f"datasets: training and validating on {', '.join(chosen)} (split {d.train_split!r} datasets "
        f"with a {d.val_split!r} split); {', '.join(left)} left out: --datasets "
        f"{','.join(sorted(train))} trains on them too"
    )


def training_methods(cfg: TrainConfig, opened: ShardSet, keep: SampleFilter | None = None):
    """The shard methods a run reads: None (all) without --methods, else those fake methods and every real
    method of the train split (reals are always kept). LrlError when a named method has no fake there."""
    d = cfg.data
    if not d.methods:
        return None
    meta = ShardDataset(
        opened, d.train_split, fields=(), qualities=d.quality_list, datasets=d.datasets, keep=keep
    ).meta
    labels, methods = meta["label"], meta["method"].astype(str)
    fakes, reals = set(methods[labels == 1].tolist()), set(methods[labels == 0].tolist())
    missing = sorted(set(d.methods) - fakes)
    if missing:
        raise LrlError(
            f"{d.shards}: no {', '.join(missing)} fakes in split {d.train_split!r} "
            f"(it holds {', '.join(sorted(fakes)) or 'none'})"
        )
    return tuple(d.methods) + tuple(sorted(reals))


def validate(net, cfg: TrainConfig, device, val: LRLSamples, epoch: int = 0) -> dict:
    """Frame ACC and AUC of `net` on the validation samples ({} when there are none); Diverged when a score
    of epoch `epoch` is not finite (guard)."""
    if len(val) == 0:
        return {}
    scored = predict(
        net, val, device, cfg.data.batch_size, cfg.data.workers, cfg.run.bf16 and device.type == "cuda"
    )
    guard.check_scores(scored.probs, epoch, cfg.optim.lr)
    rep = report(scored)
    frame = rep["frame"]["overall"]
    return {"val_acc": frame["acc"], "val_auc": frame["auc"] if frame["auc"] is not None else float("nan")}


def unusable_validation(cfg: TrainConfig, val: ShardDataset) -> str | None:
    """Why the validation split cannot choose best.pt (no samples, or one class: AUC undefined), or None."""
    labels = val.labels
    if len(labels) == 0:
        return f"val split {cfg.data.val_split!r} has no samples"
    if len(set(labels.tolist())) < 2:
        return (
            f"val split {cfg.data.val_split!r} holds only {'fake' if labels[0] else 'real'} samples "
            "(AUC undefined)"
        )
    return None


def train(
    cfg: TrainConfig,
    resume: bool = False,
    echo=print,
    overwrite: bool = False,
    shards: ShardSet | None = None,
    keep: SampleFilter | None = None,
) -> list[dict]:
    """Train for cfg.run.epochs (continuing from RUN/last.pt with resume); returns the epoch history.

    `shards`: cfg.data.shards already open (ShardSet; opened here when None), read for every split and the
    index; `keep`: only the train and val samples it admits (model.training.sweep's folds), recorded in the
    checkpoints' metrics. RUN is locked for the run; a RUN holding a run is refused unless resume or
    overwrite (runlock)."""
    dist = distributed.init(cfg.run.device)
    with run_folder(Path(cfg.run.out), resume, overwrite, dist.main):
        return _train(cfg, resume, echo, dist, shards or ShardSet(cfg.data.shards), keep)


def _train(cfg: TrainConfig, resume: bool, echo, dist, opened: ShardSet, keep) -> list[dict]:
    device = distributed.pick_device(cfg.run.device, dist)
    torch.manual_seed(cfg.run.seed)
    run = Path(cfg.run.out)
    chosen, note = training_datasets(cfg, opened, keep)
    cfg = cfg.replace(datasets=chosen)  # saved resolved in config.json and the checkpoints
    d = cfg.data
    methods = training_methods(cfg, opened, keep)

    def split(name: str, **only) -> ShardDataset:
        """One split of the run's samples: its datasets, methods, qualities and filter."""
        chosen = {"interpolated": d.include_interpolated, "qualities": d.quality_list, "datasets": d.datasets}
        return ShardDataset(opened, name, methods=methods, keep=keep, **chosen, **only)

    shards = split(d.train_split, unknown_masks=not detector_class(cfg.model).needs_known_masks)
    if dist.main and note:
        echo(note)
    if dist.main and shards.unknown_masks_left_out:
        echo(
            f"training: {shards.unknown_masks_left_out} samples whose mask is unknown (mask_known 0) "
            "left out: "
            "LRL's similarity and segmentation targets come from the mask (--model mclcr trains on them)"
        )
    samples = LRLSamples(shards, hflip=d.hflip, seed=cfg.run.seed, augment=d.augment)
    if len(samples) == 0:
        raise LrlError(f"{d.shards}: no samples in split {d.train_split!r}")
    loader = make_loader(samples, cfg, dist, device)
    val = LRLSamples(split(d.val_split), freq_std=samples.freq_std)
    why = unusable_validation(cfg, val.shards)
    best_by = f"last epoch: {why}" if why else "val AUC"
    if why and dist.main:
        echo(f"model selection: {why}: best.pt follows the last epoch")
    made_with = preprocessing(opened.index)
    recorded = {"freq_std": samples.freq_std, "shards": made_with.to_dict()}
    recorded |= {"sample_filter": keep.to_dict()} if keep else {}
    net = build_model(cfg.model).to(device)
    if cfg.run.channels_last and device.type == "cuda":
        net = net.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(net, cfg)
    scheduler = torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=cfg.optim.lr_step, gamma=cfg.optim.lr_gamma
    )
    history, start_epoch = _start(run, cfg, resume, net, optimizer, scheduler, dist)
    ids = [device.index] if device.type == "cuda" else None
    model = torch.nn.parallel.DistributedDataParallel(net, device_ids=ids) if dist.enabled else net
    writer = tensorboard.open_writer(cfg.run.tensorboard, run) if dist.main else None
    for epoch in range(start_epoch, cfg.run.epochs):
        loader.sampler.set_epoch(epoch)
        samples.set_epoch(epoch)
        stats = train_one_epoch(model, loader, optimizer, cfg, device, dist, epoch)
        stats.update(epoch=epoch + 1, lr=optimizer.param_groups[0]["lr"], best_by=best_by)
        scheduler.step()  # once per epoch, after its optimizer steps: halves every lr_step epochs
        if dist.main:
            stats.update(validate(net, cfg, device, val, epoch + 1))
            history.append(stats)
            _save_epoch(
                run,
                cfg,
                net,
                optimizer,
                scheduler,
                history,
                recorded,
            )
            echo(epoch_line(stats))
            warning = collapse_warning(stats)
            if warning:
                echo(warning)
            if writer is not None:
                _log_tensorboard(writer, net, device, val, stats)
        distributed.barrier(dist)
    if writer is not None:
        writer.close()
    if dist.main and history:
        from model.training.plots import curves_png

        curves_png(run / "curves.png", history)
    distributed.shutdown(dist)
    return history


def _log_tensorboard(writer, net, device, val: LRLSamples, stats: dict) -> None:
    tensorboard.log_scalars(writer, stats, ("loss", *(k for k in LOSS_PARTS if k in stats)))
    tensorboard.log_samples(writer, net, val, device, stats["epoch"])
    writer.flush()


def _start(run: Path, cfg, resume: bool, net, optimizer, scheduler, dist) -> tuple[list[dict], int]:
    if not resume:
        if dist.main:
            run.mkdir(parents=True, exist_ok=True)
            save(cfg, run)
        return [], 0
    state = checkpoint.load(run / "last.pt")
    net.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    checkpoint.restore_rng(state)
    return list(state["metrics"].get("history", [])), int(state["epoch"])


def _save_epoch(run: Path, cfg, net, optimizer, scheduler, history: list[dict], extra: dict) -> None:
    """log.jsonl, last.pt, and best.pt when this epoch is the best (or the last, when h["best_by"] says so).

    `extra`: freq_std and the shards' preprocessing, recorded in the checkpoints' metrics."""
    h = history[-1]
    write_bytes(run / "log.jsonl", "".join(json.dumps(x) + "\n" for x in history).encode())
    best = max((x.get("val_auc", float("-inf")) for x in history[:-1]), default=float("-inf"))
    metrics = {"history": history, **extra}
    checkpoint.save(run / "last.pt", net, optimizer, scheduler, h["epoch"], cfg.to_dict(), metrics)
    follows_last = h.get("best_by", "val AUC") != "val AUC"
    if follows_last or h.get("val_auc", float("-inf")) > best or len(history) == 1:
        checkpoint.save(run / "best.pt", net, optimizer, scheduler, h["epoch"], cfg.to_dict(), metrics)
