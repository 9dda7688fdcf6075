"""A catalog text as a DLT portal registers it, and the rules a registered text must keep.

A catalog text has named placeholders (`Dose {dose} on {date}`); the DLT portal takes the same
text with `{#var#}` for each (`Dose {#var#} on {#var#}`), and the operators check every message
against it exactly, spacing included. Each variable may carry at most 30 characters, and two
variables may not stand side by side (nothing but spaces between them).
"""
from __future__ import annotations

import re
import string
from functools import lru_cache

VAR = "{#var#}"
MAX_VAR_CHARS = 30  # TRAI's limit per variable (some aggregators allow 40: we keep the strict one)


def pieces(text: str) -> tuple[list[str], list[str]]:
    """(literal pieces, placeholders with their format spec, as "dose:ordinal"): len(literals) ==
    len(names) + 1."""
    literals, names, current = [], [], ""
    for literal, name, spec, conversion in string.Formatter().parse(text):
        current += literal
        if name is not None:
            literals.append(current)
            names.append(f"{name}:{spec}" if spec else name)
            current = ""
    literals.append(current)
    return literals, names


def variables(text: str) -> tuple[list[str], list[str]]:
    """(literal pieces, variables): placeholders with nothing but spaces between them are one
    variable, kept as its catalog text ('{ref} {name}'), since the portal refuses two side by side.
    len(literals) == len(variables) + 1."""
    literals, names = pieces(text)
    out_literals, out_vars = [literals[0]], []
    for i, name in enumerate(names):
        if out_vars and not literals[i].strip():
            out_vars[-1] += literals[i] + "{" + name + "}"
            out_literals[-1] = literals[i + 1]
        else:
            out_vars.append("{" + name + "}")
            out_literals.append(literals[i + 1])
    return out_literals, out_vars


def dlt_text(text: str) -> str:
    """'Dose {dose} on {date}' -> 'Dose {#var#} on {#var#}' ({{ and }} become { and })."""
    literals, _ = variables(text)
    return VAR.join(literals)


def side_by_side(text: str) -> list[str]:
    """Placeholders that stand side by side in the catalog text, registered as one variable."""
    return [v for v in variables(text)[1] if v.count("{") > 1]


@lru_cache(maxsize=4096)
def matcher(registered: str, max_var: int = MAX_VAR_CHARS) -> re.Pattern:
    """The regular expression a message must match in full to be the registered text."""
    parts = [re.escape(p) for p in registered.split(VAR)]
    return re.compile(f"(.{{1,{max_var}}}?)".join(parts), re.DOTALL)


def matches(registered: str, body: str) -> bool:
    """Does body match the registered {#var#} text exactly, each variable at most 30 characters?"""
    return matcher(registered).fullmatch(body) is not None
