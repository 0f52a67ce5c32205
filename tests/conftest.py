"""Shared fixtures (the test kit's, with tests/kit.py): `demo_root`, the tiny demo tree, and `tiny_run`, a
checkpoint trained on its shards, both built once per test session; `shards`, work_fixture's shard set, once
per module; `one_torch_thread`."""

import pytest


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """ROOT of a tiny demo tree (pipeline.demo.tree, seed 0). Read it; never write into it."""
    from pipeline.demo.tree import make_demo

    return make_demo(tmp_path_factory.mktemp("demo"), seed=0, size="tiny").root


@pytest.fixture
def one_torch_thread():
    """One intra-op thread: on shared cores 2 OpenMP threads spin-wait for each other (measured 8x slower)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_run(demo_root, tmp_path_factory):
    """(ROOT, WORK, checkpoint) through the real stages: raw reals and Deepfakes of the tiny demo, 4
    frames at 80 px, extract + masks + shards, then 2 training steps of the full model (seconds, not a
    good model)."""
    import torch

    from model.training.loop import train
    from pipeline.params import CropParams, ExtractParams, Scope, Selection
    from tests.kit import run_extract, run_masks, run_shards, tiny_config

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see one_torch_thread
    work = tmp_path_factory.mktemp("tiny-work")
    scope = Scope(methods=("youtube", "Deepfakes"), qualities=("raw",))
    params = ExtractParams(frames=4, crop=CropParams(size=80))
    assert run_extract(demo_root, work, params, scope).failed == 0
    assert run_masks(demo_root, work, selection=Selection(scope.methods, scope.qualities)).failed == 0
    assert run_shards(work).failed == 0
    out = tmp_path_factory.mktemp("tiny-run")
    cfg = tiny_config(work / "shards", out, variant="full", max_batches=2)
    train(cfg, echo=lambda s: None)
    torch.set_num_threads(threads)
    return demo_root, work, out / "best.pt"


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """WORK/shards of work_fixture's tree at 80 px (test split: real 006 and Deepfakes 006_007, 3 frames
    each), built once per test module."""
    from tests.kit import run_shards
    from tests.work_fixture import make_work

    work = tmp_path_factory.mktemp("work")
    make_work(work, size=80)
    assert run_shards(work, jobs=None).failed == 0
    return work / "shards"
