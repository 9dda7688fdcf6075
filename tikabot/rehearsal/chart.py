"""The rehearsal's PNG: what a district wants first (per site against due, SEVERE, registry), then the engineers' panels."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tikabot.rehearsal.report import Report  # noqa: E402
from tikabot.rehearsal.verdict import verdict  # noqa: E402


INJECTED_COLOR, UNEXPECTED_COLOR = "#edae49", "#d1495b"


def draw(report: Report, otp_latencies: list[float], path: Path) -> Path:
    fig = figure(report, otp_latencies)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def figure(report: Report, otp_latencies: list[float]):
    """First what a coordinator and a medical officer want: each site's doses against those due, the
    SEVERE side effects that reached an officer, the records in the registry (with legends). Then the
    engineers' panels: messages by status, dose records, OTP latency, failures by cause (injected
    apart from unexpected), doses per site per slot hour. Every bar carries its number."""
    fig = plt.figure(figsize=(15, 13))
    grid = fig.add_gridspec(3, 3, height_ratios=[1.2, 1, 1.3])
    per_site_ax, officer_ax = fig.add_subplot(grid[0, :2]), fig.add_subplot(grid[0, 2])
    statuses_ax, doses_ax, otp_ax = (fig.add_subplot(grid[1, i]) for i in range(3))
    failures_ax, sites_ax = fig.add_subplot(grid[2, 0]), fig.add_subplot(grid[2, 1:])
    _per_site(per_site_ax, report.by_site_hour)
    _officer(officer_ax, report)
    statuses = report.messages.get("by_status", {})
    bars = statuses_ax.bar(list(statuses), list(statuses.values()), color="#3b7dd8")
    statuses_ax.bar_label(bars, fontsize=8)
    statuses_ax.set_title("for engineers: messages by status", fontsize=9)
    statuses_ax.tick_params(axis="x", rotation=30)
    d = report.doses
    bars = doses_ax.bar(["expected", "recorded", "duplicates", "lost"],
                        [d["expected"], d["recorded"], d["duplicates"], d["lost"]],
                        color=["#888", "#2a9d55", UNEXPECTED_COLOR, UNEXPECTED_COLOR])
    doses_ax.bar_label(bars, fontsize=8)
    doses_ax.set_title("dose records", fontsize=9)
    counts, _, patches = otp_ax.hist(otp_latencies or [0], bins=30, color="#edae49")
    otp_ax.bar_label(patches, labels=[str(int(c)) if c else "" for c in counts], fontsize=6)
    otp_ax.set_title("OTP delivery latency (s)", fontsize=9)
    _failures(failures_ax, report.failures)
    _sites(sites_ax, report.by_site_hour)
    fig.suptitle(f"tikabot rehearsal, {report.sites} sites, {report.beneficiaries:,} people booked. {verdict(report)}",
                 fontsize=11)
    fig.tight_layout()
    return fig


def _per_site(ax, table: dict) -> None:
    """Each site: the doses due today (grey) and recorded (green), side by side, numbers on the bars."""
    ax.set_title("doses per site: recorded against due today", fontsize=10)
    sites = sorted(table)
    if not sites:
        ax.text(0.5, 0.5, "no appointments today", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    due = [sum(cell[0] for cell in table[s].values()) for s in sites]
    recorded = [sum(cell[1] for cell in table[s].values()) for s in sites]
    x = range(len(sites))
    ax.bar_label(ax.bar([i - 0.2 for i in x], due, 0.4, color="#bbbbbb", label="due (booked for today)"), fontsize=7)
    ax.bar_label(ax.bar([i + 0.2 for i in x], recorded, 0.4, color="#2a9d55", label="doses recorded"), fontsize=7)
    ax.set_xticks(list(x), sites, fontsize=7, rotation=45)
    ax.legend(fontsize=8, loc="lower right")


def _officer(ax, report: Report) -> None:
    """SEVERE side effects reported against those that reached an officer by SMS; doses against those in
    the registry."""
    severe, registry = report.severe or {}, report.registry or {}
    labels = ["SEVERE\nreported", "SEVERE reached\nan officer", "doses\nrecorded", "records in\nthe registry"]
    values = [severe.get("reported", 0), severe.get("reached_by_sms", 0), registry.get("doses", 0),
              registry.get("synced", 0)]
    colors = ["#bbbbbb", "#2a9d55", "#bbbbbb", "#3b7dd8"]
    bars = ax.bar(labels, values, color=colors)
    ax.bar_label(bars, fontsize=8)
    ax.set_title("medical officer: SEVERE side effects and the registry", fontsize=10)
    ax.tick_params(axis="x", labelsize=7)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="#bbbbbb", label="what happened"), Patch(color="#2a9d55", label="reached an officer"),
                       Patch(color="#3b7dd8", label="synced upstream")], fontsize=7, loc="upper right")


def _failures(ax, failures: dict) -> None:
    kinds = [(kind, n, INJECTED_COLOR) for kind, n in failures.get("injected", {}).items()]
    kinds += [(kind, n, UNEXPECTED_COLOR) for kind, n in failures.get("unexpected", {}).items()]
    ax.set_title("final failures by cause (amber: injected, red: unexpected)", fontsize=9)
    if not kinds:
        ax.text(0.5, 0.5, "no message failed", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    kinds.sort(key=lambda k: k[1])
    bars = ax.barh([k for k, _, _ in kinds], [n for _, n, _ in kinds], color=[c for _, _, c in kinds])
    ax.bar_label(bars, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)


def _sites(ax, table: dict) -> None:
    """A cell per site and slot hour: doses recorded / due, coloured by the share recorded."""
    ax.set_title("doses per site per slot hour: recorded / due", fontsize=9)
    hours = sorted({h for cells in table.values() for h in cells})
    sites = sorted(table)
    if not sites:
        ax.text(0.5, 0.5, "no appointments today", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    share = [[(table[s][h][1] / table[s][h][0]) if h in table[s] and table[s][h][0] else float("nan")
              for h in hours] for s in sites]
    ax.imshow(share, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for i, site in enumerate(sites):
        for j, hour in enumerate(hours):
            if hour in table[site]:
                due, recorded = table[site][hour]
                ax.text(j, i, f"{recorded}/{due}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(hours)), [f"{h}:00" for h in hours], fontsize=8)
    ax.set_yticks(range(len(sites)), sites, fontsize=7)
    ax.figure.colorbar(ax.images[0], ax=ax, label="share of due recorded (red 0, green all)", fraction=0.04)
