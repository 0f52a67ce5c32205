"""Shared fixtures: `demo_root`, the tiny demo tree, built once per test session."""

import pytest


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """ROOT of a tiny demo tree (pipeline.demo, seed 0). Read it; never write into it."""
    from pipeline.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("demo"), seed=0, size="tiny").root
