#!/usr/bin/env python3
"""Generates the Sluice Grafana dashboard, sluice-dashboard.json, from this file.

  dashboard.py                  write sluice-dashboard.json beside this file
  dashboard.py --check          exit 1 unless the committed JSON is what this writes, and valid
  dashboard.py --list-queries [--pipeline P] [--stage S]
                                every panel's PromQL, one {"panel", "expr"} JSON line each,
                                the variables replaced by P and S (default: all, `.*`)

Panels read the recording rules of ops/prometheus/rules/recording.yml, so the
dashboard and the alerts aggregate alike (queue depth and workers: the max over the
exporter and the workers, never the sum). Standard library only.
"""
import argparse
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
OUTPUT = HERE / "sluice-dashboard.json"
DATASOURCE_PROVISIONING = HERE / "provisioning" / "datasources"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
COLUMNS = 24  # Grafana's grid width

STAGE = 'pipeline=~"$pipeline", stage=~"$stage"'
PIPELINE = 'pipeline=~"$pipeline"'  # the pipeline's ends and the intake have no stage
LEGEND = "{{pipeline}}/{{stage}}"


# --- Panel kinds: every panel is made by one of these, so they look alike. ---

def target(expr, legend, ref_id):
    return {"datasource": DATASOURCE, "editorMode": "code", "expr": expr,
            "legendFormat": legend, "range": True, "refId": ref_id}


def thresholds(*steps):
    """Green below the first step; steps are (value, color) from there on."""
    return {"mode": "absolute",
            "steps": [{"color": "green", "value": None}]
            + [{"color": color, "value": value} for value, color in steps]}


def stat(title, description, expr, unit, *steps):
    return {
        "type": "stat", "title": title, "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit, "color": {"mode": "thresholds"},
                                     "thresholds": thresholds(*steps)},
                        "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                    "orientation": "auto", "textMode": "auto", "showPercentChange": False,
                    "wideLayout": True},
        "targets": [target(expr, "", "A")],
    }


def timeseries(title, description, queries, unit, steps=False, dashed=None):
    """queries: (expr, legend) pairs. steps: a 0/1 gauge, drawn as steps.
    dashed: a regex of series names drawn dashed (reference lines, e.g. an SLO)."""
    overrides = []
    if dashed:
        overrides.append({"matcher": {"id": "byRegexp", "options": dashed},
                          "properties": [{"id": "custom.lineStyle",
                                          "value": {"fill": "dash", "dash": [10, 10]}}]})
    defaults = {"unit": unit, "min": 0, "color": {"mode": "palette-classic"},
                "custom": {"drawStyle": "line",
                           "lineInterpolation": "stepAfter" if steps else "linear",
                           "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                           "spanNulls": False}}
    if steps:
        defaults.update(max=1, decimals=0)
    return {
        "type": "timeseries", "title": title, "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": defaults, "overrides": overrides},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True,
                               "calcs": []},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [target(expr, legend, chr(ord("A") + i))
                    for i, (expr, legend) in enumerate(queries)],
    }


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def by_stage(metric, matchers=""):
    """metric{pipeline=~"$pipeline", stage=~"$stage", matchers}"""
    return metric + "{" + ", ".join(filter(None, [STAGE, matchers])) + "}"


def by_pipeline(metric):
    return metric + "{" + PIPELINE + "}"


def quantiles(buckets):
    return [(f"histogram_quantile({q}, {by_stage(buckets)})", f"{LEGEND} p{round(q * 100)}")
            for q in (0.5, 0.95, 0.99)]


# --- The panels, section by section: (title, panel height, [(width, panel)]). ---

