"""Counts agree with their nouns (gettext plural forms); places are named in the reader's language."""
from __future__ import annotations

import pytest

from tikabot.i18n import catalog
from tikabot.i18n.catalog import render
from tikabot.i18n.places import PlaceName

BASIRHAT = PlaceName("বসিরহাট স্বাস্থ্যকেন্দ্র 1", en="Basirhat Health Centre 1", hi="बसीरहाट स्वास्थ्य केंद्र 1")


@pytest.mark.parametrize("lang, n, text", [
    ("en", 1, "Wrong code. 1 try left."), ("en", 2, "Wrong code. 2 tries left."),
    ("hi", 1, "गलत कोड। 1 कोशिश बाकी है।"), ("hi", 3, "गलत कोड। 3 कोशिशें बाकी हैं।"),
    ("bn", 1, "ভুল কোড। আর ১ বার চেষ্টা করা যাবে।"), ("bn", 4, "ভুল কোড। আর ৪ বার চেষ্টা করা যাবে।"),
])
def test_tries_left_agree_with_the_count(lang, n, text):
    assert render("staff.otp_wrong", lang, tries_left=n) == text


@pytest.mark.parametrize("lang, n, words", [
    ("en", 1, "1 person due today"), ("en", 57, "57 people due today"),
    ("hi", 1, "आज 1 व्यक्ति का टीका"), ("hi", 57, "आज 57 लोगों का टीका"),
    ("bn", 57, "আজ ৫৭ জনের টিকা"),  # Bengali counts people with the classifier জন
])
def test_people_due_today_are_counted_with_the_right_word(lang, n, words):
    assert words in render("staff.session_started", lang, vaccine="COVISHIELD", lot="A1", due=n)


def test_bengali_counts_messages_with_the_classifier_ti():
    assert render("alert.send_failures", "bn", count=3, summary="").startswith("৩টি মেসেজ")
    assert render("alert.send_failures", "en", count=1, summary="x") == "1 message failed to send. x"


def test_every_plural_entry_names_its_counting_placeholder_in_every_language():
    for lang in catalog.LANGUAGES:
        for key, plural in catalog._plurals(lang).items():
            assert plural.param in catalog.placeholders(catalog.template(key, "en")), (lang, key)
            assert len(plural.forms) == 2, (lang, key)


@pytest.mark.parametrize("place, lang, shown", [
    (BASIRHAT, "bn", "বসিরহাট স্বাস্থ্যকেন্দ্র 1"),
    (BASIRHAT, "hi", "बसीरहाट स्वास्थ्य केंद्र 1"),
    (BASIRHAT, "en", "Basirhat Health Centre 1"),
    # no Hindi name: the Bengali one in Devanagari (ব as ब, ব-ফলা as व), never in Bengali script
    (PlaceName("বসিরহাট স্বাস্থ্যকেন্দ্র 1", en="Basirhat Health Centre 1"), "hi", "बसिरहाट स्वास्थ्यकेन्द्र 1"),
    (PlaceName("বারাসত জেলা হাসপাতাল"), "hi", "बारासत जेला हासपाताल"),
    (PlaceName("ব্যারাকপুর স্বাস্থ্যকেন্দ্র ১"), "hi", "ब्याराकपुर स्वास्थ्यकेन्द्र 1"),  # Hindi digits are 0-9
    (PlaceName("कल्याणी ग्रामीण अस्पताल"), "bn", "কল্যাণী গ্রামীণ অস্পতাল"),
    (PlaceName("Kalyani PHC"), "bn", "Kalyani PHC"),  # nothing better: the one name
    (PlaceName("কান্দি মহকুমা হাসপাতাল"), "en", "Kandi Mahakuma Hasapatal"),  # GSM-7, not UCS-2
    (PlaceName("कल्याणी अस्पताल", bn="কল্যাণী হাসপাতাল"), "hi", "कल्याणी अस्पताल"),
])
def test_a_place_is_named_in_the_readers_language_with_a_readable_fallback(place, lang, shown):
    assert place.localize(lang) == shown


