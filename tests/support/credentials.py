"""The secrets and public address the tests' config uses (tests/conftest.py builds it from these).

One place, so a signer and the app it signs for can never disagree about a token."""
from __future__ import annotations

TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"  # Twilio's auth token: signs X-Twilio-Signature
TEST_ACCOUNT_SID = "AC" + "1" * 32
TWILIO_FROM = "+15005550006"
PUBLIC_BASE_URL = "https://tikabot.example.org"  # the URL Twilio signs over (what it was told to call)
USSD_TOKEN = "test-ussd-token"
OTP_SECRET = "test-otp-secret"
TELEGRAM_WEBHOOK_SECRET = "test-telegram-secret"
EXOTEL_CALLBACK_TOKEN = "exotel-callback-token-7f3a9c"
KANNEL_CALLBACK_TOKEN = "kannel-callback-token-5d21e8"  # in Kannel's dlr-url and its sms-service's get-url
NIC_CALLBACK_TOKEN = "nic-callback-token-3b8e51d0"  # in the delivery-report URL registered with NIC
