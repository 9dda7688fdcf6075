"""Route health in Redis: down on an account error or too many errors, a cool-off, one trial,
back on success; one outage from the first failure to the recovery; forced down and up."""
from __future__ import annotations


import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support import wait_for
from tikabot.handlers.twilio_sms import TWILIO_ERRORS
from tikabot.queue.routes.health import DOWN, FORCED, HALF_OPEN, UP, HealthSettings, RouteHealth
from tikabot.core.sending import NETWORK_ERROR, SERVER_ERROR, TIMEOUT, SendError
from tikabot.handlers.kannel import KANNEL_ERRORS

SETTINGS = HealthSettings(window_s=30, error_rate=0.5, min_errors=3, cooldown_s=0.2, trial_lease_s=5)


START = 1_800_000_000.0  # a window's first second (a multiple of SETTINGS.window_s)


class Clock:
    """Epoch seconds that move only when the test moves them."""

    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def health(redis_url, clock):
    client = redis_lib.Redis.from_url(redis_url)
    yield RouteHealth(client, SETTINGS, clock=clock)
    client.close()


def test_an_account_error_takes_a_route_down_at_once_and_begins_one_outage(health):
    outage = health.record_error("exotel", SendError(TWILIO_ERRORS[30002], 30002))
    assert outage is not None and outage.reason == "account_suspended" and health.state("exotel") == DOWN
    assert health.record_error("exotel", SendError(TWILIO_ERRORS[30002], 30002)) is None  # same outage
    assert not health.usable("exotel")


def test_errors_over_the_share_take_it_down_message_errors_do_not(health):
    for _ in range(10):
        health.record_ok("twilio")
    for _ in range(6):  # invalid numbers say nothing about the route
        assert health.record_error("twilio", SendError(TWILIO_ERRORS[21211], 21211)) is None
    assert health.state("twilio") == UP
    began = [health.record_error("twilio", SendError(SERVER_ERROR, 500)) for _ in range(9)]
    assert health.state("twilio") == UP  # 9 errors in 25 sends: under half
    began += [health.record_error("twilio", SendError(TIMEOUT, "timeout")) for _ in range(7)]
    assert health.state("twilio") == DOWN and len([b for b in began if b]) == 1
    assert health.window("twilio") == (32, 16)  # half of the sends failed


def test_a_busy_route_that_stops_answering_goes_down_however_much_it_carried_before(health):
    """The hundreds it carried just before do not outweigh its failures: the share is counted over
    its latest sends (50 by default), so it goes down while its messages still have attempts left."""
    for _ in range(300):
        health.record_ok("kannel")
    began = [health.record_error("kannel", SendError(NETWORK_ERROR, "network")) for _ in range(25)]
    assert health.state("kannel") == DOWN and len([b for b in began if b]) == 1
    assert health.latest("kannel") == (50, 25) and health.window("kannel") == (325, 25)


def test_a_refused_connection_takes_a_route_down_at_once(health):
    for _ in range(10):
        health.record_ok("kannel")
    outage = health.record_error("kannel", SendError(KANNEL_ERRORS["unreachable"], "refused"))
    assert outage is not None and outage.reason == "kannel_unreachable" and health.state("kannel") == DOWN


def test_errors_are_counted_over_this_window_and_the_one_before_not_older(health, clock):
    for _ in range(2):
        health.record_error("twilio", SendError(SERVER_ERROR, 500))
    clock.now += SETTINGS.window_s  # the next window: the two still count
    assert health.window("twilio") == (2, 2)
    clock.now += SETTINGS.window_s  # two windows on: they are forgotten
    assert health.window("twilio") == (0, 0)
    for _ in range(2):
        health.record_error("twilio", SendError(SERVER_ERROR, 500))
    assert health.state("twilio") == UP  # 2 errors in the window, under the 3 that take it down
    health.record_error("twilio", SendError(SERVER_ERROR, 500))
    assert health.state("twilio") == DOWN


def test_after_the_cool_off_one_trial_at_a_time_and_success_ends_the_outage(health):
    health.record_error("exotel", SendError(TWILIO_ERRORS[20003], 20003))
    assert wait_for(lambda: health.state("exotel") == HALF_OPEN)
    assert health.usable("exotel") is True       # this caller takes the trial
    assert health.usable("exotel") is False      # nobody else meanwhile
    assert health.usable("exotel", trial=False) is False
    ended = health.record_ok("exotel")
    assert ended is not None and ended.reason == "authentication_failed"
    assert health.state("exotel") == UP and health.outage("exotel") is None


def test_a_failed_trial_takes_it_down_again_without_a_new_outage(health):
    first = health.record_error("exotel", SendError(TWILIO_ERRORS[20003], 20003))
    assert wait_for(lambda: health.state("exotel") == HALF_OPEN) and health.usable("exotel")
    assert health.record_error("exotel", SendError(SERVER_ERROR, 500)) is None
    assert health.state("exotel") == DOWN and health.outage("exotel") == first


def test_forced_down_takes_no_trial_until_forced_up(health):
    outage = health.force_down("android", reason="rehearsal")
    assert outage.forced and health.state("android") == FORCED and not health.usable("android")
    health.force_up("android")
    assert health.state("android") == UP and health.outage("android") is None


def test_forced_down_for_a_stretch_then_recovering(health):
    health.force_down("android", seconds=0.2)
    assert health.state("android") == FORCED
    assert wait_for(lambda: health.state("android") == HALF_OPEN)


def test_without_redis_every_route_counts_as_up():
    gone = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    broken = RouteHealth(gone, SETTINGS)
    assert broken.state("twilio") == UP and broken.usable("twilio")
    assert broken.record_error("twilio", SendError(TWILIO_ERRORS[20003], 20003)) is None
