"""Fixtures of the adversarial suite: one small executor per test module."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from adversary import Sandbox, open_sandbox
from executor import PassMatrix


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with open_sandbox() as box:
        yield box


@pytest.fixture
def attack(sandbox: Sandbox) -> Callable[..., PassMatrix]:
    return sandbox.attack
