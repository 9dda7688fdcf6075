"""`tikabot channels`: each channel, its health as the workers see it in Redis, and the routes."""
from __future__ import annotations

import redis as redis_lib
from click.testing import CliRunner

from tikabot.cli.main import main
from tikabot.handlers.twilio_sms import TWILIO_ERRORS
from tikabot.queue.routes.health import RouteHealth
from tikabot.core.sending import SendError

ROUTES = "otp=exotel,twilio;reply=android,twilio;reminder=exotel,twilio;alert=twilio"


def run(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(main, ["channels"])


def test_with_nothing_configured_twilio_carries_everything(monkeypatch, tmp_path):
    monkeypatch.delenv("TIKABOT_ROUTES", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = run(monkeypatch, tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["channel", "DLT", "health"]
    assert lines[1].split()[:3] == ["twilio", "no", "unknown"]
    assert "otp           twilio" in lines and "reminder      twilio" in lines
    assert lines[-1] == "TIKABOT_ROUTES is not set: Twilio carries every SMS"


def test_routes_and_the_health_every_worker_shares(monkeypatch, tmp_path, redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    health = RouteHealth(client)
    health.record_ok("twilio")
    health.record_error("exotel", SendError(TWILIO_ERRORS[30002], 30002))
    health.force_down("android", reason="rehearsal")
    result = run(monkeypatch, tmp_path, TIKABOT_ROUTES=ROUTES, REDIS_URL=redis_url)
    client.close()
    assert result.exit_code == 0, result.output
    out = result.output
    assert "twilio     no   up; 0 errors in 1 sends, last 120 s" in out
    assert "exotel     yes  down (account_suspended, since " in out and "s before a trial); 1 errors in 1 sends" in out
    assert "android    no   forced down (rehearsal, since " in out
    assert "otp           exotel -> twilio" in out
    assert "reply         android -> twilio (first: the route the message came in on, while it is up)" in out
    assert "confirmation  twilio" in out and "alert         twilio" in out
    # no gateway phone and no Exotel account are set up here: said, not hidden
    assert "no sender is configured for them" in result.stderr


def test_a_bad_routes_setting_is_one_clear_line(monkeypatch, tmp_path):
    result = run(monkeypatch, tmp_path, TIKABOT_ROUTES="sms=twilio")
    assert result.exit_code == 1
    assert "TIKABOT_ROUTES: 'sms=twilio' must be KIND=ROUTE" in result.output


def test_free_text_says_it_never_goes_on_a_dlt_route_and_where_a_severe_alert_goes(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = run(monkeypatch, tmp_path, TIKABOT_ROUTES=ROUTES, TIKABOT_DLT_ROUTES="exotel",
                 TELEGRAM_BOT_TOKEN="123:abc")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "free text: never on a DLT route (exotel); no DLT template can hold it" in out
    severe = next(line for line in out.splitlines() if line.startswith("alert.severe "))
    assert "goes by twilio -> telegram (coordinators who have it)" in severe and "exotel" not in severe
    broadcast = next(line for line in out.splitlines() if line.startswith("broadcast "))
    assert "a coordinator's own words: goes by twilio" in broadcast


def test_free_text_with_only_a_dlt_route_for_alerts_is_said_loudly(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    result = run(monkeypatch, tmp_path, TIKABOT_ROUTES="otp=exotel;reply=exotel;reminder=exotel;alert=exotel;"
                 "confirmation=exotel", TIKABOT_DLT_ROUTES="exotel")
    severe = next(line for line in result.output.splitlines() if line.startswith("alert.severe "))
    assert severe.endswith("goes by NOTHING: add a route without DLT"), result.output


def test_nic_and_kannel_say_what_to_register_where_without_showing_secrets(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = run(monkeypatch, tmp_path, TIKABOT_ROUTES="reminder=nic,kannel;reply=kannel,twilio",
                 PUBLIC_BASE_URL="https://tika.nadia.example.gov.in", NIC_USERNAME="wbnadia.sms", NIC_PIN="pin-123",
                 NIC_SIGNATURE="WBHLTH", NIC_CALLBACK_TOKEN="nic-secret-token", NIC_SOURCE_ADDRESS="203.0.113.7",
                 KANNEL_SENDSMS_URL="http://127.0.0.1:13013/cgi-bin/sendsms", KANNEL_USERNAME="tikabot",
                 KANNEL_PASSWORD="kannel-pw", KANNEL_CALLBACK_TOKEN="kannel-secret-token")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "nic        yes  unknown (no Redis)" in out and "kannel     no   unknown (no Redis)" in out
    assert "  allowed source address   203.0.113.7" in out
    assert "  delivery-report URL      https://tika.nadia.example.gov.in/channels/nic/dlr?token=<NIC_CALLBACK_TOKEN>" in out
    assert ("  sms-service get-url      https://tika.nadia.example.gov.in/channels/kannel/inbound"
            "?token=<KANNEL_CALLBACK_TOKEN>&id=%I&from=%p") in out
    assert not any(secret in out for secret in ("pin-123", "nic-secret-token", "kannel-pw", "kannel-secret-token"))
    assert "no sender is configured" not in result.stderr


def test_nic_without_a_source_address_says_what_to_find_out(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("NIC_SOURCE_ADDRESS", raising=False)
    result = run(monkeypatch, tmp_path, TIKABOT_ROUTES="reminder=nic,twilio", NIC_USERNAME="wbnadia.sms",
                 NIC_PIN="pin", NIC_CALLBACK_TOKEN="t")
    assert result.exit_code == 0, result.output
    assert "  allowed source address   not set: set NIC_SOURCE_ADDRESS to the public address" in result.output


# --- every provider shown, each phone and account asked, Redis found where `up` runs it ---

import json  # noqa: E402
import os  # noqa: E402

from tests.support.credentials import EXOTEL_CALLBACK_TOKEN  # noqa: E402
from tests.support.simulator import simulator_fixture  # noqa: E402
from tikabot.simulator.config import FaultConfig  # noqa: E402
from tikabot.stack.banner import UpState, write_state  # noqa: E402

NOWHERE = "http://127.0.0.1:9"  # the discard port: a connection is refused at once
simulator = simulator_fixture(lambda: FaultConfig(seed=7, smsgate_phones={
    "ranaghat": {"username": "sms", "password": "ranaghat-pw", "signing_key": "key-ranaghat"}}))


def providers(sim_url: str, *, phones=("ranaghat", "kalyani")) -> dict[str, str]:
    where = {"ranaghat": f"{sim_url}/smsgate/ranaghat", "kalyani": NOWHERE}
    return {"SMSGATE_PHONES": json.dumps([{"id": p, "url": where[p], "username": "sms", "password": f"{p}-pw",
                                           "signing_key": f"key-{p}"} for p in phones]),
            "EXOTEL_ACCOUNT_SID": "simexotel", "EXOTEL_API_KEY": "simulator-exotel-key",
            "EXOTEL_API_TOKEN": "simulator-exotel-token", "EXOTEL_API_BASE": sim_url,
            "EXOTEL_CALLBACK_TOKEN": EXOTEL_CALLBACK_TOKEN}


def test_every_configured_provider_is_listed_and_each_phone_and_account_is_asked(
        monkeypatch, tmp_path, simulator, database_url):
    monkeypatch.delenv("TIKABOT_ROUTES", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    simulator.sim.reset(config=True)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["channels"], env=providers(simulator.url))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "phone ranaghat: answers" in out
    assert "phone kalyani: down: does not answer" in out  # not shown up because no worker said otherwise
    # Exotel is set up though no route names it: listed, asked, and its DLT approvals counted
    assert "exotel     yes" in out and "configured, but TIKABOT_ROUTES gives it no traffic" in out
    assert "account simexotel: answers and takes the API key" in out
    assert "DLT templates approved: 0 of " in out and "tikabot dlt export" in out


def test_a_route_whose_only_phone_does_not_answer_is_shown_down(monkeypatch, tmp_path, simulator):
    monkeypatch.delenv("TIKABOT_ROUTES", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    env = providers(simulator.url, phones=("kalyani",))
    env["EXOTEL_API_KEY"] = "a-wrong-key"
    result = run(monkeypatch, tmp_path, **env)
    assert result.exit_code == 0, result.output
    android = next(line for line in result.output.splitlines() if line.startswith("android"))
    assert "down: nothing behind it answers" in android
    assert "account simexotel: down: refuses the API key and token" in result.output


def test_health_is_read_from_the_redis_a_running_up_started(monkeypatch, tmp_path, redis_url):
    monkeypatch.delenv("TIKABOT_ROUTES", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    client = redis_lib.Redis.from_url(redis_url)
    RouteHealth(client).record_ok("twilio")
    client.close()
    write_state(UpState(web="http://127.0.0.1:5000", pid=os.getppid(), redis_url=redis_url, bot_on_simulator=True))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    result = run(monkeypatch, tmp_path)
    assert result.exit_code == 0, result.output
    assert "twilio     no   up; 0 errors in 1 sends" in result.output
    assert "coordinator bot: on the simulator, run by tikabot up" in result.output


def test_a_busy_route_shows_the_errors_among_its_latest_sends_that_took_it_down(monkeypatch, tmp_path, redis_url):
    from tikabot.core.sending import NETWORK_ERROR

    client = redis_lib.Redis.from_url(redis_url)
    health = RouteHealth(client)
    for _ in range(300):
        health.record_ok("kannel")
    for _ in range(25):
        health.record_error("kannel", SendError(NETWORK_ERROR, "network"))
    result = run(monkeypatch, tmp_path, TIKABOT_ROUTES="default=kannel,twilio", REDIS_URL=redis_url)
    client.close()
    assert result.exit_code == 0, result.output
    assert "kannel     no   down (network_error, since " in result.output
    assert "25 errors in 325 sends, last 120 s (25 in the latest 50)" in result.output
