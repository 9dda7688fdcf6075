"""The rehearsal's PNG: messages by status, doses expected vs recorded, OTP latency."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tikabot.rehearsal.report import Report  # noqa: E402


INJECTED_COLOR, UNEXPECTED_COLOR = "#edae49", "#d1495b"


def draw(report: Report, otp_latencies: list[float], path: Path) -> Path:
    fig = figure(report, otp_latencies)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def figure(report: Report, otp_latencies: list[float]):
    """Six panels: messages by status, dose records, OTP latency, failures by cause (injected apart
    from unexpected), and doses per site per slot hour against the appointments due; every bar
    carries its number."""
    fig = plt.figure(figsize=(15, 9))
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.3])
    statuses_ax, doses_ax, otp_ax = (fig.add_subplot(grid[0, i]) for i in range(3))
    failures_ax, sites_ax = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1:])
    statuses = report.messages.get("by_status", {})
    bars = statuses_ax.bar(list(statuses), list(statuses.values()), color="#3b7dd8")
    statuses_ax.bar_label(bars, fontsize=8)
    statuses_ax.set_title("messages by status")
    statuses_ax.tick_params(axis="x", rotation=30)
    d = report.doses
    bars = doses_ax.bar(["expected", "recorded", "duplicates", "lost"],
                        [d["expected"], d["recorded"], d["duplicates"], d["lost"]],
                        color=["#888", "#2a9d55", UNEXPECTED_COLOR, UNEXPECTED_COLOR])
    doses_ax.bar_label(bars, fontsize=8)
    doses_ax.set_title("dose records")
    counts, _, patches = otp_ax.hist(otp_latencies or [0], bins=30, color="#edae49")
    otp_ax.bar_label(patches, labels=[str(int(c)) if c else "" for c in counts], fontsize=6)
    otp_ax.set_title("OTP delivery latency (s)")
    _failures(failures_ax, report.failures)
    _sites(sites_ax, report.by_site_hour)
    verdict = "all invariants hold" if not report.broken else "BROKEN: " + "; ".join(report.broken)
    fig.suptitle(f"tikabot rehearsal: {report.sites} sites, {report.beneficiaries} beneficiaries - {verdict}",
                 fontsize=10)
    fig.tight_layout()
    return fig


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
