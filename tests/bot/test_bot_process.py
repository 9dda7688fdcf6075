"""`tikabot bot`: refusing to start without what it needs, and webhook mode's secret check."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support import wait_for
from tests.support.signing import telegram_headers
from tests.support.worlds.bot import COORDINATOR_ID, TOKEN, message_update
from tikabot.bot.run import serve_webhook
from tikabot.cli.main import main
from tikabot.stack.processes import free_port



EX_CONFIG = 78  # what deploy/systemd/tikabot-bot.service's RestartPreventExitStatus names


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def test_the_bot_command_without_a_token_says_what_to_set_and_exits_ex_config(monkeypatch, database_url):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["bot"])
    assert result.exit_code == EX_CONFIG
    [line] = error_lines(result)
    assert line.startswith("Error: TELEGRAM_BOT_TOKEN is not set: put the token @BotFather gave")


def test_webhook_mode_needs_a_well_formed_secret(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "has spaces!")
    result = CliRunner().invoke(main, ["bot", "--webhook-url", "https://bot.example.org/tg"])
    assert result.exit_code == EX_CONFIG and "TELEGRAM_WEBHOOK_SECRET" in result.output


@pytest.mark.parametrize("token, answer", [("424242:revoked-or-mistyped", "Unauthorized"),
                                           ("not-a-token", "Not Found")], ids=["401", "404"])
@pytest.mark.parametrize("mode", [[], ["--webhook-url", "https://bot.example.org/tg", "--port", "0"]],
                         ids=["polling", "webhook"])
def test_a_token_telegram_refuses_is_one_line_and_ex_config(monkeypatch, sim, database_url, redis_url, token,
                                                             answer, mode):
    """Telegram answers getMe 401 for a token it does not know, 404 for one not shaped like a token:
    restarting cannot mend either, so the unit must stay stopped, not retry every 5 s."""
    for name, value in {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "TELEGRAM_BOT_TOKEN": token,
                        "TELEGRAM_API_BASE": sim.url, "TELEGRAM_WEBHOOK_SECRET": "s3cret"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["bot", *mode])
    assert result.exit_code == EX_CONFIG, result.output
    [line] = error_lines(result)
    assert line == (f"Error: Telegram at {sim.url} refuses TELEGRAM_BOT_TOKEN ({answer}): set the token @BotFather "
                    "gave for the coordinator bot (/mybots, API Token), then start the bot again")
    assert [c["method"] for c in sim.sim.telegram_calls()] == ["getMe"]  # asked once, no polling, no webhook set
    assert token not in result.output


def test_a_bad_setting_stops_the_bot_with_ex_config_too(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TIKABOT_MEDICAL_OFFICERS", "+91983000000X")
    result = CliRunner().invoke(main, ["bot"])
    assert result.exit_code == EX_CONFIG
    [line] = error_lines(result)
    assert line.startswith("Error: TIKABOT_MEDICAL_OFFICERS: ")


class WebhookThread:
    def __init__(self, services, url, port):
        self.loop = asyncio.new_event_loop()
        self.stop_event = None
        self.args = (services, url, port)
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self):
        self.stop_event = asyncio.Event()
        await serve_webhook(*self.args, stop=self.stop_event)  # the default address: loopback

    def stop(self):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)
        self.loop.close()


def listening_on(port: int) -> set[str]:
    """The IPv4 addresses a local TCP port listens on, from /proc/net/tcp (state 0A: LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def post(url, body, secret=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=telegram_headers(secret))
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_webhook_mode_takes_updates_only_with_the_secret(sim, bot_services, district):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    server = WebhookThread(bot_services, url, port)
    server.thread.start()
    try:
        wait_for(lambda: sim.sim.telegram_calls("setWebhook"), 15)
        [registered] = sim.sim.telegram_calls("setWebhook")
        assert registered["params"]["url"] == url
        assert registered["params"]["secret_token"] == bot_services.config.telegram_webhook_secret
        update = {"update_id": 900, **message_update(COORDINATOR_ID, "/help")}
        assert post(url, update, secret="wrong") == 403
        assert post(url, update) == 403
        assert post(url, {"update_id": 901}, secret=bot_services.config.telegram_webhook_secret) == 200
        assert listening_on(port) == {"127.0.0.1"}  # not every interface unless --host says so
        for junk in ([1, 2], "update", 7, None, {"update_id": "x"}, {"update_id": 902, "message": [1]}):
            assert post(url, junk, secret=bot_services.config.telegram_webhook_secret) == 400, junk
        sim.sim.inject_update(message_update(COORDINATOR_ID, "/status"))  # pushed by the simulator, with secret
        wait_for(lambda: sim.sim.telegram_calls("sendMessage"), 15)
        replies = sim.sim.telegram_calls("sendMessage")
        assert len(replies) == 1 and "KAL01" in replies[0]["params"]["text"]
    finally:
        server.stop()


def test_an_update_telegram_delivers_again_is_answered_once(sim, bot_services, district):
    """Telegram delivers an update again when our 200 did not reach it in time: the coordinator's
    command is answered once, and the repeat still gets its 200 (or Telegram would keep trying)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    server = WebhookThread(bot_services, url, port)
    server.thread.start()
    secret = bot_services.config.telegram_webhook_secret
    try:
        wait_for(lambda: sim.sim.telegram_calls("setWebhook"), 15)
        status = {"update_id": 910, **message_update(COORDINATOR_ID, "/status")}
        assert [post(url, status, secret=secret) for _ in range(3)] == [200, 200, 200]
        then = {"update_id": 911, **message_update(COORDINATOR_ID, "/help")}
        assert post(url, then, secret=secret) == 200
        assert wait_for(lambda: len(sim.sim.telegram_calls("sendMessage")) >= 2, 15)
        # the /help after it was answered, so the repeats of /status were taken by then: one answer each
        texts = [c["params"]["text"] for c in sim.sim.telegram_calls("sendMessage")]
        assert len(texts) == 2 and sum("KAL01" in t for t in texts) == 1, texts
    finally:
        server.stop()


def test_the_polling_bot_logs_neither_its_token_nor_a_traceback(sim, bot_services, district):
    import os
    import signal
    import subprocess
    import sys

    config = bot_services.config
    env = {**os.environ, "DATABASE_URL": config.database_url, "REDIS_URL": config.redis_url,
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": sim.url, "OTP_SECRET": config.otp_secret}
    bot = subprocess.Popen([sys.executable, "-m", "tikabot", "bot"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: sim.sim.telegram_calls("getUpdates"), 30)
        sim.sim.inject_update(message_update(COORDINATOR_ID, "/status"))
        assert wait_for(lambda: sim.sim.telegram_calls("sendMessage"), 30)
    finally:
        bot.send_signal(signal.SIGTERM)
        output = bot.communicate(timeout=30)[0]
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "Traceback" not in output, output
    assert f"coordinator bot @tikabot_sim_bot: polling {sim.url} for messages" in output


def test_a_telegram_outage_while_polling_is_one_line_then_one_on_recovery_and_the_bot_answers_again(
        sim, bot_services, district, tmp_path):
    """Telegram's front answers 502 with an HTML page for a while (the simulator's telegram_down):
    python-telegram-bot retries every poll, and the log says so once, without a traceback or the
    page, then once when Telegram answers again; a coordinator's command is answered after it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    config = bot_services.config
    env = {**os.environ, "DATABASE_URL": config.database_url, "REDIS_URL": config.redis_url,
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": sim.url, "OTP_SECRET": config.otp_secret}
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        bot = subprocess.Popen([sys.executable, "-m", "tikabot", "bot"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "polling" in log_path.read_text(), 30)
        down_at = time.time()
        sim.sim.configure(telegram_down="502")
        failed_polls = lambda: [c for c in sim.sim.telegram_calls("getUpdates") if c["at"] >= down_at]  # noqa: E731
        assert wait_for(lambda: len(failed_polls()) >= 2, 30), "the bot kept polling through the outage"
        sim.sim.configure(telegram_down=None)
        sim.sim.inject_update(message_update(COORDINATOR_ID, "/status"))
        assert wait_for(lambda: sim.sim.telegram_calls("sendMessage"), 30)
        assert "KAL01" in sim.sim.telegram_calls("sendMessage")[0]["params"]["text"]
        assert wait_for(lambda: "answers again" in log_path.read_text(), 30)
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(30)
    output = log_path.read_text()
    lines = [line for line in output.splitlines() if line.strip()]
    outage = [line for line in lines if "Telegram" in line and "polling" not in line]
    assert outage == [f"cannot reach Telegram at {sim.url} (Bad Gateway (502), a web page instead of Telegram's "
                      "answer); the bot keeps trying, quietly, until it answers",
                      f"Telegram at {sim.url} answers again"], output
    assert "Traceback" not in output and "<html" not in output and "nginx" not in output, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert bot.returncode == 0, output


class PollThread:
    """`tikabot bot`'s polling loop in a thread, with its own stop event and what it announced."""

    def __init__(self, services, retry_s=5.0, poll_s=10.0):
        self.loop = asyncio.new_event_loop()
        self.said: list[str] = []
        self.stop_event = None
        self.error = None
        self.args = (services, retry_s, poll_s)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.loop.run_until_complete(self._main())
        except Exception as exc:  # noqa: BLE001 - the test reads it
            self.error = exc

    async def _main(self):
        from tikabot.bot.run import poll

        self.stop_event = asyncio.Event()
        await poll(self.args[0], self.stop_event, announce=self.said.append, retry_s=self.args[1], poll_s=self.args[2])

    def start(self):
        self.thread.start()
        wait_for(lambda: self.stop_event is not None, 10)
        return self

    def stop(self):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)
        self.loop.close()


def test_the_polling_bot_says_where_it_polls_once_it_does(sim, bot_services, district):
    bot = PollThread(bot_services).start()
    try:
        assert wait_for(lambda: bot.said, 15)
        assert bot.said == [f"coordinator bot @tikabot_sim_bot: polling {bot_services.config.telegram_api_base} "
                            "for messages (long polling; no port to open); Ctrl-C stops"]
    finally:
        bot.stop()
    assert bot.error is None


def test_telegram_out_of_reach_is_said_once_not_at_every_retry(bot_services, caplog):
    import dataclasses
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked = []

    class BadGateway(BaseHTTPRequestHandler):  # Telegram's own answer while its servers are out
        def do_POST(self):
            asked.append(self.path)
            body = b'{"ok":false,"error_code":502,"description":"Bad Gateway"}'
            self.send_response(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    services = dataclasses.replace(bot_services, config=dataclasses.replace(
        bot_services.config, telegram_bot_token=TOKEN, telegram_api_base=f"http://127.0.0.1:{server.server_port}"))
    bot = PollThread(services, retry_s=0.05)
    with caplog.at_level("WARNING"):
        bot.start()
        try:
            assert wait_for(lambda: len(asked) >= 5, 15)
        finally:
            bot.stop()
            server.shutdown()
            server.server_close()
    said = [r.getMessage() for r in caplog.records if r.name.startswith(("tikabot", "telegram"))]
    assert len(said) == 1 and said[0].startswith(f"cannot reach Telegram at http://127.0.0.1:{server.server_port}")
    assert TOKEN not in said[0] and bot.said == [] and bot.error is None


def refused_for_a_while(sim, how: str, polls: int) -> None:
    """The simulated Telegram answers polls as `how` (telegram_down) until `polls` of them came, then
    answers again."""
    import time

    since = time.time()
    sim.sim.configure(telegram_down=how)
    assert wait_for(lambda: len([c for c in sim.sim.telegram_calls("getUpdates") if c["at"] >= since]) >= polls, 30)
    sim.sim.configure(telegram_down=None)


def test_the_end_of_an_outage_is_said_when_a_poll_is_answered_even_if_nobody_writes(sim, bot_services, district,
                                                                                     caplog):

    bot = PollThread(bot_services, retry_s=0.05, poll_s=0.2)
    with caplog.at_level("DEBUG", logger="tikabot"):
        bot.start()
        try:
            assert wait_for(lambda: bot.said, 15)
            refused_for_a_while(sim, "502", polls=2)  # the first poll refused and one retry
            back = lambda: [r for r in caplog.records if r.getMessage().endswith("answers again")]  # noqa: E731
            assert wait_for(back, 15), "the recovery is said without any update to carry it"
        finally:
            bot.stop()
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(("tikabot", "telegram"))]
    assert [r.getMessage().split(" (")[0] for r in warned] == [f"cannot reach Telegram at {sim.url}",
                                                               f"Telegram at {sim.url} answers again"]
    # the bot's records only: the simulator runs in this process too, and its web server may log a
    # poll that the bot's stop cut off mid-request (aiohttp.server, ConnectionResetError)
    from_the_bot = [r for r in caplog.records if not r.name.startswith(("aiohttp", "tikabot.simulator"))]
    assert not [r for r in from_the_bot if r.exc_info], "no traceback from the bot, at any level"
    assert bot.error is None


def test_a_second_bot_polling_with_the_same_token_is_named_once_and_this_one_answers_when_it_stops(
        sim, bot_services, district, caplog):
    """Telegram refuses getUpdates with 409 Conflict while another process polls with the token (a
    second server, a copy started by hand): the log says once what to stop, with no traceback; when
    the other one stops, this bot gets the coordinators' messages again and answers them."""

    bot = PollThread(bot_services, retry_s=0.05, poll_s=0.2)
    with caplog.at_level("DEBUG", logger="tikabot"):
        bot.start()
        try:
            assert wait_for(lambda: bot.said, 15)
            refused_for_a_while(sim, "409", polls=2)  # refused, and retried
            sim.sim.inject_update(message_update(COORDINATOR_ID, "/status"))
            assert wait_for(lambda: sim.sim.telegram_calls("sendMessage"), 30)
            assert "KAL01" in sim.sim.telegram_calls("sendMessage")[0]["params"]["text"]
        finally:
            bot.stop()
    warned = [r.getMessage() for r in caplog.records
              if r.levelno >= logging.WARNING and r.name.startswith(("tikabot.bot", "telegram"))]
    assert warned == [f"Telegram at {sim.url} gives this bot's messages to another process polling with the same "
                      "token (409 Conflict): stop the other `tikabot bot` (on another server, or one started by "
                      "hand); this one keeps trying, quietly, until Telegram answers it",
                      f"Telegram at {sim.url} answers again"]
    from_the_bot = [r for r in caplog.records if not r.name.startswith(("aiohttp", "tikabot.simulator"))]
    assert not [r for r in from_the_bot if r.exc_info], "no traceback from the bot, at any level"
    assert bot.error is None


def test_a_poll_telegram_never_answers_is_told_as_an_outage(bot_services):
    """python-telegram-bot retries a poll that timed out without calling the error callback: the
    poll's own connection tells the bot (a network that drops packets answers nothing at all)."""
    import socket

    from tikabot.bot.app import _WatchedPolls
    from telegram.error import TimedOut

    heard = []

    class Watch:
        def failed(self, exc):
            heard.append(("failed", type(exc).__name__))

        def answered(self):
            heard.append(("answered", None))

    silent = socket.create_server(("127.0.0.1", 0))  # takes the connection, never answers
    request = _WatchedPolls(Watch())

    async def one_poll():
        await request.initialize()
        try:
            await request.do_request(f"http://127.0.0.1:{silent.getsockname()[1]}/bot{TOKEN}/getUpdates", "POST",
                                     read_timeout=0.2)
        finally:
            await request.shutdown()

    try:
        with pytest.raises(TimedOut):
            asyncio.run(one_poll())
    finally:
        silent.close()
    assert heard == [("failed", "TimedOut")]


def test_phone_telegram_chats_with_the_bot_on_the_simulator(bot, sim):
    result = CliRunner().invoke(main, ["phone", "--telegram", str(COORDINATOR_ID), "--sim", sim.url],
                                input="/status\n/start\n")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"tikabot phone --telegram {COORDINATOR_ID}: a private chat with the coordinator bot")
    answers = result.output.split("\nbot: ")
    assert len(answers) == 3 and "District: 2 of 5 due" in answers[1] and "KAL01 Kalyani PHC" in answers[1]
    assert "/status" in answers[2] and "/help" in answers[2]  # /start: the help, listing the commands
    assert TOKEN not in result.output


