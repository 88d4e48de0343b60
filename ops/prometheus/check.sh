#!/usr/bin/env bash
# Checks the Prometheus configuration, rules, alert tests and the Grafana dashboard
# with the real tools (promtool; python3, standard library only). Prints one line
# per check; a failing check prints its tool's output, then one FAIL line.
# Exit 0 when every check passes, 1 otherwise. Runs from any directory.
#
# Usage: ops/prometheus/check.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1  # ops/prometheus: the paths below are relative
grafana=../grafana
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0
total=0
# check NAME CMD...: runs CMD, quiet unless it fails.
check() {
  local name=$1 rc=0
  shift
  total=$((total + 1))
  "$@" >"$tmp/out" 2>&1 || rc=$?
  if ((rc == 0)); then
    echo "ok: $name"
  else
    sed 's/^/    /' "$tmp/out"
    echo "FAIL: $name (exit $rc)"
    failed=$((failed + 1))
  fi
}

if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool not found on PATH (Debian: apt-get install prometheus)"
  exit 1
fi

check "promtool check config prometheus.yml" promtool check config prometheus.yml
check "promtool check rules rules/*.yml" promtool check rules rules/*.yml
check "promtool test rules tests/*.yml" promtool test rules tests/*.yml
check "dashboard.py --check" python3 "$grafana/dashboard.py" --check

# Every dashboard query, variables as "All", through Prometheus' own PromQL parser:
# as recording rules of a scratch file (JSON is YAML), which promtool parses; a
# group per query, named after its panel, so an error names the panel.
dashboard_rules() {
  python3 "$grafana/dashboard.py" --list-queries | python3 -c '
import json, sys
groups = [{"name": "query %d of panel %r" % (i, q["panel"]),
           "rules": [{"record": "dashboard_query", "expr": q["expr"]}]}
          for i, q in enumerate(map(json.loads, sys.stdin))]
json.dump({"groups": groups}, sys.stdout)
' >"$tmp/dashboard-queries.yml" && promtool check rules "$tmp/dashboard-queries.yml"
}
check "dashboard queries parse as PromQL" dashboard_rules

if ((failed)); then
  echo "check.sh: $failed of $total checks failed"
  exit 1
fi
echo "check.sh: all $total checks passed"
