"""Which provider route carries which traffic, in order of preference (TIKABOT_ROUTES).

    TIKABOT_ROUTES="otp=exotel,twilio;reply=android,twilio;confirmation=exotel,twilio;reminder=exotel,twilio;alert=twilio"

A route is a provider account a sender is built for: `twilio` (the Twilio sender of the `sms`
channel), and any name in queue/senders.py's SENDERS (`android`, `exotel`, `nic`, `kannel`, ...).
A traffic kind left out uses `default=` if given, else `twilio`; with TIKABOT_ROUTES unset every kind goes by
Twilio alone, exactly as before routes existed. Routes named in TIKABOT_DLT_ROUTES (default
`exotel,cdac,nic`; add `kannel` when its SMSC is an Indian operator or aggregator) are domestic Indian
routes: they carry only DLT-registered text (tikabot/dlt/).

A message's kind comes from its outbox row (`traffic_kind`). A reply goes back on the route its
message came in on (the row's `via`) while that route is up. Health (queue/routes/health.py)
decides which routes are up; `plan` orders the candidates.
"""
from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("otp", "reply", "confirmation", "reminder", "alert")
DEFAULT_ROUTE = "twilio"
# Route name -> the SENDERS key of its sender, where the two differ.
SENDER_KEYS = {"twilio": "sms"}
ROUTED_CHANNELS = ("sms",)  # voice calls and Telegram go by their own senders, unrouted

REMINDERS = ("appt.reminder", "appt.missed", "dose2.")


def sender_key(route: str) -> str:
    return SENDER_KEYS.get(route, route)


def traffic_kind(template: str, priority: str) -> str:
    """otp | alert | reminder | confirmation | reply, from the outbox row's template and priority."""
    if template.startswith("otp."):
        return "otp"
    if template.startswith("alert.") or template == "broadcast":
        return "alert"
    if template.startswith(REMINDERS) or priority == "bulk":
        return "reminder"
    if template.startswith(("appt.", "dose.")):
        return "confirmation"
    return "reply"  # staff.*, ben.*: answers to a person who wrote to us


def _names(raw: str, what: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
    if not names:
        raise ValueError(f"{what}: name at least one route")
    return names


@dataclass(frozen=True)
class RouteTable:
    kinds: dict = field(default_factory=dict)  # kind -> routes in order of preference
    default: tuple = (DEFAULT_ROUTE,)

    domestic: frozenset = frozenset({"exotel", "cdac", "nic"})

    @classmethod
    def parse(cls, raw: str | None, domestic: str | None = None) -> "RouteTable":
        """TIKABOT_ROUTES ('kind=route,route;...') and TIKABOT_DLT_ROUTES ('exotel,cdac,nic'); ValueError
        naming the bad part."""
        kinds, default = {}, (DEFAULT_ROUTE,)
        for part in (raw or "").replace("\n", ";").split(";"):
            if not part.strip():
                continue
            kind, sep, routes = part.partition("=")
            kind = kind.strip().lower()
            if not sep or (kind not in KINDS and kind != "default"):
                raise ValueError(f"TIKABOT_ROUTES: {part.strip()!r} must be KIND=ROUTE[,ROUTE...] with KIND one of "
                                 f"{', '.join(KINDS)} or default")
            names = _names(routes, f"TIKABOT_ROUTES {kind}")
            if kind == "default":
                default = names
            else:
                kinds[kind] = names
        dlt = frozenset(n.strip().lower() for n in (domestic if domestic is not None else "exotel,cdac,nic").split(",")
                        if n.strip())
        return cls(kinds, default, dlt)

    def routes_for(self, kind: str) -> tuple[str, ...]:
        return self.kinds.get(kind, self.default)

    @property
    def all_routes(self) -> tuple[str, ...]:
        seen = list(self.default)
        for routes in self.kinds.values():
            seen += routes
        return tuple(dict.fromkeys(seen))

    @property
    def single(self) -> bool:
        """Only one route in the whole table: no failover, sending as it always was."""
        return len(self.all_routes) == 1

    def is_domestic(self, route: str) -> bool:
        return route in self.domestic

    def check_known(self, known) -> None:
        """Every route named has a sender (queue/senders.py), or ValueError at start."""
        missing = [r for r in self.all_routes if sender_key(r) not in known]
        if missing:
            have = ["twilio"] + [k for k in known if k not in ("sms", "voice", "telegram")]
            raise ValueError(f"TIKABOT_ROUTES names {', '.join(missing)} but no sender is configured for "
                             f"{'it' if len(missing) == 1 else 'them'} (known: {', '.join(have)})")


# With TIKABOT_ROUTES unset and a gateway phone set up, a reply still goes back on the phone its
# message came in on (Twilio cannot carry two-way SMS in India); everything else stays on Twilio.
PHONE_REPLIES = "reply=android,twilio"


def table_for(config) -> "RouteTable":
    """The routing table of a configuration (ValueError naming a bad part of TIKABOT_ROUTES)."""
    raw = config.routes or (PHONE_REPLIES if getattr(config, "smsgate_phones", ()) else "")
    return RouteTable.parse(raw, config.dlt_routes)


# The route a channel's messages go by when no route is recorded on the row.
UNROUTED = {"sms": DEFAULT_ROUTE, "voice": DEFAULT_ROUTE}


def carried_by(channel: str, via: str | None) -> str:
    """The route (and phone) a row went by: its `via`; else its channel's own provider (an SMS
    or a call with no route recorded went by Twilio; Telegram by itself)."""
    return via or UNROUTED.get(channel, channel)


def route_of(via: str | None) -> str | None:
    """The route a `via` names: "android:ranaghat" (a route and the gateway phone on it) -> "android"."""
    return via.split(":", 1)[0] if via else via


def candidates(table: RouteTable, kind: str, via: str | None) -> list[str]:
    """The routes to try, best first: the route a reply's message came in on, then the kind's."""
    routes = list(table.routes_for(kind))
    via = route_of(via)
    if via and via in table.all_routes and kind == "reply":
        routes = [via] + [r for r in routes if r != via]
    return routes


def plan(table: RouteTable, kind: str, via: str | None, usable) -> list[str]:
    """candidates() less the routes that are down; when every one is down, all of them in order (a
    message is never left with nowhere to go, and the first tried shows whether it is back).
    usable(route, probe) -> bool; probe: a recovering route may take this message as its trial,
    which only the first route chosen does."""
    routes = candidates(table, kind, via)
    chosen: list[str] = []
    for route in routes:
        if usable(route, not chosen):
            chosen.append(route)
    return chosen or routes
