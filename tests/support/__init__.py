"""What the tests share: waiting on conditions, signed provider requests, the live app, the worlds.

Import from here (`from tests.support import wait_for`) or a module (`from tests.support.worlds
import small_district`); nothing is found by bare name on sys.path."""

from tests.support.waiting import wait_for

__all__ = ["wait_for"]
