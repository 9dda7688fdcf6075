"""Is each SMS template registrable on a DLT portal, and does what tikabot renders match it?

For one template and language, with the longest values the check knows (the database's real
site and first names when there is one, else the samples): every variable at most 30
characters, no two variables side by side (those are registered as one, which must fit too),
and the rendered message matching the registered {#var#} text exactly (the text approved and
imported when there is one, else the text `tikabot dlt export` writes).
"""
from __future__ import annotations

from tikabot.dlt.pattern import MAX_VAR_CHARS, dlt_text, matches, variables
from tikabot.dlt.templates import FREE_TEXT, texts
from tikabot.i18n.catalog import localize


def _value(variable: str, params: dict, lang: str) -> str:
    return variable.format(**{k: localize(k, v, lang) for k, v in params.items()})


def problems(key: str, lang: str, params: dict, rendered: str, registered: dict | None = None) -> list[str]:
    """What stops this template from going on a domestic route; [] when nothing does.
    registered: (key, lang) -> [approved {#var#} texts], from the database."""
    if key in FREE_TEXT:
        return [f"free text ({FREE_TEXT[key]}): not for DLT, sent on routes without DLT"]
    found = []
    forms = [t for t in texts([key]) if t.language == lang]
    for form in forms:
        for variable in variables(form.text)[1]:
            try:
                value = _value(variable, params, lang)
            except (KeyError, IndexError, ValueError):
                continue
            if len(value) > MAX_VAR_CHARS:
                what = "variables side by side" if variable.count("{") > 1 else "variable"
                found.append(f"{what} {variable} can be {len(value)} characters (DLT allows {MAX_VAR_CHARS})")
    targets = (registered or {}).get((key, lang)) or [dlt_text(f.text) for f in forms]
    if not found and not any(matches(text, rendered) for text in targets):
        where = "the approved DLT text" if (registered or {}).get((key, lang)) else "its {#var#} text"
        found.append(f"the rendered message does not match {where}")
    return list(dict.fromkeys(found))