def sections():
    depth = "pipeline_stage_topic:sluice_queue_depth:max"
    dlq = by_stage(depth, 'topic="dlq"')
    tasks = "pipeline_stage_outcome:sluice_tasks:rate1m"
    return [
        ("At a glance", 4, [
            (4, stat("Jobs in", "Records arriving on the pipeline's intake topic (sluice "
                     "submit, sluice serve), per second over 1m; from the exporter.",
                     f"sum({by_pipeline('pipeline:sluice_intake:rate1m')})", "suffix: jobs/s")),
            (4, stat("Jobs out", "Records arriving on the pipeline's done topic, per second "
                     "over 1m; from the exporter.",
                     f"sum({by_pipeline('pipeline:sluice_done:rate1m')})", "suffix: jobs/s")),
            (4, stat("Oldest waiting job", "Age of the oldest record no worker has "
                     "committed yet, over the input and retry topics of the stages shown.",
                     f"max({by_stage('pipeline_stage_topic:sluice_oldest_waiting_seconds:max')})",
                     "s", (60, "orange"), (300, "red"))),
            (3, stat("Stages paused", "Stages with a worker holding its input back "
                     "(backpressure: a stage after it is full).",
                     f"count({by_stage('pipeline_stage:sluice_backpressure_paused:max')} == 1)"
                     " or vector(0)", "short", (1, "orange"))),
            # The alerts' verdict (with their `for:`), so the glance and the pager agree.
            (3, stat("Stages stuck", "Stages whose SluiceStageStuck or "
                     "SluiceStageWithoutWorkers alert fires: records wait and nothing ends.",
                     "count(count by (pipeline, stage) (" + by_stage(
                         "ALERTS", 'alertname=~"SluiceStageStuck|SluiceStageWithoutWorkers", '
                         'alertstate="firing"') + ")) or vector(0)",
                     "short", (1, "red"))),
            (3, stat("Circuits open", "Stages whose circuit breaker is open or probing in "
                     "any worker.",
                     f"count({by_stage('pipeline_stage:sluice_circuit_open:max')} == 1)"
                     " or vector(0)", "short", (1, "red"))),
            (3, stat("DLQ records", "Records in the stages' dead-letter topics "
                     "(sluice dlq list shows them).",
                     f"sum({dlq})", "short", (1, "orange"))),
        ]),
        ("Queues", 8, [
            *[(8, timeseries(f"Queue depth: {title}", f"Records on each stage's {title} "
                             f"topic {what}.",
                             [(by_stage(depth, f'topic="{topic}"'), LEGEND)], "short"))
              for topic, title, what in (("input", "input", "not yet committed by its group"),
                                         ("retry", "retry", "not yet committed by its group"),
                                         ("dlq", "DLQ", "(dead letters)"))],
            (12, timeseries("Oldest waiting record", "Age of the oldest uncommitted record "
                            "of each stage's input and retry topics.",
                            [(by_stage("pipeline_stage_topic:sluice_oldest_waiting_seconds:max"),
                              f"{LEGEND} {{{{topic}}}}")], "s")),
            (12, timeseries("DLQ growth", "Dead letters added in the last 5 minutes (what "
                            "SluiceDLQGrowing alerts on).",
                            [(f"delta({dlq}[5m])", LEGEND)],
                            "short")),
        ]),
        ("Throughput", 8, [
            (12, timeseries("Tasks ended", "Task attempts that ended, any outcome, per "
                            "second over 1m.",
                            [(f"sum by (pipeline, stage) ({by_stage(tasks)})", LEGEND)],
                            "suffix: tasks/s")),
            (12, timeseries("Outcomes", "Task attempts by outcome (ok, retried, "
                            "dead_lettered), per second over 1m.",
                            [(by_stage(tasks), f"{LEGEND} {{{{outcome}}}}")], "suffix: tasks/s")),
            (12, timeseries("Retry rate", "Attempts that failed and will run again, per "
                            "second over 1m.",
                            [(by_stage(tasks, 'outcome="retried"'), LEGEND)], "suffix: retries/s")),
            (12, timeseries("Errors by kind", "Failed attempts by error kind (retried or "
                            "dead-lettered), per second over 1m.",
                            [(by_stage("pipeline_stage_kind:sluice_task_errors:rate1m"),
                              f"{LEGEND} {{{{kind}}}}")], "suffix: errors/s")),
        ]),
        ("Latency", 8, [
            (12, timeseries("Processing time", "Time an attempt spent in the stage: "
                            "p50, p95, p99 over 1m.",
                            quantiles("pipeline_stage_le:sluice_task_duration_seconds_bucket:rate1m"),
                            "s")),
            (12, timeseries("End-to-end latency", "From a job's submission to the end of "
                            "its task at the stage: p50, p95, p99 over 5m, and the spec's "
                            "slo.end_to_end_p99 (dashed) that SluiceEndToEndSLOBreached "
                            "compares the p99 with.",
                            quantiles("pipeline_stage_le:sluice_end_to_end_seconds_bucket:rate5m")
                            + [("max by (pipeline, stage) ("
                                + by_stage("sluice_slo_end_to_end_p99_seconds") + ")",
                                f"{LEGEND} SLO p99")],
                            "s", dashed=".* SLO p99")),
        ]),
        ("Workers and flow control", 8, [
            (6, timeseries("Workers", "Members of each stage's consumer group.",
                           [(by_stage("pipeline_stage:sluice_stage_workers:max"), LEGEND)],
                           "short")),
            (6, timeseries("In-flight tasks", "Tasks running, over the stage's workers.",
                           [(by_stage("pipeline_stage:sluice_inflight_tasks:sum"), LEGEND)],
                           "short")),
            (6, timeseries("Backpressure paused", "1 while a worker of the stage holds "
                           "its input back.",
                           [(by_stage("pipeline_stage:sluice_backpressure_paused:max"), LEGEND)],
                           "short", steps=True)),
            (6, timeseries("Circuit open", "1 while a worker's circuit breaker is open "
                           "or probing.",
                           [(by_stage("pipeline_stage:sluice_circuit_open:max"), LEGEND)],
                           "short", steps=True)),
        ]),
        ("State restore (stateful stages)", 8, [
            (12, timeseries("Restore: records applied", "Changelog records applied to "
                            "local state by restores, per second over 1m.",
                            [(by_stage("pipeline_stage:sluice_state_restore_records:rate1m"),
                              LEGEND)], "suffix: records/s")),
            (12, timeseries("Restore: records left", "Changelog records still to restore, "
                            "over the partitions restoring.",
                            [(by_stage("pipeline_stage:sluice_state_restore_lag:sum"), LEGEND)],
                            "short")),
        ]),
        ("HTTP intake (sluice serve)", 8, [
            (12, timeseries("Requests by status", "HTTP requests answered, by status "
                            "code (429: the entry stage is full), per second over 1m.",
                            [(by_pipeline("pipeline_code:sluice_intake_requests:rate1m"),
                              "{{pipeline}} {{code}}")], "reqps")),
            (12, timeseries("Jobs accepted", "Jobs the broker acknowledged, per second "
                            "over 1m.",
                            [(by_pipeline("pipeline:sluice_intake_jobs:rate1m"), "{{pipeline}}")],
                            "suffix: jobs/s")),
        ]),
    ]


