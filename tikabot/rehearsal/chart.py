"""The rehearsal's PNG: messages by status, doses expected vs recorded, OTP latency."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tikabot.rehearsal.report import Report  # noqa: E402


def draw(report: Report, otp_latencies: list[float], path: Path) -> Path:
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4))
    statuses = report.messages.get("by_status", {})
    left.bar(list(statuses), list(statuses.values()), color="#3b7dd8")
    left.set_title("messages by status")
    left.tick_params(axis="x", rotation=30)
    d = report.doses
    middle.bar(["expected", "recorded", "duplicates", "lost"],
               [d["expected"], d["recorded"], d["duplicates"], d["lost"]],
               color=["#888", "#2a9d55", "#d1495b", "#d1495b"])
    middle.set_title("dose records")
    right.hist(otp_latencies or [0], bins=30, color="#edae49")
    right.set_title("OTP delivery latency (s)")
    verdict = "all invariants hold" if not report.broken else "BROKEN: " + "; ".join(report.broken)
    fig.suptitle(f"tikabot rehearsal: {report.sites} sites, {report.beneficiaries} beneficiaries - {verdict}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
