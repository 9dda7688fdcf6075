import pytest

from tikabot.i18n import catalog
from tikabot.i18n.catalog import (
    LANGUAGES, all_keys, fold, keyword_aliases, language_aliases, placeholders, render, template,
)
from tikabot.i18n.encoding import encoding_of, sms_info
from tikabot.i18n.samples import ONE_SEGMENT_KEYS, SAMPLE_PARAMS, sample_params

REQUIRED = {
    "staff.session_started": {"vaccine", "lot", "due"},
    "staff.session_already_open": {"vaccine", "lot"},
    "staff.no_session": set(),
    "staff.dose_recorded": {"ref", "name", "dose", "vaccine", "lot", "count"},
    "staff.dose_recorded_other_site": {"ref", "name", "dose", "vaccine", "lot", "count", "booked_site"},
    "staff.dose_duplicate": {"ref", "dose"},
    "staff.unknown_ref": {"ref"},
    "staff.dose2_too_early": {"ref", "due_date"},
    "staff.wrong_vaccine": {"ref", "vaccine"},
    "staff.unknown_vaccine": {"vaccine", "known"},
    "staff.bad_dose_number": {"dose"},
    "staff.all_doses_done": {"ref"},
    "staff.ask_ref": set(),
    "staff.ask_dose": {"ref", "next_dose"},
    "staff.ask_vaccine": set(),
    "staff.ask_lot": set(),
    "staff.guided_expired": set(),
    "staff.undo_done": {"ref", "dose"},
    "staff.undo_nothing": set(),
    "staff.undo_too_late": {"minutes"},
    "staff.verify_sent": {"ref", "phone"},
    "staff.verify_limited": {"minutes"},
    "staff.otp_ok": {"ref", "name"},
    "staff.otp_wrong": {"tries_left"},
    "staff.otp_expired": set(),
    "staff.otp_locked": {"minutes"},
    "staff.otp_none": {"ref"},
    "staff.count": {"site", "dose1", "dose2", "total", "due", "remaining"},
    "staff.session_closed": {"site", "dose1", "dose2", "total"},
    "staff.no_open_session_to_end": set(),
    "staff.aefi_recorded": {"ref", "severity"},
    "staff.lang_set": set(),
    "staff.help": set(),
    "staff.help_words": set(),
    "staff.usage": {"usage"},
    "staff.bad_ref": {"ref"},
    "staff.unknown_command": set(),
    "staff.rate_limited": set(),
    "staff.manual_mode": {"site"},
    "staff.manual_mode_off": {"site"},
    "ben.confirmed": {"date", "slot", "site"},
    "ben.cancelled": {"date"},
    "ben.no_appointment": set(),
    "ben.opted_out": set(),
    "ben.opted_in": set(),
    "ben.help": {"date", "slot", "site"},
    "ben.help_no_appt": set(),
    "ben.lang_set": set(),
    "otp.code": {"code", "minutes"},
    "otp.voice": {"digits"},
    "appt.booked": {"name", "date", "slot", "site", "code"},
    "appt.reminder_eve": {"name", "date", "slot", "site"},  # the code goes once, in appt.booked
    "appt.reminder_morning": {"slot", "site"},
    "appt.missed": {"name", "date"},
    "dose.confirmation": {"name", "dose", "vaccine", "next_due"},
    "dose.confirmation_final": {"name", "vaccine"},
    "dose2.due_tomorrow": {"name", "date", "site"},
    "dose2.due_today": {"name", "site"},
    "broadcast": {"text"},
    "alert.aefi_severe": {"site", "ref", "note"},
    "alert.send_failures": {"count", "summary"},
    "alert.session_closed": {"site", "dose1", "dose2", "total"},
    "alert.otp_undelivered": {"ref", "site"},
    "alert.account_failure": {"route", "code"},
    "alert.no_session": {"sites"},
    "alert.site_silent": {"site", "minutes"},
    "alert.manual_mode": {"site", "state"},
}
KEYWORDS = ["START", "DOSE", "UNDO", "VERIFY", "OTP", "COUNT", "END", "AEFI", "LANG", "HELP",
            "YES", "NO", "STOP", "MINOR", "SEVERE"]


def test_required_keys_exist_with_their_placeholders():
    keys = set(all_keys())
    for key, names in REQUIRED.items():
        assert key in keys, key
        assert placeholders(template(key, "en")) == names, key