def test_a_hindi_message_carries_no_bengali_script_and_english_stays_gsm7():
    hi = render("dose2.due_today", "hi", name="Lata", site=BASIRHAT)
    assert not any("\u0980" <= ch <= "\u09ff" for ch in hi)
    en = render("dose2.due_today", "en", name="Lata", site=BASIRHAT)
    assert en == "Dear Lata, your second dose is due today at Basirhat Health Centre 1."


@pytest.mark.parametrize("lang, words", [
    ("bn", ["START <টিকা> <লট> সেশন শুরু", "UNDO শেষ ডোজ মুছুন", "COUNT আজকের হিসাব", "END সেশন বন্ধ"]),
    ("hi", ["START <टीका> <लॉट> सत्र शुरू", "UNDO पिछली डोज़ हटाएँ", "COUNT आज की गिनती", "END सत्र बंद"]),
])
def test_staff_help_keeps_the_command_words_and_explains_them(lang, words):
    text = render("staff.help", lang)
    assert all(w in text for w in words), text


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("lang", catalog.LANGUAGES)
def test_every_plural_template_renders_at_one_two_and_five(lang, n):
    from tikabot.i18n.samples import sample_params
    keys = {key for code in catalog.LANGUAGES for key in catalog._plurals(code)}
    for key in sorted(keys):
        counted = next(catalog.plural(key, code) for code in catalog.LANGUAGES if catalog.plural(key, code))
        params = {**sample_params(key, lang), counted.param: n}
        text = render(key, lang, **params)
        assert text and "{" not in text, (key, lang, n)


HINDI_PLURAL_NOUNS = ("केंद्रों", "लोगों", "अधिकारियों", "समन्वयकों", "कोशिशें", " लोग")


@pytest.mark.parametrize("n", [1, 2, 5])
def test_hindi_counts_of_one_take_the_singular_noun(n):
    """"1 केंद्रों पर", "1 स्वास्थ्य अधिकारियों को" read wrong: every Hindi text with a count says 1 in the singular."""
    from tikabot.i18n.samples import sample_params
    for key in catalog.all_keys():
        params = sample_params(key, "hi")
        if "count" not in params:
            continue
        text = render(key, "hi", **{**params, "count": n})
        plural_noun = [w for w in HINDI_PLURAL_NOUNS if w in text]
        assert not (n == 1 and plural_noun), (key, text)


@pytest.mark.parametrize("lang, n, words", [
    ("en", 1, "your first dose"), ("en", 2, "your second dose"),
    ("bn", 1, "প্রথম ডোজ"), ("bn", 2, "দ্বিতীয় ডোজ"), ("hi", 1, "पहली डोज़"), ("hi", 2, "दूसरी डोज़"),
])
def test_a_dose_confirmation_names_the_dose_in_words(lang, n, words):
    text = render("dose.confirmation", lang, name="Rina", dose=n, vaccine="COVISHIELD", next_due="30 Sep")
    assert words in text and "ডোজ ১" not in text, text


@pytest.mark.parametrize("lang", ["en", "bn", "hi"])
def test_the_language_menu_names_each_language_in_its_own_script(lang):
    menu = render("ussd.lang_menu", lang).splitlines()
    assert menu[1:] == ["1 English", "2 বাংলা", "3 हिन्दी"]


@pytest.mark.parametrize("lang, own", [("bn", "বাংলাতেও লেখা যায়"), ("hi", "हिन्दी में भी लिखें")])
def test_help_lists_the_command_words_of_the_readers_language_and_each_one_parses(lang, own):
    from tikabot.i18n.catalog import fold, keyword_aliases
    from tikabot.i18n.encoding import sms_info

    words = render("staff.help_words", lang)
    assert words.startswith(own)
    pairs = [pair.strip(" ।").split("=") for pair in words.split(":", 1)[1].split(",")]
    aliases = keyword_aliases()
    for word, command in pairs:
        assert aliases[fold(word)] == command, (word, command)
    commands = {c for _, c in pairs}
    assert {"START", "DOSE", "UNDO", "VERIFY", "COUNT", "END", "AEFI", "ELSEWHERE"} <= commands
    # each HELP SMS is a staff reply: at most 2 parts (tikabot templates check)
    assert sms_info(render("staff.help", lang)).segments <= 2
    assert sms_info(words).segments <= 2
