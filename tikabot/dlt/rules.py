"""What a DLT portal (and the aggregator behind a domestic route) takes as a template, in one place.

TRAI's rules, as operators and aggregators apply them (../PROVIDERS.md, "India"): a variable
carries at most 30 characters (some aggregators allow 40); no two variables side by side (some
aggregators have refused them since 2023); a template does not end in a bare variable; the
sender's brand stands in the text. Each domestic route names its rules here (ROUTE_RULES); a route
not named gets the strictest (STRICT); side by side variables inside a command the reader types
back ("DOSE {ref} {missing}") cannot be split and are registered as one variable that must fit. And `tikabot templates check --dlt` checks every template
against the strictest rules of the configured domestic routes.

The brand: every message on a domestic route ends with a signature in the reader's language,
" - " and the department's name from the settings (TIKABOT_DLT_BRAND, _EN/_BN/_HI: Config.dlt_brand),
or the catalog's `dlt.brand` (" - WB Health") for a language the settings do not name. It is
registered with each template (`tikabot dlt export`), added by the route before sending
(queue/routes/send.py), counted in every length `tikabot templates check` measures, and it is also
what keeps a template from ending in a variable. The settings reach this module as a `Brand`, made
from the config by whoever holds it: nothing here reads the environment.
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


SEPARATOR = " - "  # between a message and the department's name, as the catalog's dlt.brand writes it


@dataclass(frozen=True)
class Brand:
    """The signature a domestic route ends every message with, by language."""
    names: tuple[tuple[str, str], ...] = ()  # (language, department's name) from the settings

    @classmethod
    def of(cls, config) -> "Brand":
        """The brand a configuration sets (Config.dlt_brand); the catalog's where it sets none."""
        return cls(tuple(sorted((getattr(config, "dlt_brand", None) or {}).items())))

    def text(self, lang: str) -> str:
        name = dict(self.names).get(lang)
        return render(BRAND_KEY, lang) if name is None else SEPARATOR + name


CATALOG = Brand()  # no settings: the catalog's dlt.brand in every language


def brand(lang: str, chosen: Brand = CATALOG) -> str:
    return chosen.text(lang)


def signed(text: str, lang: str, chosen: Brand = CATALOG) -> str:
    """A catalog text (with {placeholders}) as a domestic route registers it: with the brand."""
    return text + brand(lang, chosen).replace("{", "{{").replace("}", "}}")


def sign_body(body: str, lang: str, chosen: Brand = CATALOG) -> str:
    """A rendered message body with the brand (no placeholders to escape)."""
    return body + brand(lang, chosen)


def breaks(text: str, lang: str, rules: TemplateRules = STRICT, chosen: Brand = CATALOG) -> list[str]:
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
    if rules.brand and brand(lang, chosen).strip(" -\n") not in text:
        found.append(f"no brand ({BRAND_KEY}) in the text")
    return found


def length_variables(text: str, rules: TemplateRules) -> list[str]:
    """The variables whose values must fit rules.max_var_chars: side by side ones as one, as the
    portal registers them (a command's "{ref} {missing}" must fit 30 characters together)."""
    return variables(text)[1]
