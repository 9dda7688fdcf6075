"""Which channel carries what in a rehearsal (`--channels`), and which one goes down when (`--down`).

    --channels staff=android,reminders=exotel,otp=exotel,fallback=twilio
    --down exotel:30-40          minutes 30 to 40 of the day (the day is 09:00-17:00, 480 minutes)
    --down exotel:0.25-0.5       the same as a share of the day

`--channels` is a comma-separated list of WHO=ROUTE[+ROUTE...], the routes in order of preference:
  staff          the staff's SMS (VERIFY, DOSE, ...) come in on this route and the replies go back on it
  beneficiaries  the route beneficiaries text (YES, NO, STOP); default: the first reminders route,
                 since people answer the number the reminder came from
  otp, reminders, confirmations, alerts   what tikabot sends (queue/routes/table.py's kinds)
  fallback       tried after every other route, and carries whatever is not named (default twilio)
Routes: twilio, android (the SMS Gateway phone), exotel, cdac (C-DAC Mobile Seva: push out, pull SMS
in), nic (the NIC SMS gateway: out only) and kannel (a district's Kannel in front of an operator or
aggregator: out and in). Without --channels a rehearsal runs on Twilio alone, as it always has.
NIC cannot receive SMS: people whose route is nic text the next route of theirs that can.

The day's minutes are its progress (people seen): a route is down from the moment START of the
day's people have been seen until END have, and at least until tikabot noticed (a send failed on
it and it was taken out of rotation). Exotel goes down as its account does (every API request
refused 403), C-DAC as its account out of credits (403), NIC as an account refusing our address
(-19), Kannel as its smsbox dropping every connection, a gateway phone as a phone switched off; Twilio, which the simulator cannot take
down whole, is taken out of rotation by hand (route health's force_down).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

ROUTES = ("twilio", "android", "exotel", "cdac", "nic", "kannel")
RECEIVING = ("twilio", "android", "exotel", "cdac", "kannel")  # routes a person's SMS can come in by
WHO = {"staff": "reply", "beneficiaries": None, "otp": "otp", "reminders": "reminder",
       "confirmations": "confirmation", "alerts": "alert", "fallback": None}
DAY_MINUTES = 8 * 60  # 09:00-17:00
DOWN = re.compile(r"(?P<route>[a-z]+):(?P<start>\d+(?:\.\d+)?)-(?P<end>\d+(?:\.\d+)?)")


class BadSpec(ValueError):
    """A --channels or --down value that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class Channels:
    kinds: dict = field(default_factory=dict)  # traffic kind -> routes, before the fallback
    staff: tuple = ("twilio",)
    beneficiaries: tuple = ("twilio",)
    fallback: tuple = ("twilio",)
    spec: str = ""

    @property
    def routed(self) -> bool:
        """Anything but Twilio alone: tikabot runs with routes and the Indian channels set up."""
        return bool(self.spec) and set(self.all_routes) != {"twilio"}

    @property
    def all_routes(self) -> tuple:
        seen = list(self.staff) + list(self.beneficiaries) + list(self.fallback)
        for routes in self.kinds.values():
            seen += routes
        return tuple(dict.fromkeys(seen))

    def chain(self, routes) -> tuple:
        return tuple(dict.fromkeys([*routes, *self.fallback]))

    def routes_setting(self) -> str:
        """TIKABOT_ROUTES for the workers."""
        parts = [f"{kind}={','.join(self.chain(routes))}" for kind, routes in self.kinds.items()]
        if "reply" not in self.kinds:
            parts.append(f"reply={','.join(self.chain(self.staff))}")
        parts.append(f"default={','.join(self.fallback)}")
        return ";".join(parts)

    def inbound_route(self, staff: bool, down: set) -> str:
        """The route a person's SMS comes in on: their own, or while it is down the next that can."""
        routes = [r for r in self.chain(self.staff if staff else self.beneficiaries) if r in RECEIVING]
        for route in routes:
            if route not in down:
                return route
        return routes[0] if routes else "twilio"


def _routes(who: str, raw: str) -> tuple:
    names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split("+") if n.strip()))
    if not names:
        raise BadSpec(f"--channels {who}=: name a route ({', '.join(ROUTES)})")
    unknown = [n for n in names if n not in ROUTES]
    if unknown:
        raise BadSpec(f"--channels {who}={raw}: unknown route {unknown[0]!r} (routes: {', '.join(ROUTES)})")
    return names


def parse_channels(spec: str | None) -> Channels:
    if not spec or not spec.strip():
        return Channels()
    given: dict[str, tuple] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        who, sep, raw = part.partition("=")
        who = who.strip().lower()
        if not sep or who not in WHO:
            raise BadSpec(f"--channels: {part.strip()!r} must be WHO=ROUTE[+ROUTE...] with WHO one of "
                          f"{', '.join(WHO)}")
        if who in given:
            raise BadSpec(f"--channels: {who} is named twice")
        given[who] = _routes(who, raw)
    fallback = given.get("fallback", ("twilio",))
    kinds = {WHO[w]: r for w, r in given.items() if WHO[w]}
    staff = given.get("staff", fallback)
    beneficiaries = given.get("beneficiaries", given.get("reminders", fallback)[:1])
    return Channels(kinds, staff, beneficiaries, fallback, spec.strip())


@dataclass(frozen=True)
class Outage:
    route: str
    start: float  # share of the day, 0..1
    end: float

    def minutes(self) -> str:
        return f"{self.start * DAY_MINUTES:.0f}-{self.end * DAY_MINUTES:.0f}"


def parse_down(value: str | None, channels: Channels) -> Outage | None:
    if not value:
        return None
    match = DOWN.fullmatch(value.strip().lower())
    if match is None:
        raise BadSpec(f"--down {value}: write ROUTE:START-END, e.g. exotel:30-40 (minutes of the "
                      f"{DAY_MINUTES}-minute day) or exotel:0.25-0.5 (shares of the day)")
    route, start, end = match["route"], float(match["start"]), float(match["end"])
    if route not in ROUTES:
        raise BadSpec(f"--down {value}: unknown route {route!r} (routes: {', '.join(ROUTES)})")
    if route not in channels.all_routes:
        raise BadSpec(f"--down {value}: {route} carries nothing in this rehearsal (see --channels)")
    if end <= 1 and "." in match["end"]:  # shares of the day
        pass
    else:
        start, end = start / DAY_MINUTES, end / DAY_MINUTES
    if not 0 <= start < end <= 1:
        raise BadSpec(f"--down {value}: START must come before END, within the day (0-{DAY_MINUTES} minutes)")
    if end >= 1:
        raise BadSpec(f"--down {value}: the route must come back before the day ends, so its recovery is seen")
    return Outage(route, start, end)
