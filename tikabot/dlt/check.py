"""Is each SMS template registrable on a DLT portal, and does what tikabot renders match it?

For one template and language, with the longest values the check knows (the database's real
site and first names when there is one, else the samples), against the rules of the domestic
routes (dlt/rules.py: the strictest by default): every variable within the route's length, no
two variables side by side, no bare variable at the end, the brand in the text; and the rendered
message (signed with the brand, as a domestic route sends it) matching the registered {#var#}
text exactly (the text approved and imported when there is one, else the text `tikabot dlt
export` writes).
"""
from __future__ import annotations

from tikabot.dlt.pattern import dlt_text, matches
from tikabot.dlt.rules import CATALOG, STRICT, Brand, TemplateRules, breaks, length_variables, sign_body
from tikabot.dlt.templates import FREE_TEXT, texts
from tikabot.i18n.catalog import localize


def _value(variable: str, params: dict, lang: str) -> str:
    return variable.format(**{k: localize(k, v, lang) for k, v in params.items()})


def problems(key: str, lang: str, params: dict, rendered: str, registered: dict | None = None,
             rules: TemplateRules = STRICT, brand: Brand = CATALOG) -> list[str]:
    """What stops this template from going on a domestic route; [] when nothing does.
    registered: (key, lang) -> [approved {#var#} texts], from the database; rendered: the message
    as every route renders it (the brand is added here, as a domestic route adds it: the brand the
    settings name, so an approved text with an earlier brand shows as not matching)."""
    if key in FREE_TEXT:
        return [f"free text ({FREE_TEXT[key]}): not for DLT, sent on routes without DLT"]
    found = []
    forms = [t for t in texts([key], brand) if t.language == lang]
    for form in forms:
        found += breaks(form.text, lang, rules, brand)
        for variable in length_variables(form.text, rules):
            try:
                value = _value(variable, params, lang)
            except (KeyError, IndexError, ValueError):
                continue
            if len(value) > rules.max_var_chars:
                what = "variables side by side" if variable.count("{") > 1 else "variable"
                found.append(f"{what} {variable} can be {len(value)} characters (DLT allows {rules.max_var_chars})")
    targets = (registered or {}).get((key, lang)) or [dlt_text(f.text) for f in forms]
    if not found and not any(matches(text, sign_body(rendered, lang, brand)) for text in targets):
        where = "the approved DLT text" if (registered or {}).get((key, lang)) else "its {#var#} text"
        found.append(f"the rendered message does not match {where}")
    return list(dict.fromkeys(found))
