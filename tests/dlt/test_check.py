"""`tikabot templates check` proves each SMS template can be registered for DLT."""
from __future__ import annotations

from click.testing import CliRunner

from tikabot.cli.main import main
from tikabot.dlt.check import problems
from tikabot.i18n.catalog import render
from tikabot.i18n.places import PlaceName
from tikabot.i18n.samples import sample_params


def test_a_site_name_over_thirty_characters_makes_the_booking_unregistrable():
    long_site = PlaceName("Basirhat Subdivisional Hospital and Primary Health Centre",
                          en="Basirhat Subdivisional Hospital and Primary Health Centre")
    params = {**sample_params("appt.booked", "en"), "site": long_site}
    found = problems("appt.booked", "en", params, render("appt.booked", "en", **params))
    assert found == ["variable {site} can be 57 characters (DLT allows 30)"]


def test_side_by_side_variables_are_one_variable_that_must_fit_too():
    params = sample_params("staff.dose_recorded", "en")
    assert problems("staff.dose_recorded", "en", params, render("staff.dose_recorded", "en", **params)) == []
    params["name"] = "Rahimabibi Khatun Sultana"
    assert problems("staff.dose_recorded", "en", params, render("staff.dose_recorded", "en", **params)) == [
        "variables side by side {ref} {name} can be 36 characters (DLT allows 30)"]


def test_a_rendered_message_that_differs_from_the_approved_text_is_reported():
    params = sample_params("otp.code", "bn")
    rendered = render("otp.code", "bn", **params)
    assert problems("otp.code", "bn", params, rendered) == []
    approved = {("otp.code", "bn"): ["{#var#} আপনার কোড।"]}  # what the portal approved is not what we send
    assert problems("otp.code", "bn", params, rendered, approved) == [
        "the rendered message does not match the approved DLT text"]


def test_the_check_lists_dlt_problems_and_with_dlt_fails_on_them():
    plain = CliRunner().invoke(main, ["templates", "check"])
    assert plain.exit_code == 0, plain.output
    assert "DLT: variable {allowed} can be 36 characters (DLT allows 30)" in plain.output
    assert "DLT: free text (a coordinator's own words)" in plain.output
    summary = next(line for line in plain.output.splitlines() if line.startswith("DLT: "))
    assert "templates not registrable as they are" in summary and "--dlt makes these fail" in summary
    strict = CliRunner().invoke(main, ["templates", "check", "--dlt", "--quiet"])
    assert strict.exit_code == 1
    assert "staff.not_allowed" in strict.output and "appt.booked" not in strict.output
