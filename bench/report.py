"""The suite's output: the table of medians (min-max) with ratios to the in-run baselines, the
section of docs/PERFORMANCE.md between the bench markers, and the one gnuplot chart."""

import sys

sys.dont_write_bytecode = True

import statistics
import subprocess
from pathlib import Path

BEGIN = "<!-- bench:begin (written by bench/run; edits here are overwritten) -->"
END = "<!-- bench:end -->"


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def spread(values, digits=0):
    """'median (min–max)' of a list of numbers."""
    if not values:
        return "—"
    fmt = f"{{:,.{digits}f}}"
    median = statistics.median(values)
    if len(values) == 1:
        return fmt.format(median)
    return f"{fmt.format(median)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


class Row:
    """One figure: its value per run, and (optionally) its baseline per run and a target.
    `ratios` are per-run pairs (value_i / baseline_i), so both sides of a ratio share the
    machine's state at that moment."""

    def __init__(self, name, unit, values, digits=0, baseline_name="", baseline=None,
                 target=None, ratios=None, judge=None, note=""):
        self.name, self.unit, self.values, self.digits = name, unit, values, digits
        self.baseline_name, self.baseline = baseline_name, baseline or []
        self.target = target  # text, e.g. "≥ 0.8× baseline"
        self.ratios = ratios
        if ratios is None and self.baseline:
            self.ratios = [v / b for v, b in zip(values, self.baseline) if b]
        self.judge = judge  # callable(row) -> bool, or None
        self.note = note

    def met(self):
        if self.judge is None:
            return ""
        return "met" if self.judge(self) else "**missed**"

    def median_ratio(self):
        return statistics.median(self.ratios) if self.ratios else None


def table(rows):
    lines = ["| figure | unit | ours: median (min–max) | baseline | baseline: median (min–max) "
             "| ratio: median (min–max) | target | |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = spread(row.ratios, 2) if row.ratios else ""
        lines.append(f"| {row.name} | {row.unit} | {spread(row.values, row.digits)} | "
                     f"{row.baseline_name} | {spread(row.baseline, row.digits) if row.baseline else ''} "
                     f"| {ratio} | {row.target or ''} | {row.met()} |")
    return "\n".join(lines)


def write_section(doc_path, command, machine, date, rows, notes, chart_name):
    body = "\n".join([
        BEGIN,
        "## Latest benchmark run (bench/run)",
        "",
        f"    {command}",
        "",
        f"{date} · {machine}. Every benchmark ran {notes['runs']} times; medians with min–max. "
        "A ratio is computed per run against the baseline measured right beside it, then its "
        "median is taken, so machine noise that hits both sides cancels.",
        "",
        table(rows),
        "",
        *notes["lines"],
        "",
        f"![latency distribution and throughput against the baselines]({chart_name})",
        END,
    ])
    text = doc_path.read_text() if doc_path.exists() else "# inkwell — performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + body + tail
    else:
        # First run: put the section after the introduction (the first paragraph after the title).
        parts = text.split("\n\n", 2)
        if len(parts) == 3:
            text = parts[0] + "\n\n" + parts[1] + "\n\n" + body + "\n\n" + parts[2]
        else:
            text = text.rstrip("\n") + "\n\n" + body + "\n"
    doc_path.write_text(text)


def draw_chart(png_path, work_dir, latency_series, throughput_bars):
    """latency_series: [(label, sorted seconds)]; throughput_bars: [(label, ratio, target)].
    Left: cumulative distribution of latencies (ms, log x). Right: throughput as a fraction of
    the in-run baseline, with the target beside each bar."""
    work_dir = Path(work_dir)
    plot = [
        "set terminal pngcairo size 1400,560 font 'DejaVu Sans,10'",
        f"set output '{png_path}'",
        "set multiplot layout 1,2",
        "set title 'Registration latency at a fixed 200/s offered load (all runs)'",
        "set xlabel 'milliseconds (log scale)'", "set ylabel 'fraction of requests ≤ x'",
        "set logscale x", "set grid", "set key bottom right", "set yrange [0:1]",
    ]
    curves = []
    for i, (label, values) in enumerate(latency_series):
        data = work_dir / f"latency{i}.dat"
        with open(data, "w") as out:
            for rank, value in enumerate(values, 1):
                out.write(f"{max(value * 1000, 0.01):.4f} {rank / len(values):.5f}\n")
        if values:
            curves.append(f"'{data}' using 1:2 with lines lw 2 title '{label}'")
    plot.append("plot " + ", ".join(curves) if curves else "plot 0 notitle")
    bars = work_dir / "throughput.dat"
    with open(bars, "w") as out:
        for label, ratio, target in throughput_bars:
            out.write(f"\"{label}\" {ratio:.4f} {target if target is not None else 'NaN'}\n")
    plot += [
        "unset logscale x", "unset xlabel", "set yrange [0:1.1<*]", "set key top right",
        "set title 'Throughput as a fraction of the in-run baseline (median of runs)'",
        "set ylabel 'ours ÷ baseline'", "set style data histograms",
        "set style histogram clustered gap 1", "set style fill solid 0.8 border -1",
        "set xtics rotate by -20 left", "set boxwidth 0.9",
        f"plot '{bars}' using 2:xtic(1) title 'measured', '' using 3 title 'target'",
        "unset multiplot",
    ]
    script = work_dir / "chart.gp"
    script.write_text("\n".join(plot) + "\n")
    subprocess.run(["gnuplot", str(script)], check=True, timeout=60, capture_output=True)
