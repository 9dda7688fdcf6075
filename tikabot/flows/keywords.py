"""The command word of a message, read the way people type it.

- Exactly as in the catalogs first (keyword.* aliases in every language): a valid keyword is never
  read as another one.
- A phrase alias of two words ("ঠিক আছে") counts as one keyword.
- A Latin word of at least 4 letters one edit away (a letter missing, added, changed, or two
  neighbours swapped: VERFY, DSOE, DOES) from exactly one command's Latin words is that command.
  When it is one edit from two commands (COSE: CODE is OTP, DOSE is DOSE; SOTP: STOP and OTP) it
  is not guessed, and short words (YES, NO, OK, END) are never guessed: one letter turns one into
  another too easily.
"""
from __future__ import annotations

from tikabot.i18n.catalog import fold, keyword_aliases

MIN_GUESS = 4  # letters, in the word typed and in the word it may be taken for


def exact(word: str) -> str | None:
    return keyword_aliases().get(fold(word))


_memo: dict = {}


def _derived(name: str, build):
    """A table built from keyword_aliases(), rebuilt when the catalogs are read again."""
    aliases = keyword_aliases()
    found = _memo.get(name)
    if found is None or found[0] is not aliases:
        found = _memo[name] = (aliases, build(aliases))
    return found[1]


def phrases() -> dict[str, str]:
    """Aliases of more than one word (folded, single-spaced) -> canonical keyword."""
    return _derived("phrases", lambda aliases: {a: c for a, c in aliases.items() if " " in a})


def leading_phrase(text: str) -> tuple[str, str] | None:
    """(canonical keyword, the rest of text) when text starts with a phrase alias."""
    words = text.split()
    for alias, canonical in phrases().items():
        size = len(alias.split())
        head = [w.strip("!,.?।") for w in words[:size]]
        if len(words) >= size and fold(" ".join(head)) == alias:
            return canonical, " ".join(words[size:])
    return None


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1:]


def _latin_words() -> tuple[tuple[str, str], ...]:
    return _derived("latin", lambda aliases: tuple((a, c) for a, c in aliases.items()
                                                   if a.isascii() and a.isalpha()))


def guess(word: str) -> str | None:
    """The one command a Latin word is a typo of, or None. Every Latin alias counts against a
    guess (SOTP is one edit from STOP and from OTP: no guess), but only one of at least
    MIN_GUESS letters can be guessed."""
    folded = fold(word)
    if len(folded) < MIN_GUESS or not (folded.isascii() and folded.isalpha()):
        return None
    near = [(alias, canonical) for alias, canonical in _latin_words() if one_edit(folded, alias)]
    if len({canonical for _, canonical in near}) != 1 or all(len(alias) < MIN_GUESS for alias, _ in near):
        return None
    return near[0][1]


def command_word(word: str) -> str | None:
    """The canonical keyword for the first word of a message: exact, else a one-edit typo."""
    return exact(word) or guess(word)


def staff_keyword(keyword: str | None, first_word: str) -> str | None:
    """Staff have no STOP: the Bengali and Hindi words for it (বন্ধ, बंद) close their session.
    first_word: the message's first word as typed (a menu's command has none: "")."""
    if keyword != "STOP":
        return keyword
    word = fold(first_word.strip("!,.?।"))
    return "END" if exact(word) == "STOP" and word != "stop" else keyword
