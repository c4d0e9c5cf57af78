#!/usr/bin/env python3
"""Turn criterion's JSON estimates into the Markdown tables we publish.

Usage: python3 benches/summarize.py [TARGET_DIR] [--check]

TARGET_DIR is the cargo target directory the benchmarks ran with (the one
holding `criterion/`), or that `criterion/` directory itself; it defaults to
$CARGO_TARGET_DIR, then `benches/target` (where `cargo bench --manifest-path
benches/Cargo.toml` writes when no target directory is set). With --check the
exit status is 1 when a published target is missed, so a publishing script can
stop on it.

Only the standard library is used, so this runs wherever the benchmarks do.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Which benchmark in each group the others are compared against. Groups not
# listed use their function whose name starts with "baseline".
BASELINES = {"svix": "svix_verify"}

# Groups whose table shows time / baseline time (the cost of ours, where
# lower is better) instead of the default speed, baseline time / time.
TIME_RATIO_GROUPS = {"adapters"}

# What a group's inputs are, when that is not a body size.
INPUT_NOTES = {
    "adapters": (
        "Each input is a framework; both handlers run the same signed "
        "message.created webhook through that framework's in-process pipeline."
    ),
}

# The published targets: (group, function, baseline, inputs, kind, bound).
# "speed" is baseline time / time (ours as a fraction of the baseline's
# throughput, or how many times faster than svix) and must be at least the
# bound; "time" is time / baseline time and must be at most the bound.
# An input of None means every input in the group.
TARGETS = [
    ("verify", "ours_verify", "baseline_hmac", ["1KiB"], "speed", 0.95),
    ("verify", "ours_verify", "baseline_hmac", ["16KiB", "1MiB"], "speed", 0.99),
    ("svix", "ours_verify", "svix_verify", None, "speed", 5.0),
    ("parse", "ours_event", "baseline_value", None, "time", 0.75),
    ("adapters", "ours_webhook", "baseline_bytes", None, "time", 1.10),
]


@dataclass
class Result:
    group: str
    function: str
    value: str
    median_ns: float
    median_lo_ns: float
    median_hi_ns: float
    mad_ns: float
    throughput_bytes: int | None
    path: Path


def criterion_dir(argument: str | None) -> Path:
    default = Path(__file__).resolve().parent / "target"
    base = Path(argument or os.environ.get("CARGO_TARGET_DIR") or default)
    if (base / "criterion").is_dir():
        return base / "criterion"
    if base.name == "criterion" and base.is_dir():
        return base
    sys.exit(f"no criterion results under {base}: run `cargo bench` first")


def load(root: Path) -> list[Result]:
    results = []
    for estimates_path in sorted(root.glob("**/new/estimates.json")):
        benchmark_path = estimates_path.with_name("benchmark.json")
        if not benchmark_path.is_file():
            continue
        benchmark = json.loads(benchmark_path.read_text())
        estimates = json.loads(estimates_path.read_text())
        median = estimates["median"]
        interval = median["confidence_interval"]
        throughput = benchmark.get("throughput") or {}
        # Bytes and BytesDecimal differ only in how criterion prints them.
        size = throughput.get("Bytes", throughput.get("BytesDecimal"))
        results.append(
            Result(
                group=benchmark["group_id"],
                function=benchmark.get("function_id") or "",
                value=benchmark.get("value_str") or "",
                median_ns=median["point_estimate"],
                median_lo_ns=interval["lower_bound"],
                median_hi_ns=interval["upper_bound"],
                mad_ns=estimates["median_abs_dev"]["point_estimate"],
                throughput_bytes=size,
                path=estimates_path,
            )
        )
    return results


def fmt_time(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(size: int | None, ns: float) -> str:
    if not size:
        return "–"
    per_second = size / (ns / 1e9)
    if per_second >= 1024**3:
        return f"{per_second / 1024**3:.2f} GiB/s"
    return f"{per_second / 1024**2:.0f} MiB/s"


def baseline_name(group: str, functions: set[str]) -> str | None:
    if group in BASELINES:
        return BASELINES[group] if BASELINES[group] in functions else None
    return next((f for f in sorted(functions) if f.startswith("baseline")), None)


def speed_range(base: Result, this: Result) -> tuple[float, float, float]:
    """Baseline time / time, with a range from the two medians' 95% CIs."""
    return (
        base.median_ns / this.median_ns,
        base.median_lo_ns / this.median_hi_ns,
        base.median_hi_ns / this.median_lo_ns,
    )


def input_order(result: Result) -> tuple[int, str]:
    return (result.throughput_bytes or 0, result.value)


