"""Every USSD screen fits 160 octets (182 GSM-7, 80 UCS-2 characters) in every language, in pages where
needed; menus tested without Redis or a database."""
from datetime import date, datetime, timezone

import pytest

from tikabot.flows import ussd_menus
from tikabot.flows.effects import RecordDose, Recipient
from tikabot.flows.facts import BeneficiaryFact, SessionFact, StaffFacts
from tikabot.flows.ussd_menus import MAX_SCREEN, MenuFacts, nav, step, vaccine_page
from tikabot.i18n.catalog import LANGUAGES, all_keys, render
from tikabot.i18n.samples import sample_params

USSD_KEYS = [k for k in all_keys() if k.startswith("ussd.")]
NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_fits_with_its_menu_lines(lang):
    extra = len("\n" + render("ussd.next_dose", lang) + "\n" + nav(lang, "back", "menu"))
    for key in USSD_KEYS:
        if key.startswith("ussd.nav_"):
            continue
        text = render(key, lang, **sample_params(key, lang))
        assert len(text) + extra <= MAX_SCREEN, (key, lang, len(text) + extra)
        assert nav(lang, "back") not in text and nav(lang, "menu") not in text, key  # added by the code


@pytest.mark.parametrize("lang, line", [("en", "0 Back 00 Menu"), ("bn", "0 পিছনে 00 মেনু"), ("hi", "0 पीछे 00 मेनू")])
def test_the_navigation_line_is_in_the_readers_language_with_ascii_keys(lang, line):
    assert nav(lang, "back", "menu") == line


def test_pick_vaccine_header_fits_its_budget():
    for lang in LANGUAGES:
        assert len(render("ussd.pick_vaccine", lang)) <= ussd_menus.HEADER_BUDGET


def test_a_long_vaccine_list_is_paginated_with_more_and_back():
    names = tuple(f"VACCINE{n:02d}-LONGNAME" for n in range(1, 31))
    seen, page = [], 0
    while True:
        text, shown = vaccine_page(render("ussd.pick_vaccine", "bn"), names, page, "bn")
        assert len(text) <= MAX_SCREEN and shown
        assert shown == vaccine_page("", names, page, "en")[1]  # the same choices in every language
        seen += [name for _, name in shown]
        if not text.endswith("98 আরও"):
            assert text.endswith("0 পিছনে")
            break
        page += 1
    assert tuple(seen) == names and page > 0


def _staff_facts(**kw) -> MenuFacts:
    ben = BeneficiaryFact(id=7, ref="12345678", name="Rahima Khatun", phone="+919830011111", language="bn",
                          site_id=1, site_name="Kalyani PHC")
    staff = StaffFacts(staff_id=1, phone="+919830000001", language="en", site_id=1, site_name="Kalyani PHC",
                       today=date(2025, 6, 12), beneficiary=ben, **kw)
    return MenuFacts(now=NOW, language="en", staff=staff, vaccines=("COVISHIELD", "COVAXIN"))


def _walk(inputs, facts):
    state, screens, effects = None, [], []
    for n in range(len(inputs) + 1):
        result = step(state, inputs[:n], facts)
        state, effects = result.state, effects + result.effects
        screens.append(result.screen)
    return state, screens, effects


def test_with_a_session_open_the_dose_goes_straight_to_confirm():
    facts = _staff_facts(session=SessionFact(3, "COVISHIELD", "A12", True))
    state, screens, effects = _walk(["1", "12345678", "1"], facts)
    assert screens[-1] == render("ussd.confirm_dose", "en", ref="12345678", name="Rahima", dose=1,
                                 vaccine="COVISHIELD", lot="A12") + "\n0 Back"
    assert effects == []  # nothing is recorded before "1 Yes"
    _, screens, effects = _walk(["1", "12345678", "1", "1"], facts)
    assert effects == [RecordDose(beneficiary_id=7, ref="12345678", dose_number=1, vaccine="COVISHIELD", lot="A12",
                                  site_id=1, confirm_to=Recipient("Rahima", "+919830011111", "bn"))]


def test_back_from_the_main_menu_and_menu_from_anywhere():
    facts = _staff_facts()
    _, screens, _ = _walk(["0"], facts)
    assert screens[1].endswith(screens[0])
    _, screens, _ = _walk(["1", "12345678", "00"], facts)
    assert screens[-1] == screens[0]


def test_bengali_digits_are_read_as_ascii():
    _, screens, _ = _walk(["১", "১২৩৪৫৬৭৮"], _staff_facts())
    assert screens[-1].startswith("12345678 Rahima")


LONG_BN = ("আপনার পার্শ্বপ্রতিক্রিয়ার কথা নথিভুক্ত হয়েছে, স্বাস্থ্যকর্মীকে জানানো হয়েছে। "
           "এখনই কাছের স্বাস্থ্যকেন্দ্রে যান, দরকারে ১০৮ নম্বরে ফোন করুন।")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_is_shown_in_pages_that_each_fit_160_octets(lang):
    """80 UCS-2 characters for Bengali and Hindi, 182 GSM-7 for English, CON/END included."""
    for key in USSD_KEYS:
        text = render(key, lang, **sample_params(key, lang)) + "\n" + nav(lang, "back", "menu")
        for page in ussd_menus.pages(text, lang):
            assert ussd_menus.fits(page), (key, lang, page)


def test_a_bengali_screen_fits_80_characters_with_its_prefix_and_english_182():
    assert ussd_menus.fits("ক" * 76) and not ussd_menus.fits("ক" * 77)  # 80 with "CON "
    assert ussd_menus.fits("a" * 178) and not ussd_menus.fits("a" * 179)


def test_a_long_screen_is_cut_between_words_with_more_on_every_page_but_the_last():
    shown = ussd_menus.pages(LONG_BN, "bn")
    assert len(shown) > 1 and all(ussd_menus.fits(page) for page in shown)
    assert all(page.endswith("\n98 আরও") for page in shown[:-1]) and "98" not in shown[-1]
    assert " ".join(page.removesuffix("\n98 আরও") for page in shown) == LONG_BN


def test_a_menu_is_cut_between_its_lines():
    menu = "কী হয়েছে?\n" + "\n".join(f"{n} অনেক লম্বা একটি উত্তর নম্বর {n}" for n in range(1, 6))
    for page in ussd_menus.pages(menu, "bn"):
        body = page.removesuffix("\n98 আরও")
        assert all(line.split(" ")[0].isdigit() or line == "কী হয়েছে?" for line in body.split("\n")), page


def test_a_long_screen_that_ends_the_session_ends_it_after_its_last_page():
    """Transcript: the screen's first page keeps the session open, 98 shows the rest and ends it."""
    facts = MenuFacts(now=NOW, language="bn")
    inputs, shown = ["1"], [ussd_menus.ended(None, ["1"], LONG_BN, facts)]
    assert not shown[0].done and shown[0].screen.endswith("\n98 আরও")
    assert ussd_menus.paging(shown[0].state, ["1", "98"]) and not ussd_menus.paging(shown[0].state, ["1", "2"])
    while not shown[-1].done:
        inputs.append("98")
        shown.append(ussd_menus.step(shown[-1].state, inputs, facts))
    assert [s.screen for s in shown] == ussd_menus.pages(LONG_BN, "bn")

