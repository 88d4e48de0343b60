#!/usr/bin/env python3
"""Renders the Sluice dashboard from a real Prometheus to one PNG, in the dashboard's
grid: a look at what Grafana would show, where Grafana cannot run.

  render.py --prometheus http://127.0.0.1:9090 --start -15m --out dashboard.png \\
            [--end now] [--pipeline P] [--stage S]

Each panel of sluice-dashboard.json gets its title and its queries' results over the
range (/api/v1/query_range): a time series panel one line per series, named by the
query's legendFormat; a stat panel the last value. --start and --end take `now`, a
duration back from now (-15m, -2h), unix seconds or an RFC 3339 time. Panels without
data are named on stderr. Exit 1 when Prometheus cannot be reached or a query fails.
Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import datetime as dt
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

try:
    import matplotlib
except ImportError:
    sys.exit(f"render.py: {sys.executable} has no matplotlib: apt-get install "
             "python3-matplotlib (then run /usr/bin/python3), or pip install matplotlib")
matplotlib.use("Agg")  # no display: draw straight to the file
import matplotlib.dates as mdates  # noqa: E402  (after use())
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

import dashboard  # noqa: E402  (beside this file: the variables as Grafana fills them)

# One grid cell is about 80 x 30 px in Grafana on a 1920 px screen.
COLUMN_INCHES, ROW_INCHES, HEADER_INCHES = 0.75, 0.32, 0.5
LEGEND_ROW_INCHES, MAX_LEGEND = 0.14, 12


class QueryError(Exception):
    pass


def parse_time(text, now):
    if text == "now":
        return now
    relative = re.fullmatch(r"-(\d+)([smhd])", text)
    if relative:
        return now - int(relative[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[relative[2]]
    try:
        return float(text)
    except ValueError:
        return dt.datetime.fromisoformat(text).timestamp()  # ValueError: argparse says so


def query_range(base, expr, start, end, step):
    url = base.rstrip("/") + "/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": expr, "start": start, "end": end, "step": step})
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)["data"]["result"]
    except urllib.error.HTTPError as e:  # 400/422: a bad query; the body says why
        try:
            raise QueryError(json.load(e).get("error", str(e))) from None
        except json.JSONDecodeError:
            raise QueryError(str(e)) from None


def legend(fmt, metric):
    if not fmt:  # as Grafana: the series' labels
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items())) + "}"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m[1], ""), fmt)


def format_value(value, unit):
    if not math.isfinite(value):
        return str(value)
    if unit == "s":
        for size, name in ((3600, "h"), (60, "min"), (1, "s"), (0.001, "ms")):
            if abs(value) >= size or size == 0.001:
                return f"{value / size:.3g} {name}"
    scaled = next((f"{value / size:.3g}{name}" for size, name in ((1e6, "M"), (1e3, "k"))
                   if abs(value) >= size), f"{value:.3g}")
    if unit.startswith("suffix:"):
        return scaled + unit[len("suffix:"):]
    return scaled + (" req/s" if unit == "reqps" else "")


def threshold_color(value, steps):
    color = "black"
    for step in steps:
        if step["value"] is None or value >= step["value"]:
            color = step["color"]
    return color


def add_axes(fig, grid, top, bottom, left, right=0.1):
    """Axes filling the panel's grid cell less these margins, all in inches."""
    width, height = fig.get_size_inches()
    x = grid["x"] * COLUMN_INCHES + left
    y = HEADER_INCHES + grid["y"] * ROW_INCHES + top
    w = grid["w"] * COLUMN_INCHES - left - right
    h = grid["h"] * ROW_INCHES - top - bottom
    return fig.add_axes([x / width, 1 - (y + h) / height, w / width, h / height])


def series_values(series):
    times = [dt.datetime.fromtimestamp(t, dt.timezone.utc) for t, _ in series["values"]]
    values = [float(v) for _, v in series["values"]]
    return times, [v if math.isfinite(v) else math.nan for v in values]


def draw_stat(fig, panel, results):
    ax = add_axes(fig, panel["gridPos"], top=0.3, bottom=0.05, left=0.1)
    ax.set_title(panel["title"], fontsize=9, loc="left")
    ax.axis("off")
    defaults = panel["fieldConfig"]["defaults"]
    values = [v for v in series_values(results[0][1])[1] if not math.isnan(v)] if results else []
    if not values:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", fontsize=14, color="grey")
        return ax
    ax.text(0.5, 0.45, format_value(values[-1], defaults["unit"]), ha="center", va="center",
            fontsize=22, weight="bold",
            color=threshold_color(values[-1], defaults["thresholds"]["steps"]))
    return ax


def dashed_pattern(panel):
    for override in panel["fieldConfig"].get("overrides", []):
        if override["matcher"]["id"] == "byRegexp":
            return override["matcher"]["options"]
    return "(?!)"  # matches nothing


