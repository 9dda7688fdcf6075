"""Fixtures for reminder tests."""
from __future__ import annotations

import pytest

from tests.support.worlds.reminders import World


@pytest.fixture
def world(services):
    return World(services)
