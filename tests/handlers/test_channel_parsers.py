"""The new channels' parsers and settings: any input is either translated or refused with a named
error, never a crash; settings keep secrets out of logs."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from tikabot.config import Config, GatewayPhone, gateway_phones
from tikabot.handlers import android_gateway, exotel

values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=50), st.lists(st.text(max_size=5)))
payloads = st.dictionaries(st.sampled_from(["sender", "phoneNumber", "message", "receivedAt", "messageId", "reason",
                                            "simNumber"]), values)


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_received_payload_is_translated_or_refused(payload):
    try:
        message = android_gateway.to_message("ranaghat", payload)
    except android_gateway.BadWebhook:
        return
    assert message.via == "android:ranaghat" and message.provider_id.startswith("sg-")
    assert len(message.provider_id) <= 64 and "\x00" not in message.text


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["sms:sent", "sms:delivered", "sms:failed"]), payloads)
def test_status_payload_is_translated_or_refused(event, payload):
    try:
        report = android_gateway.to_report(android_gateway.Event(event, payload), "phone1")
    except android_gateway.BadWebhook:
        return
    assert report.status in ("sent", "delivered", "undelivered")
    assert (report.kind is not None) == (event == "sms:failed")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_body_is_an_event_or_refused(body):
    try:
        event = android_gateway.parse_event(body)
    except android_gateway.BadWebhook:
        return
    assert isinstance(event.payload, dict)


forms = st.dictionaries(st.sampled_from(["SmsSid", "From", "To", "Body", "Status", "DetailedStatusCode", "Date"]),
                        st.text(max_size=40))


@settings(max_examples=300, deadline=None)
@given(forms, st.dictionaries(st.sampled_from(["id", "attempt"]), st.text(max_size=25)))
def test_exotel_requests_are_translated_or_refused(form, query):
    for parse in (lambda: exotel.to_message(form), lambda: exotel.parse_status(form, query)):
        try:
            parse()
        except exotel.BadRequest:
            pass


def test_the_same_sms_twice_has_one_id_and_another_time_another():
    payload = {"sender": "+919830011111", "message": "HELP", "receivedAt": "2026-12-02T11:41:31.000+05:30"}
    first = android_gateway.to_message("ranaghat", payload).provider_id
    assert android_gateway.to_message("ranaghat", dict(payload)).provider_id == first
    assert android_gateway.to_message("kalyani", payload).provider_id != first
    later = {**payload, "receivedAt": "2026-12-02T11:51:31.000+05:30"}
    assert android_gateway.to_message("ranaghat", later).provider_id != first


@pytest.mark.parametrize("reason, name", [
    ("RESULT_ERROR_NO_SERVICE (Failed because service is currently unavailable)", "phone_no_signal"),
    ("RESULT_ERROR_LIMIT_EXCEEDED (Failed because we reached the sending queue limit)", "phone_send_limit"),
    ("RESULT_ERROR_GENERIC_FAILURE (Generic failure cause)", "phone_radio_error"),
    ("RESULT_ERROR_FDN_CHECK_FAILURE (Failed because FDN is enabled)", "phone_refused"),
    ("RESULT_RIL_SIM_ABSENT (...)", "sim_absent"),
    ("Unknown error code: 99.", "phone_error"),
    (None, "phone_error"),
])
def test_phone_failure_reasons_are_named(reason, name):
    assert android_gateway.reason_kind(reason).name == name


def test_phones_from_the_environment_and_no_secret_in_repr():
    env = {"SMSGATE_URL": "http://10.0.0.7:8080", "SMSGATE_USERNAME": "sms", "SMSGATE_PASSWORD": "pass-word-1",
           "SMSGATE_SIGNING_KEY": "signing-key-1",
           "SMSGATE_PHONES": json.dumps([{"id": "kalyani", "url": "https://api.sms-gate.app/3rdparty/v1",
                                          "username": "U", "password": "pass-word-2", "signing_key": "signing-key-2",
                                          "per_minute": 2, "sim": 2}])}
    phones = gateway_phones(env)
    assert [(p.id, p.url, p.per_minute, p.sim) for p in phones] == [
        ("phone1", "http://10.0.0.7:8080", 6.0, None), ("kalyani", "https://api.sms-gate.app/3rdparty/v1", 2, 2)]
    shown = repr(Config(smsgate_phones=phones, exotel_api_token="exo-token-1", exotel_callback_token="cb-token-1",
                        exotel_callback_password="cb-pass-1"))
    for secret in ("pass-word-1", "pass-word-2", "signing-key-1", "signing-key-2", "exo-token-1", "cb-token-1",
                   "cb-pass-1"):
        assert secret not in shown


@pytest.mark.parametrize("env, says", [
    ({"SMSGATE_URL": "http://x:8080"}, "signing key is required"),
    ({"SMSGATE_PHONES": "[{\"id\": \"a b\", \"url\": \"u\", \"signing_key\": \"k\"}]"}, "use 1-24 letters"),
    ({"SMSGATE_PHONES": "not json"}, "not a JSON list"),
    ({"SMSGATE_PHONES": "[{\"id\": \"a\", \"url\": \"u\", \"signing_key\": \"k\"},"
                        " {\"id\": \"a\", \"url\": \"v\", \"signing_key\": \"l\"}]"}, "same id"),
    ({"SMSGATE_URL": "http://x:8080", "SMSGATE_USERNAME": "sms", "SMSGATE_SIGNING_KEY": "k"}, "needs its password"),
])
def test_bad_phone_settings_are_said_at_start(env, says):
    with pytest.raises(ValueError, match=says):
        gateway_phones(env)


def test_exotel_without_a_callback_token_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("EXOTEL_ACCOUNT_SID", "district")
    monkeypatch.delenv("EXOTEL_CALLBACK_TOKEN", raising=False)
    with pytest.raises(ValueError, match="EXOTEL_CALLBACK_TOKEN"):
        Config.from_env(dotenv=False)
    assert GatewayPhone(id="x", url="u").per_minute == 6.0


def test_no_secret_of_the_config_shows_in_its_repr():
    secrets = {"twilio_auth_token": "tw-auth-1", "telegram_bot_token": "123:tg-bot-1", "telegram_webhook_secret": "tg-hook-1",
               "ussd_token": "ussd-tok-1", "otp_secret": "otp-key-1", "exotel_api_key": "exo-key-1",
               "exotel_api_token": "exo-token-1", "exotel_callback_token": "cb-token-1",
               "exotel_callback_password": "cb-pass-1"}
    shown = repr(Config(**secrets, exotel_callback_user="exotel", database_url="postgresql+psycopg://tika:db-pass-1@db/t",
                        redis_url="redis://:redis-pass-1@cache:6379/0"))
    for secret in (*secrets.values(), "db-pass-1", "redis-pass-1"):
        assert secret not in shown
    assert "twilio_auth_token='<redacted>'" in shown and "ussd_token='<redacted>'" in shown
    assert "postgresql+psycopg://tika:***@db/t" in shown and "exotel_callback_user='exotel'" in shown
    assert "telegram_bot_token=None" in repr(Config())  # unset stays visible as unset


def test_the_registry_token_stays_out_of_repr():
    from tikabot.registry.settings import RegistrySettings

    assert "fhir-token-1" not in repr(RegistrySettings(base_url="https://r/fhir", token="fhir-token-1"))


@pytest.mark.parametrize("env, says", [
    ({"EXOTEL_CALLBACK_USER": "exotel"}, "EXOTEL_CALLBACK_USER is set without EXOTEL_CALLBACK_PASSWORD"),
    ({"EXOTEL_CALLBACK_PASSWORD": "pw"}, "EXOTEL_CALLBACK_PASSWORD is set without EXOTEL_CALLBACK_USER"),
])
def test_basic_auth_half_set_is_refused_at_start(monkeypatch, env, says):
    for name in ("EXOTEL_CALLBACK_USER", "EXOTEL_CALLBACK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=says):
        Config.from_env(dotenv=False)
