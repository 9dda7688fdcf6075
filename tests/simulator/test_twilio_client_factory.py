"""The Twilio client factory: host rewriting, timeouts, sync and async clients."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from tests.support.worlds.simulator import ACCOUNT_SID, AUTH_TOKEN, RECIPIENT, SENDER
from tikabot.handlers.twilio_client import (
    DEFAULT_API_BASE,
    api_base_from_env,
    close_async_client,
    make_async_client,
    make_client,
    rewrite_url,
)

LOCAL = "http://127.0.0.1:8099"


def test_rewrites_twilio_hosts_only():
    path = "/2010-04-01/Accounts/AC1/Messages.json"
    assert rewrite_url("https://api.twilio.com" + path, LOCAL) == LOCAL + path
    assert rewrite_url("https://api.dublin.ie1.twilio.com" + path, LOCAL) == LOCAL + path
    assert rewrite_url("https://example.com/https://api.twilio.com", LOCAL).startswith("https://example")
    assert rewrite_url("https://eviltwilio.com/x", LOCAL) == "https://eviltwilio.com/x"
    assert rewrite_url("https://api.twilio.com" + path, DEFAULT_API_BASE).startswith(DEFAULT_API_BASE)


def test_api_base_comes_from_the_environment():
    assert api_base_from_env({}) == DEFAULT_API_BASE
    assert api_base_from_env({"TWILIO_API_BASE": LOCAL + "/"}) == LOCAL


def test_clients_have_a_timeout():
    client = make_client(ACCOUNT_SID, AUTH_TOKEN, LOCAL)
    assert client.http_client.timeout == 10.0
    client.http_client.close()
    assert make_async_client(ACCOUNT_SID, AUTH_TOKEN, LOCAL, timeout=2.5).http_client.timeout == 2.5


def test_sync_client_creates_fetches_and_lists(twilio, sim):
    created = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Your dose is on Monday")
    assert created.sid.startswith("SM") and len(created.sid) == 34
    assert created.status == "queued"
    assert created.account_sid == ACCOUNT_SID
    assert created.num_segments == "1"
    assert created.date_created.tzinfo is not None

    fetched = twilio.messages(created.sid).fetch()
    assert fetched.body == "Your dose is on Monday"
    assert fetched.to == RECIPIENT

    twilio.messages.create(to="+8801811111111", from_=SENDER, body="other")
    listed = twilio.messages.list(to=RECIPIENT)
    assert [m.sid for m in listed] == [created.sid]
    assert len(twilio.messages.list(page_size=1)) == 2  # follows next_page_uri


def test_list_filters_by_date_sent(twilio, sim):
    twilio.messages.create(to=RECIPIENT, from_=SENDER, body="hello")
    now = datetime.now(timezone.utc)
    assert len(twilio.messages.list(date_sent_after=now - timedelta(minutes=1))) == 1
    assert twilio.messages.list(date_sent_after=now + timedelta(minutes=1)) == []
    assert twilio.messages.list(date_sent_before=now - timedelta(minutes=1)) == []
    assert len(twilio.messages.list(date_sent=now.date())) == 1


def test_async_client_sends_many_in_flight(sim):
    async def send_all():
        client = make_async_client(ACCOUNT_SID, AUTH_TOKEN, sim.url)
        try:
            sent = await asyncio.gather(*[
                client.messages.create_async(to=RECIPIENT, from_=SENDER, body=f"n{i}")
                for i in range(40)
            ])
            fetched = await client.messages(sent[0].sid).fetch_async()
            listed = await client.messages.list_async(to=RECIPIENT, page_size=15)
            return sent, fetched, listed
        finally:
            await close_async_client(client)

    sent, fetched, listed = asyncio.run(send_all())
    assert len({m.sid for m in sent}) == 40
    assert fetched.sid == sent[0].sid
    assert len(listed) == 40
    assert len(sim.sim.messages()) == 40


def test_calls_are_recorded_with_their_twiml(twilio, sim):
    twiml = "<Response><Say>Your vaccination is tomorrow</Say></Response>"
    call = twilio.calls.create(to=RECIPIENT, from_=SENDER, twiml=twiml)
    assert call.sid.startswith("CA")
    assert twilio.calls(call.sid).fetch().status == "queued"
    assert sim.sim.calls()[0]["twiml"] == twiml
