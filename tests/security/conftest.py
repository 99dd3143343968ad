"""Fixtures of the adversarial suite: one small executor per test module."""
from __future__ import annotations

import os
from typing import Callable

import pytest

from adversary import ASSERT_TEST, CONFIG, HONEST, Sandbox, descendants_by_depth
from executor import Executor, PassMatrix


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    with Executor(CONFIG) as ex:
        warm = ex.run([HONEST], [ASSERT_TEST], entry_point="add")
        assert warm.passed.all(), warm.details
        depths = descendants_by_depth(os.getpid())
        yield Sandbox(ex, max(depths.values(), default=1))


@pytest.fixture
def attack(sandbox: Sandbox) -> Callable[..., PassMatrix]:
    return sandbox.attack
