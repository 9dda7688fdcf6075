"""Bengali and Hindi coordinators read the bot in their own language (Staff.language): replies,
usage and refusals, buttons and the manual-mode alert. Command names, site codes, refs, lots and
phone numbers stay as they are; nothing else is left in English."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.languages import assert_reads_as, english_words
from tests.support.worlds.bot import COORDINATOR_ID, message_update
from tikabot.i18n import catalog
from tikabot.i18n.numbers import native_digits
from tikabot.store.models import OutboundMessage, Site, Staff


BN_ID, HI_ID, BN_VACCINATOR_ID, HI_RETIRED_ID = 222, 333, 444, 666


@pytest.fixture
def readers(bot_services, district):
    with bot_services.transaction() as s:
        for code, bn, hi in (("KAL01", "কল্যাণী প্রাথমিক স্বাস্থ্যকেন্দ্র", "कल्याणी प्राथमिक स्वास्थ्य केंद्र"),
                             ("BAR02", "বারাসত মহকুমা হাসপাতাল", "बारासात अनुमंडल अस्पताल")):
            site = s.scalar(select(Site).where(Site.code == code))
            site.name_bn, site.name_hi = bn, hi
        s.add_all([
            Staff(phone="+919830000011", name="Asha Coordinator", role="coordinator", telegram_user_id=BN_ID,
                  language="bn"),
            Staff(phone="+919830000012", name="Asha Coordinator", role="coordinator", telegram_user_id=HI_ID,
                  language="hi"),
            Staff(phone="+919830000013", name="Rina Vaccinator", role="vaccinator", telegram_user_id=BN_VACCINATOR_ID,
                  language="bn"),
            Staff(phone="+919830000014", name="Asha Coordinator", role="coordinator", telegram_user_id=HI_RETIRED_ID,
                  language="hi", active=False),
        ])
    return district


def test_every_bot_entry_in_bengali_and_hindi_keeps_only_command_words_and_codes_in_english():
    keys = [k for k in catalog.all_keys() if k.startswith("bot.")]
    assert len(keys) > 50
    for lang in ("bn", "hi"):
        for key in keys:
            text = re.sub(r"\{[^{}]*\}", " ", catalog.template(key, lang))
            assert not english_words(text), (lang, key, english_words(text))
    assert len(catalog.render("bot.help", "bn")) < 4096 and len(catalog.render("bot.help", "hi")) < 4096


def test_the_command_menu_is_offered_in_bengali_and_hindi_too(bot):
    menus = bot.sim.sim.telegram.commands_by_language
    assert [c["command"] for c in menus["bn"]] == [c["command"] for c in bot.sim.sim.telegram.commands]
    assert menus["bn"][0]["description"] == "আজ সব কেন্দ্রের অবস্থা"
    assert menus["hi"][0]["description"] == "आज सभी केंद्रों की स्थिति"
    for lang in ("bn", "hi"):
        for command in menus[lang]:
            assert not english_words(command["description"]), command


@pytest.mark.parametrize("lang, user", [("bn", BN_ID), ("hi", HI_ID)])
def test_help_status_and_site_in_the_coordinators_language(bot, readers, lang, user):
    help_text = bot.send("/help", user_id=user)["params"]["text"]
    for command in ("/status", "/site CODE", "/manual CODE on|off", "/retry all|ID", "/export", "/help"):
        assert command in help_text
    assert_reads_as(help_text, lang)

    status = bot.send("/status", user_id=user)["params"]["text"]
    assert_reads_as(status, lang)
    if lang == "bn":
        assert "জেলা: ৫ জনের মধ্যে ২ জন (৪০%)" in status and "২টি কেন্দ্র: ১টি চালু" in status
        assert "KAL01 কল্যাণী প্রাথমিক স্বাস্থ্যকেন্দ্র: ২/৪ (৫০%), শেষ রিপোর্ট: " in status
    else:
        assert "ज़िला: 5 में से 2 (40%)" in status and "2 केंद्र: 1 चालू" in status
        assert "BAR02 बारासात अनुमंडल अस्पताल: 0/1 (0%), आखिरी रिपोर्ट: अभी तक कोई रिपोर्ट नहीं - शुरू नहीं हुआ" in status

    site = bot.send("/site kal01", user_id=user)["params"]["text"]
    assert_reads_as(site, lang)
    assert "COVISHIELD" in site and "4120Z025" in site and "+91********02" in site
    assert ("টিকাকর্মী" if lang == "bn" else "टीकाकर्मी") in site

    for wrong in ("/site", "/site NOPE", "/manual KAL01 maybe", "/retry everything", "/broadcast KAL01",
                  "/export 2024-02-30", "/export KAL01 BAR02", "hello?", "/pending", "/failed"):
        text = bot.send(wrong, user_id=user)["params"]["text"]
        if wrong == "/failed":  # in people's words: no provider codes, template names or ids
            assert not re.search(r"30003|appt\.", text), text
            assert ("ফোন বন্ধ বা নেটওয়ার্কের বাইরে" if lang == "bn" else "फ़ोन बंद है या नेटवर्क से बाहर") in text
            text = re.sub(r"Person \d", "", text)  # the beneficiary's name
        assert_reads_as(text, lang)


def test_a_refusal_is_in_the_language_of_the_staff_record_or_the_telegram_app(bot, readers):
    bengali = bot.send("/status", user_id=BN_VACCINATOR_ID)["params"]["text"]
    assert "শুধু জেলা ও রাজ্যের সমন্বয়কারীদের জন্য" in bengali
    # the Telegram id stays in ASCII digits, as an administrator types it into staff.csv
    assert f"আইডি {BN_VACCINATOR_ID}।" in bengali
    assert_reads_as(bengali.replace(str(BN_VACCINATOR_ID), ""), "bn")
    hindi = bot.send("/status", user_id=HI_RETIRED_ID)["params"]["text"]
    assert "केवल ज़िला और राज्य समन्वयकों के लिए" in hindi
    assert_reads_as(hindi.replace(str(HI_RETIRED_ID), ""), "hi")
    update = message_update(777, "/help")
    update["message"]["from"]["language_code"] = "hi"
    before = len(bot.replies(777))
    bot.sim.sim.inject_update(update)
    assert "समन्वयकों" in bot.wait_replies(777, before + 1)[before]["params"]["text"]
    assert "only for district" in bot.send("/status", user_id=999)["params"]["text"]  # no record, no hint


def test_buttons_and_their_answers_in_the_coordinators_language(bot, bot_services, readers):
    preview = bot.send("/broadcast KAL01 Sessions start at 9 today.", user_id=BN_ID)
    text = preview["params"]["text"]
    assert text.startswith("KAL01: ২ জন কর্মীকে এই SMS পাঠাবেন?") and "(প্রত্যেককে ১টি SMS, GSM-7)" in text
    send, cancel = preview["params"]["reply_markup"]["inline_keyboard"][0]
    assert (send["text"], cancel["text"]) == ("পাঠান", "বাতিল")
    assert send["callback_data"].startswith("bc:yes:") and cancel["callback_data"].startswith("bc:no:")
    assert bot.press(send["callback_data"], user_id=BN_ID)["params"]["text"] == "২ জন কর্মীকে পাঠানো হয়েছে। মেসেজগুলোর কী হল, পরে জানাব।"

    preview = bot.send("/broadcast ALL Stock arrives at noon", user_id=HI_ID)
    send, cancel = preview["params"]["reply_markup"]["inline_keyboard"][0]
    assert (send["text"], cancel["text"]) == ("भेजें", "रद्द करें")
    # ALL: the staff of the coordinator's sites (a vaccinator of no site is at none of them)
    assert preview["params"]["text"].startswith("सभी केंद्र: 3 कर्मचारियों को यह SMS भेजें?")
    assert catalog.render("bot.broadcast_sent", "hi", count=1) == "1 कर्मचारी को भेज दिया गया।"  # the count agrees
    assert bot.press(cancel["callback_data"], user_id=HI_ID)["params"]["text"] == "संदेश रद्द कर दिया गया। कुछ नहीं भेजा गया।"

    with bot_services.transaction() as s:
        s.add_all([Site(code=f"S{i:02d}", name=f"Site {i}", name_bn=f"কেন্দ্র {native_digits(str(i), 'bn')}",
                        district="Nadia") for i in range(20)])
    first = bot.send("/status", user_id=BN_ID)
    assert "(পৃষ্ঠা ১, মোট ৩)" in first["params"]["text"]
    [[next_button]] = first["params"]["reply_markup"]["inline_keyboard"]
    assert (next_button["text"], next_button["callback_data"]) == ("পরের >", "pg:status:2")
    second = bot.press(next_button["callback_data"], user_id=BN_ID)
    assert [b["text"] for b in second["params"]["reply_markup"]["inline_keyboard"][0]] == ["< আগের", "পরের >"]
    assert_reads_as(second["params"]["text"], "bn")


def test_manual_mode_replies_and_the_alert_say_on_and_off_in_words(bot, bot_services, readers):
    text = bot.send("/manual KAL01 on", user_id=BN_ID)["params"]["text"]
    assert text == "KAL01 এখন ম্যানুয়াল মোডে। ২ জন কর্মীকে SMS-এ কাগজের রেজিস্টারে ডোজ লিখে রাখতে বলা হয়েছে।"
    assert_reads_as(bot.send("/manual KAL01 on", user_id=HI_ID)["params"]["text"], "hi")
    with bot_services.sessions() as s:
        alerts = {m.recipient: m.body for m in s.scalars(select(OutboundMessage).where(
            OutboundMessage.template == "alert.manual_mode"))}
    assert alerts[str(BN_ID)] == "কল্যাণী প্রাথমিক স্বাস্থ্যকেন্দ্র (KAL01) ম্যানুয়াল মোড: চালু"
    assert alerts[str(HI_ID)] == "कल्याणी प्राथमिक स्वास्थ्य केंद्र (KAL01) मैनुअल मोड: चालू"
    assert alerts["111"].endswith("manual mode: ON")
    bot.send("/manual KAL01 off", user_id=HI_ID)
    with bot_services.sessions() as s:
        bodies = [m.body for m in s.scalars(select(OutboundMessage).where(
            OutboundMessage.template == "alert.manual_mode", OutboundMessage.recipient == str(HI_ID)))]
    assert sorted(b.rsplit(" ", 1)[-1] for b in bodies) == ["चालू", "बंद"]


# A coordinator's /staff add, refused on every path the bot has, then accepted: what each reader gets.
STAFF_ADD = {
    "en": [
        ("/staff add KAL01", "Send /staff add CODE PHONE NAME, for example /staff add KAL01 9830012345 Rina Das. "
                             "Add verifier at the end for a verifier."),
        ("/staff add DARJ01 9830077777 Rina Das", "DARJ01 is not one of your sites. /status lists yours."),
        ("/staff add KAL01 98300 Rina Das", "Not added: 98300 is not a phone number: give the 10-digit mobile number."),
        ("/staff add KAL01 9830000001 Rina Das", "Not added: +91********01 is a coordinator's phone: a coordinator "
                                                 "cannot also report doses."),
        ("/staff add KAL01 9830077777 Rina Das verifier", "Rina Das (+91********77) is now a verifier at KAL01 "
         "Kalyani PHC. Their next SMS is answered as staff: ask them to send START <VACCINE> <LOT>, then DOSE <REF>."),
    ],
    "bn": [
        ("/staff add KAL01", "/staff add CODE PHONE NAME পাঠান, যেমন /staff add KAL01 9830012345 রিনা দাস। "
                             "যাচাইকারী যোগ করতে শেষে VERIFIER লিখুন।"),
        ("/staff add DARJ01 9830077777 রিনা দাস", "DARJ01 আপনার কেন্দ্রগুলির মধ্যে নেই। আপনার কেন্দ্রের কোড /status-এ পাবেন।"),
        ("/staff add KAL01 98300 রিনা দাস", "যোগ করা হয়নি: 98300 সঠিক ফোন নম্বর নয়: ১০ সংখ্যার মোবাইল নম্বর দিন।"),
        ("/staff add KAL01 9830000001 রিনা দাস", "যোগ করা হয়নি: +91********01 একজন সমন্বয়কারীর ফোন: সমন্বয়কারী নিজে "
                                                 "ডোজ নথিভুক্ত করতে পারেন না।"),
        ("/staff add KAL01 9830077777 রিনা দাস VERIFIER", "রিনা দাস (+91********77) এখন যাচাইকারী, কেন্দ্র: KAL01 "
         "কল্যাণী প্রাথমিক স্বাস্থ্যকেন্দ্র। তাঁর পরের SMS কর্মী হিসেবে গণ্য হবে: তাঁকে START <VACCINE> <LOT> পাঠাতে বলুন, "
         "তারপর DOSE <REF>।"),
    ],
    "hi": [
        ("/staff add KAL01", "/staff add CODE PHONE NAME भेजें, जैसे /staff add KAL01 9830012345 रीना दास। "
                             "सत्यापनकर्ता जोड़ने के लिए अंत में VERIFIER लिखें।"),
        ("/staff add DARJ01 9830077777 रीना दास", "DARJ01 आपके केंद्रों में नहीं है। आपके केंद्रों के कोड /status में हैं।"),
        ("/staff add KAL01 98300 रीना दास", "नहीं जोड़ा गया: 98300 सही फ़ोन नंबर नहीं है: 10 अंकों का मोबाइल नंबर दें।"),
        ("/staff add KAL01 9830000001 रीना दास", "नहीं जोड़ा गया: +91********01 एक समन्वयक का फ़ोन है: समन्वयक खुद डोज़ "
                                                 "दर्ज नहीं कर सकते।"),
        ("/staff add KAL01 9830077777 रीना दास VERIFIER", "रीना दास (+91********77) अब KAL01 कल्याणी प्राथमिक स्वास्थ्य "
         "केंद्र पर सत्यापनकर्ता हैं। उनका अगला SMS कर्मचारी का माना जाएगा: उनसे START <VACCINE> <LOT> भेजने को कहें, "
         "फिर DOSE <REF>।"),
    ],
}
TYPED = re.compile(r"\b98300\b|\b9830012345\b")  # numbers the coordinator typed or is shown to type, as typed


@pytest.mark.parametrize("lang, user", [("en", COORDINATOR_ID), ("bn", BN_ID), ("hi", HI_ID)])
def test_staff_add_refuses_in_the_coordinators_language_on_every_path(bot, bot_services, readers, lang, user):
    def staff_rows():
        with bot_services.sessions() as s:
            return sorted((m.phone, m.role, m.site_id, m.active) for m in s.scalars(select(Staff)))

    before = staff_rows()
    *refusals, accepted = STAFF_ADD[lang]
    for command, expected in refusals:
        assert bot.send(command, user_id=user)["params"]["text"] == expected, command
        if lang != "en":
            assert_reads_as(TYPED.sub("", expected), lang)
    assert staff_rows() == before  # a refusal adds nobody and changes nobody: the coordinator stays one
    command, expected = accepted
    assert bot.send(command, user_id=user)["params"]["text"] == expected
    with bot_services.sessions() as s:
        added = s.scalar(select(Staff).where(Staff.phone == "+919830077777"))
        assert (added.name, added.role, added.site.code) == (command.split(" ", 4)[4].rsplit(" ", 1)[0], "verifier",
                                                             "KAL01")


REASONS = {  # what add_substitute refuses that the bot's own checks never let through (the command line does)
    "phone_missing": dict(phone=" ", name="Rina Das"),
    "name_missing": dict(phone="9830077777", name="  "),
    "role_unknown": dict(phone="9830077777", name="Rina Das", role="nurse"),
    "language_unknown": dict(phone="9830077777", name="Rina Das", language="ta"),
}


@pytest.mark.parametrize("why", REASONS)
def test_every_reason_a_substitute_is_refused_reads_in_bengali_and_hindi(bot_services, district, why):
    from tikabot.imports.substitute import CannotAdd, add_substitute

    with bot_services.transaction() as s:
        site = s.scalar(select(Site).where(Site.code == "KAL01"))
        with pytest.raises(CannotAdd) as refused:
            add_substitute(s, site=site, actor="test", **REASONS[why])
    assert refused.value.key == f"bot.staff_cannot_{why}"
    assert str(refused.value) == refused.value.text("en") and not refused.value.text("en").endswith(".")
    for lang in ("bn", "hi"):
        text = catalog.render("bot.staff_cannot", lang, reason=refused.value.text(lang))
        assert_reads_as(text.replace("en, bn, hi", ""), lang)
