"""Faults the Twilio client sees: 429, 500, timeouts, magic numbers, bad credentials."""

from __future__ import annotations

import asyncio

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.support.worlds.simulator import ACCOUNT_SID, RECIPIENT, SENDER
from tikabot.handlers.twilio_client import close_async_client, make_async_client, make_client


def send(client, to=RECIPIENT):
    return client.messages.create(to=to, from_=SENDER, body="Reminder")


def test_429_is_not_created(twilio, sim):
    sim.sim.configure(next_faults=["429"])
    with pytest.raises(TwilioRestException) as caught:
        send(twilio)
    assert (caught.value.status, caught.value.code) == (429, 20429)
    assert sim.sim.messages() == []


@pytest.mark.parametrize("fault, created", [("500", 0), ("500-created", 1)])
def test_500_may_or_may_not_have_created_the_message(twilio, sim, fault, created):
    sim.sim.configure(next_faults=[fault])
    with pytest.raises(TwilioRestException) as caught:
        send(twilio)
    assert caught.value.status == 500
    assert len(sim.sim.messages()) == created


@pytest.mark.parametrize("fault, created", [("timeout", 0), ("timeout-created", 1)])
def test_timeout_raises_the_requests_timeout(sim, fault, created):
    sim.sim.configure(next_faults=[fault], timeout_sleep_s=0.6)
    client = make_client(ACCOUNT_SID, sim.sim.config.auth_token, sim.url, timeout=0.2)
    with pytest.raises(requests.exceptions.Timeout):
        send(client)
    client.http_client.close()
    assert len(sim.sim.messages()) == created


def test_async_timeout_raises_timeout_error(sim):
    sim.sim.configure(next_faults=["timeout"], timeout_sleep_s=0.6)

    async def attempt():
        client = make_async_client(ACCOUNT_SID, sim.sim.config.auth_token, sim.url, timeout=0.2)
        try:
            await client.messages.create_async(to=RECIPIENT, from_=SENDER, body="x")
        finally:
            await close_async_client(client)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(attempt())


def test_async_429_raises_rest_exception(sim):
    sim.sim.configure(next_faults=["429"])

    async def attempt():
        client = make_async_client(ACCOUNT_SID, sim.sim.config.auth_token, sim.url)
        try:
            await client.messages.create_async(to=RECIPIENT, from_=SENDER, body="x")
        finally:
            await close_async_client(client)

    with pytest.raises(TwilioRestException) as caught:
        asyncio.run(attempt())
    assert caught.value.code == 20429


@pytest.mark.parametrize("to, code", [("+15005550001", 21211), ("+15005550004", 21610),
                                      ("+15005550009", 21614), ("12", 21211)])
def test_magic_numbers_are_refused(twilio, to, code):
    with pytest.raises(TwilioRestException) as caught:
        send(twilio, to=to)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_forced_recipient_error(twilio, sim):
    sim.sim.configure(recipient_errors={RECIPIENT: 21408})
    with pytest.raises(TwilioRestException) as caught:
        send(twilio)
    assert caught.value.code == 21408


def test_missing_body_and_too_long_body(twilio):
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(to=RECIPIENT, from_=SENDER)
    assert caught.value.code == 21602
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="x" * 1601)
    assert caught.value.code == 21617


def test_wrong_credentials_get_20003(sim):
    client = make_client(ACCOUNT_SID, "wrong-token", sim.url)
    with pytest.raises(TwilioRestException) as caught:
        send(client)
    client.http_client.close()
    assert (caught.value.status, caught.value.code) == (401, 20003)


def test_fail_rate_is_reproducible_with_a_seed(twilio, sim):
    sim.sim.configure(fail_rate=0.5, seed=3, timeout_sleep_s=0.0)
    outcomes = []
    for _ in range(30):
        try:
            outcomes.append(send(twilio).sid[:2])
        except TwilioRestException as exc:
            outcomes.append(exc.code)
    sim.sim.configure(seed=3)
    again = []
    for _ in range(30):
        try:
            again.append(send(twilio).sid[:2])
        except TwilioRestException as exc:
            again.append(exc.code)
    assert outcomes == again
    assert {20429, "SM"} <= set(outcomes)