def layout(section_list):
    """Rows of panels, left to right, wrapping at 24 columns; ids in reading order."""
    placed, y = [], 0
    for title, height, panels in section_list:
        placed.append((row(title), {"h": 1, "w": COLUMNS, "x": 0, "y": y}))
        y, x = y + 1, 0
        for width, panel in panels:
            if x + width > COLUMNS:
                x, y = 0, y + height
            placed.append((panel, {"h": height, "w": width, "x": x, "y": y}))
            x += width
        y += height
    return [{"id": i, "gridPos": grid, **panel} for i, (panel, grid) in enumerate(placed, 1)]


def variable(name, label, definition):
    return {
        "name": name, "label": label, "type": "query", "datasource": DATASOURCE,
        "definition": definition,
        "query": {"query": definition, "refId": "StandardVariableQuery"},
        "refresh": 2,  # on time range change: stages come and go
        "multi": True, "includeAll": True, "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [], "regex": "", "sort": 1, "hide": 0,
    }


def dashboard():
    return {
        "uid": "sluice-pipeline",
        "title": "Sluice pipeline",
        "description": "Queues, throughput, latency and flow control of Sluice pipelines, "
                       "per stage. Generated by ops/grafana/dashboard.py: edit that, not this.",
        "tags": ["sluice"],
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "10s",
        "timezone": "browser",
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": [
            variable("pipeline", "Pipeline", "label_values(sluice_queue_depth, pipeline)"),
            variable("stage", "Stage",
                     'label_values(sluice_queue_depth{pipeline=~"$pipeline"}, stage)'),
        ]},
        "panels": layout(sections()),
    }


def render(dash):
    return json.dumps(dash, indent=2) + "\n"


# --- --check ---

VARIABLE_USE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]")


