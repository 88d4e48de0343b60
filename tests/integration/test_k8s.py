"""`sluice k8s` (issue 11), checked statically: the YAML parses; names, topics, groups and
replica bounds match the spec; probes point at endpoints a real worker serves; the
rendered example in ops/k8s is what the command prints today."""

import os
import urllib.error
import urllib.request

import yaml

from conftest import (apply_topics, builtin_stage, exec_stage, free_port, pipeline_spec,
                      repo_path, run_sluice, wait_until, write_spec)

EXAMPLE_ENV = {"KAFKA_BROKERS": "kafka-bootstrap.kafka.svc:9092"}
EXAMPLE_IMAGE = "ghcr.io/example/sluice-tour:1.0"
SHUTDOWN_DEADLINE_S = 30  # WorkerOptions::shutdown_deadline


def render(spec, *args, env=None):
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        result = run_sluice("k8s", "-f", spec, *args)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return result


def documents(text):
    return list(yaml.safe_load_all(text))


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_manifests_match_the_spec(tmp_path):
    spec_path = write_spec(tmp_path, pipeline_spec("shop", "kafka-0.kafka:9092", [
        exec_stage("fetch", next=["count"], scale={"min": 2, "max": 10}, lag_threshold=250),
        builtin_stage("count", "count", state=True, retry={"mode": "in_place"},
                      scale={"max": 2})], partitions=4))
    result = render(spec_path, "--image", "registry.example/shop:7", "--namespace", "jobs")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # a reachable broker name: no warning
    docs = documents(result.stdout)
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment", "ScaledObject",
                                         "Deployment", "ScaledObject"]
    assert all(d["metadata"]["namespace"] == "jobs" for d in docs)
    config = docs[0]
    assert config["metadata"]["name"] == "shop-spec"
    assert config["data"]["pipeline.yaml"] == spec_path.read_text()

    deployments, scaled = by_kind(docs, "Deployment"), by_kind(docs, "ScaledObject")
    assert set(deployments) == set(scaled) == {"shop-fetch", "shop-count"}
    for stage, (lo, hi, lag) in {"fetch": (2, 4, "250"), "count": (1, 2, "1000")}.items():
        name = f"shop-{stage}"
        pod = deployments[name]["spec"]["template"]
        assert deployments[name]["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"]
        assert pod["spec"]["terminationGracePeriodSeconds"] > SHUTDOWN_DEADLINE_S
        worker = pod["spec"]["containers"][0]
        assert worker["image"] == "registry.example/shop:7"
        args = worker["args"]
        assert args[:5] == ["run", "-f", "/etc/sluice/pipeline.yaml", "--stage", stage]
        port = next(p for p in worker["ports"] if p["name"] == "metrics")["containerPort"]
        assert args[args.index("--metrics-addr") + 1] == f"0.0.0.0:{port}"
        assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        assert all(isinstance(v, str) for v in pod["metadata"]["annotations"].values())
        assert {"secretRef": {"name": "shop-env", "optional": True}} in worker["envFrom"]

        keda = scaled[name]["spec"]
        assert keda["scaleTargetRef"]["name"] == name
        assert (keda["minReplicaCount"], keda["maxReplicaCount"]) == (lo, hi)
        topic = "shop.intake" if stage == "fetch" else f"shop.{stage}"
        triggers = [t["metadata"] for t in keda["triggers"]]
        assert [t["topic"] for t in triggers] == [topic, f"shop.{stage}.retry"]
        for t in triggers:
            assert t["consumerGroup"] == f"sluice.shop.{stage}"
            assert t["bootstrapServers"] == "kafka-0.kafka:9092"
            assert t["lagThreshold"] == lag  # KEDA reads strings
    count = deployments["shop-count"]["spec"]["template"]["spec"]
    assert count["containers"][0]["args"][-2:] == ["--state-dir", "/var/lib/sluice"]
    assert {"name": "state", "emptyDir": {}} in count["volumes"]


def test_a_loopback_broker_warns_and_embedded_is_refused(tmp_path):
    local = write_spec(tmp_path, pipeline_spec("p", "127.0.0.1:9092", [
        builtin_stage("a", "tag")]), name="local.yaml")
    result = render(local)
    assert result.returncode == 0
    assert "which pods cannot reach" in result.stderr
    embedded = write_spec(tmp_path, pipeline_spec("p", "embedded", [builtin_stage("a", "tag")]),
                          name="embedded.yaml")
    refused = render(embedded)
    assert refused.returncode == 2 and "brokers is embedded" in refused.stderr


def test_the_rendered_example_in_ops_k8s_is_current():
    directory = repo_path() / "ops/k8s"
    result = render(directory / "pipeline.yaml", "--image", EXAMPLE_IMAGE, env=EXAMPLE_ENV)
    assert result.returncode == 0, result.stderr
    assert (directory / "manifests.yaml").read_text() == result.stdout, (
        "ops/k8s/manifests.yaml is stale: regenerate it as ops/k8s/README.md says")


def test_a_worker_serves_the_probes(broker, pipeline_name, tmp_path, start_worker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [builtin_stage("a", "tag")]))
    apply_topics(spec)
    port = free_port()
    start_worker(spec, "a", "--metrics-addr", f"127.0.0.1:{port}")

    def get(path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    wait_until(lambda: get("/healthz") == 200, 30, "/healthz to answer 200")
    wait_until(lambda: get("/readyz") == 200, 60, "/readyz to answer 200 once joined")
    assert get("/metrics") == 200
    assert get("/nope") == 404
