"""The DLT text of a catalog entry, and matching a message against a registered text."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from tikabot.dlt.pattern import dlt_text, matches, side_by_side, variables

CASES = [
    ("Dose {dose} on {date}.", "Dose {#var#} on {#var#}.", []),
    ("Recorded: {ref} {name}, dose {dose}.", "Recorded: {#var#}, dose {#var#}.", ["{ref} {name}"]),
    ("{code} is your code. Valid {minutes} min.", "{#var#} is your code. Valid {#var#} min.", []),
    ("No variables at all.", "No variables at all.", []),
    ("টিকা {date} তারিখে, {slot}, {site}-এ।", "টিকা {#var#} তারিখে, {#var#}, {#var#}-এ।", []),
    ("Braces {{kept}} {x}", "Braces {kept} {#var#}", []),
]


@pytest.mark.parametrize("text, registered, merged", CASES)
def test_catalog_text_to_dlt_text(text, registered, merged):
    assert dlt_text(text) == registered
    assert side_by_side(text) == merged
    literals, names = variables(text)
    assert len(literals) == len(names) + 1


@pytest.mark.parametrize("body, ok", [
    ("Dose 2 on 30 September 2026.", True),
    ("Dose 2 on 30 September 2026. ", False),          # spacing counts
    ("Dose  on 30 September 2026.", False),             # an empty variable is not the template
    ("Dose 2 on " + "x" * 31 + ".", False),             # over 30 characters in one variable
    ("Dose 2 on " + "x" * 30 + ".", True),
    ("dose 2 on 30 September 2026.", False),            # the fixed text is matched exactly
])
def test_a_message_matches_its_registered_text_exactly(body, ok):
    assert matches("Dose {#var#} on {#var#}.", body) is ok


@given(st.text(min_size=1, max_size=30).filter(lambda v: "\n" not in v), st.text(min_size=1, max_size=30))
def test_any_values_of_thirty_characters_or_fewer_match(first, second):
    assert matches("Ref {#var#}: due {#var#}!", f"Ref {first}: due {second}!")
