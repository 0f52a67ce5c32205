"""Shared fixtures: `demo_root`, the tiny demo tree, built once per test session."""

import pytest

DEMO_SEED = 0


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """ROOT of a tiny demo tree (pipeline.demo, seed DEMO_SEED). Read it; never write into it."""
    from pipeline.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("demo"), seed=DEMO_SEED, size="tiny").root
