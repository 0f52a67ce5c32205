"""Shared fixtures: `demo_root`, the tiny demo tree, built once per test session."""

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