def provisioned_uids():
    # A line regex, not a YAML parser, to stay on the standard library: the files are ours.
    uids = set()
    for path in sorted(DATASOURCE_PROVISIONING.glob("*.y*ml")):
        uids.update(re.findall(r"^\s*(?:-\s*)?uid:\s*[\"']?([\w.-]+)", path.read_text(), re.M))
    return uids


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def datasources(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            else:
                yield from datasources(value)
    elif isinstance(node, list):
        for value in node:
            yield from datasources(value)


def overlaps(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def panel_problems(panels):
    seen = {}
    for p in panels:
        name = f"panel {p.get('id')} '{p.get('title')}'"
        if p.get("id") in seen:
            yield f"{name}: id also used by '{seen[p.get('id')]}'"
        seen[p.get("id")] = p.get("title")
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "hwxy"):
            yield f"{name}: gridPos needs integer h, w, x, y: {g}"
        elif g["x"] < 0 or g["y"] < 0 or g["w"] < 1 or g["h"] < 1 or g["x"] + g["w"] > COLUMNS:
            yield f"{name}: gridPos {g} is outside the {COLUMNS} columns"
        if p.get("type") == "row":
            continue
        if p.get("datasource") is None:
            yield f"{name}: no datasource"
        targets = p.get("targets", [])
        if not targets:
            yield f"{name}: no query"
        for t in targets:
            if not t.get("expr") or t.get("datasource") is None:
                yield f"{name}: query {t.get('refId')} lacks an expr or a datasource"
        if len({t.get("refId") for t in targets}) != len(targets):
            yield f"{name}: refIds repeat"
    for i, a in enumerate(panels):
        for b in panels[i + 1:]:
            if "gridPos" in a and "gridPos" in b and overlaps(a["gridPos"], b["gridPos"]):
                yield f"panel {a['id']} '{a['title']}' overlaps panel {b['id']} '{b['title']}'"


def problems(dash, uids):
    if not isinstance(dash.get("schemaVersion"), int):
        yield "no schemaVersion"
    yield from panel_problems(dash.get("panels", []))
    for ds in datasources(dash):
        if not isinstance(ds, dict) or ds.get("uid") not in uids:
            yield f"datasource {json.dumps(ds)} is not one provisioned ({sorted(uids)})"
    variables = dash.get("templating", {}).get("list", [])
    defined = {v["name"] for v in variables}
    # `current` and `options` hold values, such as $__all, not uses.
    used = [dash.get("panels", [])] + [{k: v for k, v in var.items()
                                        if k not in ("current", "options")} for var in variables]
    for text in strings(used):
        for match in VARIABLE_USE.finditer(text):
            name = next(group for group in match.groups() if group)
            if name not in defined:
                yield f"${name} is used but not defined (in {text!r})"


def check():
    dash = dashboard()
    expected = render(dash)
    found = list(problems(dash, provisioned_uids()))
    try:
        if OUTPUT.read_text() != expected:
            found.insert(0, f"{OUTPUT.name} is stale: run ops/grafana/dashboard.py and commit it")
    except OSError as e:
        found.insert(0, f"{OUTPUT.name} cannot be read ({e.strerror}): run ops/grafana/dashboard.py")
    for problem in found:
        print(f"dashboard.py --check: {problem}", file=sys.stderr)
    return 1 if found else 0


# --- --list-queries, and what render.py shares ---

NAME = re.compile(r"[a-z0-9-]+")  # pipeline and stage names (topics/SPEC.md): no regex syntax


def substitute(expr, pipeline=".*", stage=".*"):
    """The expression as Grafana sends it with these variable values (a name or `.*`)."""
    values = {"pipeline": pipeline, "stage": stage}
    return VARIABLE_USE.sub(lambda m: values[next(g for g in m.groups() if g)], expr)


def queries(dash):
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            yield panel, t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--list-queries", action="store_true")
    parser.add_argument("--pipeline", default=".*")
    parser.add_argument("--stage", default=".*")
    args = parser.parse_args()
    for value in (args.pipeline, args.stage):
        if value != ".*" and not NAME.fullmatch(value):
            parser.error(f"'{value}' is not a pipeline or stage name ([a-z0-9-]+)")
    if args.check:
        return check()
    if args.list_queries:
        for panel, t in queries(dashboard()):
            print(json.dumps({"panel": panel["title"],
                              "expr": substitute(t["expr"], args.pipeline, args.stage)}))
        return 0
    OUTPUT.write_text(render(dashboard()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
