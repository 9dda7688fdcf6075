"""Replies (catalog keys + params) to text in the sender's language."""
from __future__ import annotations

from tikabot.flows.effects import Reply
from tikabot.i18n.catalog import LANGUAGES, render


def language(code: str | None) -> str:
    code = (code or "").lower()
    return code if code in LANGUAGES else "en"


def render_reply(reply: Reply, lang: str) -> str:
    lang = language(reply.lang or lang)
    params = {k: render_reply(v, lang) if isinstance(v, Reply) else v for k, v in reply.params.items()}
    return render(reply.key, lang, **params)


def render_replies(replies: list[Reply], lang: str) -> str | None:
    return "\n".join(render_reply(r, lang) for r in replies) or None
