"""Fixtures for reminder tests."""
from __future__ import annotations

import pytest
from reminder_world import World


@pytest.fixture
def world(services):
    return World(services)
