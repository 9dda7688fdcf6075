"""Does the test suite pass every time? Runs `./run test`, as the README says, on fresh clones,
half of the runs beside a CPU hog that keeps every core busy, and prints for each run: passed or
failed, wall time, and its ten slowest tests.

    python3 bench/suite_stability.py [--runs 10] [--repo .] [--branch main] [--keep] [-- pytest args]

Each run clones the repository's committed `--branch` into a scratch folder and sets it up with
`./run setup` (not timed: a fresh virtual environment from pip's cache), then times `./run test`
alone. The hog is one busy process per core at the same priority as the suite, started before
the suite and stopped after it. Exit status 0 only when every run passed.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SLOWEST = re.compile(r"^\s*([\d.]+)s (call|setup|teardown)\s+(\S+)$", re.M)
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).* in [\d.]+s.*?)\s*=*$", re.M)


def _spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


class CpuHog:
    """One busy process per core until stopped."""

    def __init__(self):
        self.stop = multiprocessing.Event()
        self.procs = [multiprocessing.Process(target=_spin, args=(self.stop,), daemon=True)
                      for _ in range(os.cpu_count() or 2)]

    def __enter__(self):
        for proc in self.procs:
            proc.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


def clone(repo: Path, branch: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--branch", branch, str(repo), str(into)], check=True)
    setup = subprocess.run(["./run", "setup"], cwd=into, capture_output=True, text=True)
    if setup.returncode != 0:
        raise SystemExit(f"./run setup failed in a fresh clone:\n{setup.stdout[-2000:]}{setup.stderr[-2000:]}")
    return into


def one_run(repo: Path, branch: str, hog: bool, pytest_args: list[str], keep: bool) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="tikabot-suite-"))
    try:
        checkout = clone(repo, branch, scratch / "tikabot")
        command = ["./run", "test", "-q", "-p", "no:cacheprovider", "--durations=10", *pytest_args]
        started = time.monotonic()
        if hog:
            with CpuHog():
                run = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
        else:
            run = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
        wall = time.monotonic() - started
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    summary = SUMMARY.findall(run.stdout)
    failed = [line for line in run.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return {"passed": run.returncode == 0, "wall_s": wall, "hog": hog,
            "summary": summary[-1] if summary else f"exit {run.returncode}",
            "slowest": SLOWEST.findall(run.stdout)[:10], "failed": failed,
            "tail": run.stdout[-3000:] + run.stderr[-2000:]}


def show(number: int, result: dict) -> None:
    verdict = "PASS" if result["passed"] else "FAIL"
    beside = "beside a CPU hog" if result["hog"] else "quiet machine"
    print(f"run {number}: {verdict}  {result['wall_s']:.0f} s  ({beside})  {result['summary']}")
    for seconds, phase, test in result["slowest"]:
        print(f"    {float(seconds):6.2f} s  {phase:8} {test}")
    for line in result["failed"]:
        print(f"    {line}")
    if not result["passed"] and not result["failed"]:
        print(result["tail"])
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--branch", default="main")
    parser.add_argument("--keep", action="store_true", help="keep each run's clone")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    results = []
    for number in range(1, args.runs + 1):
        result = one_run(args.repo.resolve(), args.branch, hog=number % 2 == 0, pytest_args=args.pytest_args,
                         keep=args.keep)
        results.append(result)
        show(number, result)
    passed = sum(r["passed"] for r in results)
    walls = sorted(r["wall_s"] for r in results)
    print(f"\n{passed} of {len(results)} runs passed; wall time min {walls[0]:.0f} s, "
          f"median {walls[len(walls) // 2]:.0f} s, max {walls[-1]:.0f} s")
    for hog in (False, True):
        mine = [r["wall_s"] for r in results if r["hog"] == hog]
        if mine:
            print(f"  {'beside a CPU hog' if hog else 'quiet machine':17} {len(mine)} runs, "
                  f"mean {sum(mine) / len(mine):.0f} s")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