def test_every_placeholder_has_a_sample():
    for key in all_keys():
        for lang in LANGUAGES:
            assert placeholders(template(key, lang)) <= SAMPLE_PARAMS.keys(), (key, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_renders(lang):
    for key in all_keys():
        text = render(key, lang, **sample_params(key, "en"))
        assert text and "{" not in text, (key, lang, text)


@pytest.mark.parametrize("lang", ["bn", "hi"])
def test_translations_are_complete_and_keep_the_placeholders(lang):
    own = catalog._entries(lang)
    for key in all_keys():
        assert key in own, (key, lang)
        assert placeholders(own[key]) == placeholders(template(key, "en")), (key, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_key_is_in_a_catalog_once(lang):
    """gettext keeps the first of two entries with one msgid and drops the other without a word: a
    translator editing the second would change nothing (a Bengali role word stood twice, one unread)."""
    import re
    from collections import Counter

    ids = re.findall(r'^msgid "([^"]+)"$', catalog.po_path(lang).read_text(encoding="utf-8"), flags=re.M)
    assert [key for key, n in Counter(ids).items() if n > 1] == []


OWN_SCRIPT = {"ussd.lang_menu"}  # a USSD screen naming each language as its readers write it, not an SMS


def test_english_templates_stay_gsm7():
    for key in [k for k in all_keys() if k not in OWN_SCRIPT]:
        text = render(key, "en", **sample_params(key))
        assert encoding_of(text) == "GSM-7", (key, text)


def test_codes_stay_ascii_and_each_language_keeps_its_own_digits():
    """Codes, REFs, lots and phones are ASCII in every language; Bengali prose counts in ০-৯ (see
    test_glossary), Hindi and English in 0-9, and no language borrows another's digits."""
    for lang in LANGUAGES:
        for key in all_keys():
            params = sample_params(key, lang)
            text = render(key, lang, **params)
            for name in ("code", "ref", "lot", "phone"):
                if name in params:
                    assert params[name] in text, (key, lang, name)
            assert not any(ch in text for ch in "०१२३४५६७८९"), (key, lang)
            if lang != "bn":
                assert not any(ch in text for ch in "০১২৩৪৫৬৭৮৯"), (key, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", ONE_SEGMENT_KEYS)
def test_otp_fits_one_segment(key, lang):
    info = sms_info(render(key, lang, code="123456", minutes=10))
    assert info.segments == 1, info


def test_otp_is_single_segment_in_bengali_and_hindi_ucs2():
    for lang in ("bn", "hi"):
        text = render("otp.code", lang, code="654321", minutes=10)
        assert encoding_of(text) == "UCS-2"
        assert len(text.encode("utf-16-le")) // 2 <= 70


def test_render_falls_back_to_english_and_rejects_unknown(monkeypatch):
    assert render("usage.DOSE", "bn") == "DOSE <REF> [ডোজ নম্বর]"  # what to fill in, in Bengali
    monkeypatch.delitem(catalog._entries("bn"), "usage.DOSE")  # a translation missing: English
    assert render("usage.DOSE", "bn") == render("usage.DOSE", "en")
    assert render("staff.lang_set", "BN") == "ভাষা বাংলা করা হয়েছে।"
    with pytest.raises(KeyError):
        render("no.such.key", "en")
    with pytest.raises(ValueError):
        render("staff.help", "fr")


def test_broken_translation_falls_back_to_english(monkeypatch):
    real = catalog._entries
    broken = dict(real("hi"), **{"staff.undo_done": "{rref} {dose}"})
    monkeypatch.setattr(catalog, "_entries", lambda lang: broken if lang == "hi" else real(lang))
    assert render("staff.undo_done", "hi", ref="123456", dose=1) == "Removed from the record: 123456 dose 1."


def test_missing_param_raises():
    with pytest.raises(KeyError):
        render("staff.undo_done", "bn", ref="123456")


def test_keyword_aliases_cover_every_keyword():
    table = keyword_aliases()
    for word in KEYWORDS:
        assert table[fold(word)] == word
    assert table[fold("ডোজ")] == "DOSE"
    assert table[fold("টিকা")] == "DOSE"
    assert table[fold("डोज़")] == "DOSE"
    assert table[fold("डोज़")] == "DOSE"  # precomposed nukta letter
    assert table[fold("टीका")] == "DOSE"
    assert table["haan"] == "YES" and table["ha"] == "YES"
    assert table["na"] == "NO" and table["nahi"] == "NO"
    assert table[fold("হ্যাঁ")] == "YES" and table[fold("नहीं")] == "NO"
    assert table[fold("गंभीर")] == "SEVERE" and table[fold("সামান্য")] == "MINOR"


def test_each_language_has_aliases_for_every_keyword():
    for lang in ("bn", "hi"):
        own = catalog._entries(lang)
        for word in KEYWORDS:
            assert own.get(f"keyword.{word}"), (lang, word)


def test_no_alias_means_two_keywords():
    seen: dict[str, str] = {}
    for prefix in catalog.ALIAS_PREFIXES:
        for lang in LANGUAGES:
            for key, text in catalog._entries(lang).items():
                if key.startswith(prefix):
                    canonical = key[len(prefix):]
                    for alias in [canonical, *text.split(",")]:
                        word = prefix + fold(alias.strip())
                        assert seen.setdefault(word, canonical) == canonical, (alias, canonical)


def test_language_aliases():
    table = language_aliases()
    assert table["bn"] == "BN" and table[fold("বাংলা")] == "BN" and table["bangla"] == "BN"
    assert table[fold("हिंदी")] == "HI" and table[fold("हिन्दी")] == "HI" and table["hindi"] == "HI"
    assert table["english"] == "EN" and table[fold("ইংরেজি")] == "EN"