def time_range(base: Result, this: Result) -> tuple[float, float, float]:
    """Time / baseline time, with a range from the two medians' 95% CIs."""
    point, lo, hi = speed_range(base, this)
    return 1 / point, 1 / hi, 1 / lo


def print_group(group: str, results: list[Result]) -> None:
    functions = {r.function for r in results}
    baseline = baseline_name(group, functions)
    by_key = {(r.function, r.value): r for r in results}
    by_time = group in TIME_RATIO_GROUPS
    print(f"### {group}\n")
    if group in INPUT_NOTES:
        print(f"{INPUT_NOTES[group]}\n")
    if baseline and by_time:
        print(
            f"Baseline: `{baseline}`. Ratio = time / baseline time (< 1 is faster "
            "than the baseline); its range combines the two medians' 95% CIs.\n"
        )
    elif baseline:
        print(
            f"Baseline: `{baseline}`. Speed = baseline time / time (> 1 is faster "
            "than the baseline); its range combines the two medians' 95% CIs.\n"
        )
    column = "time vs baseline" if by_time else "speed vs baseline"
    print(
        "| benchmark | input | median | ± MAD | median 95% CI | throughput "
        f"| {column} [95% range] |"
    )
    print("|---|---|---:|---:|---|---:|---|")
    values = sorted({(input_order(r), r.value) for r in results})
    for _, value in values:
        rows = [r for r in results if r.value == value]
        rows.sort(key=lambda r: (r.function != baseline, r.function))
        base = by_key.get((baseline, value)) if baseline else None
        for r in rows:
            if base is None:
                ratio = "–"
            elif r is base:
                ratio = "1 (baseline)"
            else:
                ranged = time_range if by_time else speed_range
                point, lo, hi = ranged(base, r)
                ratio = f"{point:.3f}× [{lo:.3f}–{hi:.3f}]"
            mad_pct = 100 * r.mad_ns / r.median_ns
            print(
                f"| `{r.function}` | {r.value or '–'} | {fmt_time(r.median_ns)} "
                f"| {fmt_time(r.mad_ns)} ({mad_pct:.1f}%) "
                f"| {fmt_time(r.median_lo_ns)} – {fmt_time(r.median_hi_ns)} "
                f"| {fmt_rate(r.throughput_bytes, r.median_ns)} | {ratio} |"
            )
    print()


def print_targets(results: list[Result]) -> bool:
    """Prints the published targets against these figures; True if all met."""
    by_key = {(r.group, r.function, r.value): r for r in results}
    all_met = True
    print("### Targets\n")
    print("| target | input | measured [95% range] | verdict |")
    print("|---|---|---|---|")
    for group, function, baseline, inputs, kind, bound in TARGETS:
        values = inputs or sorted(
            {r.value for r in results if r.group == group and r.function == function},
            key=lambda v: input_order(by_key[(group, function, v)]),
        )
        for value in values:
            this = by_key.get((group, function, value))
            base = by_key.get((group, baseline, value))
            if kind == "speed":
                label = f"{group}: `{baseline}` time / `{function}` time ≥ {bound}"
            else:
                label = f"{group}: `{function}` time / `{baseline}` time ≤ {bound}"
            if this is None or base is None:
                print(f"| {label} | {value} | not measured | missing |")
                all_met = False
                continue
            if kind == "time":
                # The same ratio the other way round, so the bound is a ceiling.
                point, lo, hi = time_range(base, this)
                met, whole_met, whole_missed = point <= bound, hi <= bound, lo > bound
            else:
                point, lo, hi = speed_range(base, this)
                met, whole_met, whole_missed = point >= bound, lo >= bound, hi < bound
            if whole_met:
                verdict = "met"
            elif met:
                verdict = "met, but the range crosses the bound"
            elif whole_missed:
                verdict = "**missed**"
            else:
                verdict = "**missed**, but the range crosses the bound"
            all_met &= met
            print(f"| {label} | {value} | {point:.3f} [{lo:.3f}–{hi:.3f}] | {verdict} |")
    print()
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target_dir", nargs="?", help="cargo target dir (or its criterion/)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    root = criterion_dir(args.target_dir)
    results = load(root)
    if not results:
        sys.exit(f"no estimates under {root}: run `cargo bench` first")
    print(f"Criterion results from `{root}`: median of each benchmark's samples.\n")
    for group in sorted({r.group for r in results}):
        print_group(group, [r for r in results if r.group == group])
    all_met = print_targets(results)
    return 1 if args.check and not all_met else 0


if __name__ == "__main__":
    sys.exit(main())