def draw_timeseries(fig, panel, results, start, end):
    grid, defaults = panel["gridPos"], panel["fieldConfig"]["defaults"]
    columns = max(1, int(grid["w"] * COLUMN_INCHES / 2.2))
    legend_rows = math.ceil(min(len(results), MAX_LEGEND) / columns)
    ax = add_axes(fig, grid, top=0.3, bottom=0.3 + legend_rows * LEGEND_ROW_INCHES, left=0.8)
    ax.set_title(panel["title"], fontsize=9, loc="left")
    steps = defaults["custom"]["lineInterpolation"] == "stepAfter"
    for fmt, series in results:
        name = legend(fmt, series["metric"])
        ax.plot(*series_values(series), "--" if re.fullmatch(dashed_pattern(panel), name) else "-",
                drawstyle="steps-post" if steps else "default", linewidth=1.2, label=name)
    span = end - start
    ax.set_xlim(dt.datetime.fromtimestamp(start, dt.timezone.utc),
                dt.datetime.fromtimestamp(end, dt.timezone.utc))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=max(3, grid["w"] // 2)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(
        "%H:%M:%S" if span <= 1800 else "%H:%M" if span <= 86400 else "%m-%d %H:%M",
        tz=dt.timezone.utc))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, defaults["unit"])))
    ax.set_ylim(bottom=defaults.get("min"))
    if "max" in defaults:
        ax.set_ylim(top=defaults["max"] * 1.05)  # a 0/1 line at 1 stays in sight
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if not results:
        ax.text(0.5, 0.5, "No data", transform=ax.transAxes, ha="center", va="center",
                fontsize=12, color="grey")
        return ax
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > MAX_LEGEND:
        handles = handles[:MAX_LEGEND]
        labels = labels[:MAX_LEGEND - 1] + [f"... {len(labels) - MAX_LEGEND + 1} more"]
    ax.legend(handles, labels, fontsize=6, loc="upper left", ncol=columns, frameon=False,
              bbox_to_anchor=(0, -0.3 / (ax.get_position().height * fig.get_size_inches()[1])))
    return ax


def run_queries(args, panel, start, end, step):
    """(legendFormat, series) for every series of every query; errors as text."""
    results, errors = [], []
    for t in panel["targets"]:
        expr = dashboard.substitute(t["expr"], args.pipeline, args.stage)
        try:
            results += [(t["legendFormat"], s)
                        for s in query_range(args.prometheus, expr, start, end, step)]
        except QueryError as e:
            errors.append(f"query {t['refId']}: {e}")
    return results, errors


def render(args, dash, start, end):
    """The figure, and whether a query failed."""
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dash["panels"])
    fig = plt.figure(figsize=(24 * COLUMN_INCHES, HEADER_INCHES + rows * ROW_INCHES))
    fig.text(0.005, 1 - 0.3 / fig.get_size_inches()[1],
             f"{dash['title']}: pipeline {args.pipeline}, stage {args.stage}, "
             f"{dt.datetime.fromtimestamp(start, dt.timezone.utc):%Y-%m-%d %H:%M:%S} to "
             f"{dt.datetime.fromtimestamp(end, dt.timezone.utc):%H:%M:%S} UTC", fontsize=13)
    step = max(5, round((end - start) / 240))  # Prometheus scrapes every 5 s
    failed = False
    for panel in dash["panels"]:
        if panel["type"] == "row":
            y = HEADER_INCHES + (panel["gridPos"]["y"] + 0.7) * ROW_INCHES
            fig.text(0.005, 1 - y / fig.get_size_inches()[1], panel["title"], fontsize=11,
                     weight="bold")
            continue
        results, errors = run_queries(args, panel, start, end, step)
        if panel["type"] == "stat":
            ax = draw_stat(fig, panel, results)
        else:
            ax = draw_timeseries(fig, panel, results, start, end)
        for i, error in enumerate(errors):
            ax.text(0.01, 0.85 - 0.12 * i, error[:120], transform=ax.transAxes, fontsize=6,
                    color="red")
            print(f"render.py: panel '{panel['title']}': {error}", file=sys.stderr)
            failed = True
        if not results and not errors:
            print(f"render.py: panel '{panel['title']}': no data", file=sys.stderr)
    return fig, failed


def joined_time_values(argv):
    """`--start -15m` as `--start=-15m`: argparse takes a value that starts with `-`
    for an option of its own."""
    out = []
    for arg in argv:
        if out and out[-1] in ("--start", "--end"):
            out[-1] += "=" + arg
        else:
            out.append(arg)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--start", default="-15m")
    parser.add_argument("--end", default="now")
    parser.add_argument("--out", required=True)
    parser.add_argument("--pipeline", default=".*")
    parser.add_argument("--stage", default=".*")
    args = parser.parse_args(joined_time_values(sys.argv[1:]))
    for value in (args.pipeline, args.stage):
        if value != ".*" and not dashboard.NAME.fullmatch(value):
            parser.error(f"'{value}' is not a pipeline or stage name ([a-z0-9-]+)")
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    try:
        start, end = parse_time(args.start, now), parse_time(args.end, now)
    except ValueError as e:
        parser.error(f"--start/--end: {e}")
    if start >= end:
        parser.error("--start must be before --end")
    dash = json.loads(dashboard.OUTPUT.read_text())
    try:
        fig, failed = render(args, dash, start, end)
    except OSError as e:  # URLError, refused, timed out: nothing to draw from
        print(f"render.py: cannot query Prometheus at {args.prometheus}: "
              f"{getattr(e, 'reason', e)}", file=sys.stderr)
        return 1
    fig.savefig(args.out, dpi=100)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
