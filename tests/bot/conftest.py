"""Fixtures: the provider simulator's Bot API, a small district, and the bot running against them."""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import wait_for
from tests.support.simulator import simulator_fixture
from tests.support.worlds.bot import COORDINATOR_ID, TOKEN, message_update
from tests.support.worlds.small_district import hashed
from tikabot.core import clock
from tikabot.bot.app import build_application
from tikabot.bot.deps import BotDeps
from tikabot.services import Services
from tikabot.simulator.config import FaultConfig
from tikabot.simulator.server import SimulatorThread
from tikabot.store.models import (
    Appointment, Beneficiary, Dose, OutboundMessage, Site, Staff, VaccinationSession,
)

REPLY_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")


simulator = simulator_fixture(lambda: FaultConfig(seed=3, telegram_token=TOKEN))


@pytest.fixture
def sim(simulator):
    simulator.sim.reset(config=True)
    return simulator


@pytest.fixture
def bot_services(config, sim):
    built = Services.build(replace(config, telegram_bot_token=TOKEN, telegram_api_base=sim.url))
    yield built
    built.close()


@pytest.fixture
def district(bot_services, bot_clock):
    """Two sites of one district (Nadia); KAL01 has an open session with two doses and staff; a district
    coordinator on Telegram (no scope named: the only district). The bot's clock reads noon today (local), so no test depends on the hour it runs at."""
    now = bot_clock.moment
    today = clock.local_date(now, bot_services.config.tz)
    with bot_services.transaction() as s:
        kal = Site(code="KAL01", name="Kalyani PHC", district="Nadia", state="WB")
        bar = Site(code="BAR02", name="Barasat SDH", district="Nadia", state="WB")
        s.add_all([kal, bar])
        s.flush()
        s.add_all([
            Staff(phone="+919830000001", name="Asha Coordinator", role="coordinator", telegram_user_id=COORDINATOR_ID),
            Staff(phone="+919830000002", name="Rina Vaccinator", role="vaccinator", site_id=kal.id, language="bn"),
            Staff(phone="+919830000003", name="Mita Verifier", role="verifier", site_id=kal.id, language="en"),
            Staff(phone="+919830000004", name="Bimal Vaccinator", role="vaccinator", site_id=bar.id, language="hi"),
            Staff(phone="+919830000005", name="Old Coordinator", role="coordinator", telegram_user_id=555,
                  active=False),
        ])
        s.add(VaccinationSession(site_id=kal.id, date=today, vaccine="COVISHIELD", lot="4120Z025",
                                 opened_by="+919830000002", opened_at=now - timedelta(hours=2)))
        people = [Beneficiary(ref=f"10000000000{i}", name=f"Person {i}", phone=f"+91983001000{i}",
                              site_id=kal.id) for i in range(4)]
        s.add_all(people)
        s.flush()
        for i, person in enumerate(people):
            s.add(Appointment(beneficiary_id=person.id, site_id=kal.id, dose_number=1, date=today,
                              slot="09:00-11:00", security_code_hash=hashed(person.id, "1234")))
        s.add(Appointment(beneficiary_id=people[3].id, site_id=bar.id, dose_number=2, date=today,
                          slot="09:00-11:00", security_code_hash=hashed(people[3].id, "1234")))
        for person in people[:2]:
            s.add(Dose(beneficiary_id=person.id, dose_number=1, vaccine="COVISHIELD", lot="4120Z025",
                       site_id=kal.id, administered_at=now - timedelta(minutes=30), source="sms"))
        s.add(OutboundMessage(idempotency_key="k-failed", channel="sms", recipient=people[2].phone,
                              template="appt.reminder_morning", body="Your vaccination is today",
                              status="failed", last_error_code="30003", beneficiary_id=people[2].id))
    return {"today": today, "now": now}


class BotRunner:
    """The bot's Application, long-polling the simulator from a background event loop."""

    def __init__(self, services: Services, sim: SimulatorThread, now=clock.now):
        self.sim = sim
        self.application = build_application(BotDeps(services, now=now), TOKEN, sim.url)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def start(self) -> "BotRunner":
        self.thread.start()
        self._call(self._start())
        return self

    async def _start(self):
        await self.application.initialize()
        await self.application.post_init(self.application)
        await self.application.start()
        await self.application.updater.start_polling(poll_interval=0.0, timeout=1)

    async def _stop(self):
        await self.application.updater.stop()
        await self.application.stop()
        await self.application.shutdown()

    def stop(self) -> None:
        self._call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def replies(self, chat_id: int) -> list[dict]:
        return [c for c in self.sim.sim.telegram_calls() if c["method"] in REPLY_METHODS
                and c["params"].get("chat_id") == chat_id]

    def wait_replies(self, chat_id: int, count: int, timeout: float = 15.0) -> list[dict]:
        if not wait_for(lambda: len(self.replies(chat_id)) >= count, timeout):
            raise AssertionError(f"expected {count} replies to chat {chat_id}, got {self.replies(chat_id)}")
        return self.replies(chat_id)

    def send(self, text: str, user_id: int = COORDINATOR_ID) -> dict:
        """Send a message as a Telegram user; return the bot's reply (the next call to that chat)."""
        before = len(self.replies(user_id))
        self.sim.sim.inject_update(message_update(user_id, text))
        return self.wait_replies(user_id, before + 1)[before]

    def press(self, data: str, message_id: int = 1, user_id: int = COORDINATOR_ID) -> dict:
        """Tap an inline button carrying callback data; return the bot's next call to that chat."""
        before = len(self.replies(user_id))
        user = {"id": user_id, "is_bot": False, "first_name": "Asha"}
        message = {"message_id": message_id, "date": int(time.time()), "text": "...",
                   "chat": {"id": user_id, "type": "private", "first_name": "Asha"}}
        self.sim.sim.inject_update({"callback_query": {"id": f"cb{time.monotonic_ns()}", "from": user,
                                                       "chat_instance": "1", "data": data, "message": message}})
        return self.wait_replies(user_id, before + 1)[before]


class FrozenClock:
    """The bot's clock in a test: it reads `moment`, which a test moves on (never sleeps)."""

    def __init__(self, moment=None):
        self.moment = moment or self.noon_today()

    @staticmethod
    def noon_today():
        from datetime import time as wall

        tz = "Asia/Kolkata"
        return clock.local_at(clock.local_date(clock.now(), tz), wall(12, 0), tz)

    def now(self):
        return self.moment

    def advance(self, **delta):
        self.moment += timedelta(**delta)


@pytest.fixture
def bot_clock():
    return FrozenClock()


@pytest.fixture
def bot(bot_services, sim, district, bot_clock):
    runner = BotRunner(bot_services, sim, now=bot_clock.now).start()
    yield runner
    runner.stop()


@pytest.fixture
def start_bot(bot_services, sim):
    """Start the bot on a clock of the test's choosing: start_bot(now=callable) -> BotRunner."""
    runners = []

    def start(now):
        runner = BotRunner(bot_services, sim, now=now).start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.stop()