def test_phone_telegram_shows_a_newcomer_their_id(bot, sim):
    result = CliRunner().invoke(main, ["phone", "--telegram", "5550001", "--sim", sim.url], input="/start\n")
    assert "Your Telegram user id is 5550001" in result.output, result.output


def test_a_token_revoked_while_the_bot_polls_stops_it_with_one_line_and_exit_78(sim, bot_services, district,
                                                                                 tmp_path):
    """The token revoked (or changed) in @BotFather while the bot runs: Telegram answers every poll
    401. python-telegram-bot stopped polling and the process stayed up, deaf, so systemd saw nothing
    wrong; now the bot stops, says what to do in one line, and exits 78, which its unit leaves stopped."""
    import os
    import subprocess
    import sys

    config = bot_services.config
    env = {**os.environ, "DATABASE_URL": config.database_url, "REDIS_URL": config.redis_url,
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": sim.url, "OTP_SECRET": config.otp_secret}
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        bot = subprocess.Popen([sys.executable, "-m", "tikabot", "bot"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "polling" in log_path.read_text(), 30)
        sim.sim.configure(telegram_down="401")
        assert wait_for(lambda: bot.poll() is not None, 60), "the bot kept running with a refused token"
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait(30)
    output = log_path.read_text()
    assert bot.returncode == 78, output
    assert (f"Error: Telegram at {sim.url} stopped accepting TELEGRAM_BOT_TOKEN while the bot ran (401: the "
            "token was revoked or changed in @BotFather): set the new token, then start the bot again") in output
    assert "Traceback" not in output and TOKEN not in output and TOKEN.split(":")[1] not in output, output
