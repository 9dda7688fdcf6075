"""What a DLT portal (and the aggregator behind a domestic route) takes as a template, in one place.

TRAI's rules, as operators and aggregators apply them (../PROVIDERS.md, "India"): a variable
carries at most 30 characters (some aggregators allow 40); no two variables side by side (some
aggregators have refused them since 2023); a template does not end in a bare variable; the
sender's brand stands in the text. Each domestic route names its rules here (ROUTE_RULES); a route
not named gets the strictest (STRICT); side by side variables inside a command the reader types
back ("DOSE {ref} {missing}") cannot be split and are registered as one variable that must fit. And `tikabot templates check --dlt` checks every template
against the strictest rules of the configured domestic routes.

The brand: every message on a domestic route ends with the signature `dlt.brand` in the reader's
language (" - WB Health"); it is registered with each template, added by the route before
sending (queue/routes/send.py) and it is also what keeps a template from ending in a variable.
"""
from __future__ import annotations

from dataclasses import dataclass

from tikabot.dlt.pattern import pieces, variables
from tikabot.i18n.catalog import render, typed_fields

BRAND_KEY = "dlt.brand"
TRAILING = " .,;:!?।\n"  # punctuation after the last variable does not make it less bare


@dataclass(frozen=True)
class TemplateRules:
    max_var_chars: int = 30
    side_by_side: bool = False  # may two variables stand with nothing but spaces between them?
    ends_in_variable: bool = False  # may the text end in a variable?
    brand: bool = True  # must the sender's brand stand in the text?


STRICT = TemplateRules()
ROUTE_RULES: dict[str, TemplateRules] = {
    "exotel": TemplateRules(max_var_chars=30),  # Exotel's portal: TRAI's 30 characters
}


def rules_for(route: str) -> TemplateRules:
    return ROUTE_RULES.get(route, STRICT)


def strictest(routes) -> TemplateRules:
    """The rules every one of these routes accepts (STRICT when none is named)."""
    chosen = [rules_for(r) for r in routes] or [STRICT]
    return TemplateRules(max_var_chars=min(r.max_var_chars for r in chosen),
                         side_by_side=all(r.side_by_side for r in chosen),
                         ends_in_variable=all(r.ends_in_variable for r in chosen),
                         brand=any(r.brand for r in chosen))


def brand(lang: str) -> str:
    return render(BRAND_KEY, lang)


def signed(text: str, lang: str) -> str:
    """A catalog text (with {placeholders}) as a domestic route registers it: with the brand."""
    return text + brand(lang).replace("{", "{{").replace("}", "}}")


def sign_body(body: str, lang: str) -> str:
    """A rendered message body with the brand (no placeholders to escape)."""
    return body + brand(lang)


def breaks(text: str, lang: str, rules: TemplateRules = STRICT) -> list[str]:
    """The rules a registered catalog text (signed, with {placeholders}) breaks; lengths are checked
    with values by dlt/check.py."""
    found = []
    literals, names = pieces(text)
    typed = typed_fields(text)  # "DOSE {ref} {missing}": a command, registered as one variable
    if not rules.side_by_side:
        found += [f"variables side by side: {{{names[i - 1]}}} {{{names[i]}}}"
                  for i in range(1, len(names)) if not literals[i].strip()
                  and not {names[i - 1], names[i]} <= typed]
    if names and not rules.ends_in_variable and not literals[-1].strip(TRAILING):
        found.append(f"ends in a bare variable {{{names[-1]}}}")
    if rules.brand and brand(lang).strip(" -\n") not in text:
        found.append(f"no brand ({BRAND_KEY}) in the text")
    return found


def length_variables(text: str, rules: TemplateRules) -> list[str]:
    """The variables whose values must fit rules.max_var_chars: side by side ones as one, as the
    portal registers them (a command's "{ref} {missing}" must fit 30 characters together)."""
    return variables(text)[1]
