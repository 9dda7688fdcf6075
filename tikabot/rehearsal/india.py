"""A rehearsal on the Indian channels: tikabot's settings and the simulator's, in agreement, and
the DLT registration a district does before its first domestic SMS (export, approval, import)."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from tikabot.rehearsal.channels import Channels
from tikabot.simulator.cdac_api import PATH as CDAC_PATH
from tikabot.simulator.config import FaultConfig, india_channels
from tikabot.simulator.kannel_api import PATH as KANNEL_PATH
from tikabot.simulator.nic_api import PATH as NIC_PATH

SITES_PER_PHONE = 4  # a gateway phone per block of sites, as a district sets them up
EXOPHONE = "08047000000"
EXOTEL_TOKEN = "rehearsal-exotel-callback-token"
DLT_ENTITY_ID = "1101234567890123456"  # the district's principal entity id (19 digits)
DLT_HEADER = "TIKABT"
CDAC_PULL_TOKEN = "rehearsal-cdac-pull-token-of-at-least-32-characters"
CDAC_KEYWORD = "WB TIKA"  # the state's keyword vaccinators start a pull SMS with
MSDG_SOURCE = "127.0.0.1"  # where MSDG's pull requests come from: the simulator, on loopback
NIC_TOKEN = "rehearsal-nic-callback-token"
KANNEL_TOKEN = "rehearsal-kannel-callback-token"
# A day compressed into minutes: a route down is tried again after seconds, not a minute.
HEALTH = {"TIKABOT_ROUTE_COOLDOWN": "2", "TIKABOT_ROUTE_WINDOW": "10", "SMSGATE_TIMEOUT": "3"}


def phone_ids(sites: int) -> tuple[str, ...]:
    return tuple(f"phone{n}" for n in range(1, max(1, -(-sites // SITES_PER_PHONE)) + 1))


def phone_of_staff(district) -> dict[str, str]:
    """Each staff phone number -> the gateway phone of its site's block."""
    ids = phone_ids(len(district.sites))
    block = {site["code"]: ids[i // SITES_PER_PHONE] for i, site in enumerate(district.sites)}
    return {s["phone"]: block.get(s["site_code"], ids[0]) for s in district.staff}


def settings(channels: Channels, sim_url: str, web_url: str, phones: tuple[str, ...]) -> tuple[dict, dict]:
    """(environment for tikabot's processes, simulator config changes)."""
    env, sim = india_channels(sim_url, web_url, phone_ids=phones, callback_token=EXOTEL_TOKEN)
    env.update(HEALTH, TIKABOT_ROUTES=channels.routes_setting(), EXOTEL_DLT_ENTITY_ID=DLT_ENTITY_ID,
               TIKABOT_DLT_ENTITY_ID=DLT_ENTITY_ID, TIKABOT_DLT_HEADER=DLT_HEADER)
    government_env, government_sim = government_routes(sim_url, web_url)
    env.update(government_env)
    # the phones ping every second, as the app does when asked to: one switched back on is heard at once
    return env, {**sim, **government_sim, "smsgate_ping_interval_s": 1.0}


def government_routes(sim_url: str, web_url: str) -> tuple[dict, dict]:
    """C-DAC, NIC and Kannel as a state's accounts would be set up, the simulator holding the same
    credentials, headers and tokens: (tikabot's environment, simulator config changes)."""
    sim_url, web_url = sim_url.rstrip("/"), web_url.rstrip("/")
    env = {
        # C-DAC Mobile Seva: the push account and the pull URL registered with MSDG
        "CDAC_USERNAME": FaultConfig.cdac_username, "CDAC_PASSWORD": FaultConfig.cdac_password,
        "CDAC_SECURE_KEY": FaultConfig.cdac_secure_key, "CDAC_SENDER_ID": DLT_HEADER,
        "CDAC_API_URL": sim_url + CDAC_PATH, "CDAC_PULL_TOKEN": CDAC_PULL_TOKEN,
        "CDAC_PULL_SOURCES": MSDG_SOURCE, "CDAC_KEYWORD": CDAC_KEYWORD,
        # NIC SMS gateway: the HttpLink account, its header, and the delivery-report URL's token
        "NIC_URL": sim_url + NIC_PATH, "NIC_USERNAME": FaultConfig.nic_username, "NIC_PIN": FaultConfig.nic_pin,
        "NIC_SIGNATURE": DLT_HEADER, "NIC_DLT_ENTITY_ID": DLT_ENTITY_ID, "NIC_CALLBACK_TOKEN": NIC_TOKEN,
        # Kannel: smsbox's sendsms-user, and the token of the dlr-url and the sms-service's get-url
        "KANNEL_SENDSMS_URL": sim_url + KANNEL_PATH, "KANNEL_USERNAME": FaultConfig.kannel_username,
        "KANNEL_PASSWORD": FaultConfig.kannel_password, "KANNEL_FROM": DLT_HEADER,
        "KANNEL_CALLBACK_TOKEN": KANNEL_TOKEN,
        # TIKABOT_DLT_ROUTES stays at its default (exotel,cdac,nic): Kannel is the route without DLT
        # here, the one a SEVERE alert's free text can take (dlt/templates.py FREE_TEXT)
    }
    sim = {"cdac_sender_ids": [DLT_HEADER], "nic_dlr_url": f"{web_url}/channels/nic/dlr?token={NIC_TOKEN}"}
    return env, sim


def cdac_pull_url(web_url: str) -> str:
    """The pull URL the department registers with MSDG."""
    return f"{web_url.rstrip('/')}/channels/cdac/inbound?token={CDAC_PULL_TOKEN}"


def kannel_inbound_url(web_url: str) -> str:
    """The sms-service's get-url in kannel.conf (the simulator adds id, from, text, coding, charset)."""
    return f"{web_url.rstrip('/')}/channels/kannel/inbound?token={KANNEL_TOKEN}"


def approved_id(n: int) -> str:
    """What the operator's DLT portal hands back for the n-th template: 19 digits."""
    return f"1107{n:015d}"


def register_templates(env: dict, folder: Path) -> dict:
    """`tikabot dlt export`, every row approved as the portal would, `tikabot dlt import`."""
    folder.mkdir(parents=True, exist_ok=True)
    exported, approved = folder / "dlt-export.csv", folder / "dlt-approved.csv"
    tikabot = [sys.executable, "-m", "tikabot", "dlt"]
    subprocess.run([*tikabot, "export", "-o", str(exported), "--entity-id", DLT_ENTITY_ID, "--header", DLT_HEADER],
                   env=env, check=True, capture_output=True)
    with exported.open(encoding="utf-8", newline="") as src:
        reader = csv.DictReader(src)
        rows = [dict(row, template_id=row["template_id"] or approved_id(n)) for n, row in enumerate(reader, 1)]
        columns = reader.fieldnames
    with approved.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    done = subprocess.run([*tikabot, "import", str(approved)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tikabot dlt import refused the approved templates: {done.stderr.strip()}")
    return {"templates": len(rows), "imported": done.stdout.strip()}
