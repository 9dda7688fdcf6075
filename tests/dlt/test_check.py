"""`tikabot templates check` proves each SMS template can be registered for DLT."""
from __future__ import annotations

from click.testing import CliRunner

from tikabot.cli.main import main
from tikabot.dlt.check import problems
from tikabot.dlt.rules import TemplateRules, brand, breaks, rules_for, signed, strictest
from tikabot.dlt.templates import registrable
from tikabot.i18n.catalog import render
from tikabot.i18n.places import PlaceName
from tikabot.i18n.samples import SAMPLE_PARAMS, sample_params


def test_a_site_name_over_thirty_characters_makes_the_booking_unregistrable():
    long_site = PlaceName("Basirhat Subdivisional Hospital and Primary Health Centre",
                          en="Basirhat Subdivisional Hospital and Primary Health Centre")
    params = {**sample_params("appt.booked", "en"), "site": long_site}
    found = problems("appt.booked", "en", params, render("appt.booked", "en", **params))
    assert found == ["variable {site} can be 57 characters (DLT allows 30)"]


def test_two_variables_side_by_side_are_refused_unless_they_are_a_command():
    assert breaks(signed("Verified: {ref} {name}.", "en"), "en") == ["variables side by side: {ref} {name}"]
    for lang in ("en", "bn", "hi"):  # the vaccinator reads "Verified: 7012345678 (Subhrajyoti)."
        params = sample_params("staff.otp_ok", lang)
        assert problems("staff.otp_ok", lang, params, render("staff.otp_ok", lang, **params)) == []
    params = sample_params("staff.earlier_dose_missing", "en")  # "DOSE {ref} {missing}" is typed back whole
    assert problems("staff.earlier_dose_missing", "en", params,
                    render("staff.earlier_dose_missing", "en", **params)) == []


def test_each_rule_of_a_route_is_checked_in_one_place():
    strict = TemplateRules()
    assert breaks("Your code {code}", "en", TemplateRules(brand=False)) == ["ends in a bare variable {code}"]
    assert breaks("Dose {dose} {vaccine}. Thanks", "en", TemplateRules(brand=False)) == [
        "variables side by side: {dose} {vaccine}"]
    assert breaks("Your code {code}.", "en", strict) == ["ends in a bare variable {code}",
                                                        "no brand (dlt.brand) in the text"]
    assert breaks(signed("Your code {code}.", "en"), "en", strict) == []  # the brand ends it
    assert rules_for("exotel").max_var_chars == 30 and rules_for("some-new-aggregator") == strict
    assert strictest(["exotel", "x"]) == strict


def test_every_registered_text_carries_the_brand_and_no_bare_variable_at_the_end():
    for item in registrable():
        assert item.text.endswith(brand(item.language).replace("{", "{{")), item
        assert "ends in a bare variable" not in " ".join(breaks(item.text, item.language)), item


def test_a_rendered_message_that_differs_from_the_approved_text_is_reported():
    params = sample_params("otp.code", "bn")
    rendered = render("otp.code", "bn", **params)
    assert problems("otp.code", "bn", params, rendered) == []
    approved = {("otp.code", "bn"): ["{#var#} আপনার কোড।"]}  # what the portal approved is not what we send
    assert problems("otp.code", "bn", params, rendered, approved) == [
        "the rendered message does not match the approved DLT text"]


def test_every_template_in_every_language_can_be_registered_so_ci_runs_the_check_with_dlt():
    strict = CliRunner().invoke(main, ["templates", "check", "--dlt", "--quiet"])
    assert strict.exit_code == 0, strict.output
    summary = next(line for line in strict.output.splitlines() if line.startswith("DLT: "))
    assert summary.startswith("DLT: 0 templates not registrable"), summary
    assert "DLT: free text (a coordinator's own words)" in strict.output  # said, not failed


def test_the_check_lists_dlt_problems_and_with_dlt_fails_on_them(tmp_path, monkeypatch):
    long_site = "Basirhat Subdivisional Hospital and Primary Health Centre"
    monkeypatch.setitem(SAMPLE_PARAMS, "site", PlaceName(long_site, en=long_site, bn=long_site, hi=long_site))
    plain = CliRunner().invoke(main, ["templates", "check"])
    assert "DLT: variable {site} can be 57 characters (DLT allows 30)" in plain.output
    summary = next(line for line in plain.output.splitlines() if line.startswith("DLT: "))
    assert "templates not registrable as they are" in summary and "--dlt makes these fail" in summary
    strict = CliRunner().invoke(main, ["templates", "check", "--dlt", "--quiet"])
    assert strict.exit_code == 1
    assert "appt.reminder_morning" in strict.output and "staff.otp_ok" not in strict.output
