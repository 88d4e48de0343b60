"""Test agent: refuses, for good ("retry": false), every task whose payload has
"fail", until the file named by $FIX_FILE exists; then it passes every task on.

    {"n": 3, "fail": "refused"}                       -> error "refused: cannot process n=3"
    {"n": 4, "fail": "exploded", "kind": "exception"} -> the same, with kind "exception"

So a test can dead-letter jobs, "fix" the stage by creating the file, and replay them.
Outputs are the payload with "fixed": true added (when it had "fail").
"""
import json
import os
import sys


def answer(task, fix_file):
    payload = task["payload"]
    failing = isinstance(payload, dict) and "fail" in payload
    if failing and not os.path.exists(fix_file):
        return {"id": task["id"], "error": f"{payload['fail']}: cannot process n={payload.get('n')}",
                "retry": False, "kind": payload.get("kind", "error")}
    if failing:
        payload["fixed"] = True
    return {"id": task["id"], "outputs": [{"payload": payload}]}


def main():
    fix_file = os.environ["FIX_FILE"]
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(json.loads(line), fix_file)) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
