"""ops/compose, checked statically (Docker cannot run here): `docker-compose config`
accepts compose.yaml; every Sluice service runs a real `sluice` command with flags it
takes; one service per stage of the spec; Prometheus' targets, the published ports and
the addresses agree; every mounted file exists where the configs it feeds expect it;
and the Dockerfile builds with options and flags that exist. No broker."""

import collections
import fnmatch
import json
import os
import pathlib
import re
import shutil
import subprocess
import urllib.parse

import pytest
import yaml

from conftest import repo_path, run_sluice, sluice_path

REPO = repo_path()
COMPOSE_DIR = REPO / "ops/compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
DOCKERFILE = COMPOSE_DIR / "Dockerfile"
PIPELINE = COMPOSE_DIR / "pipeline.yaml"
TARGETS_DIR = COMPOSE_DIR / "prometheus-targets"
PROMETHEUS_YML = REPO / "ops/prometheus/prometheus.yml"
GRAFANA_DIR = REPO / "ops/grafana"
SPEC_IN_CONTAINER = "/etc/sluice/pipeline.yaml"
EXAMPLES_IN_IMAGE = "/opt/sluice/examples"
# What every Debian image holds: not named in the runtime stage's package list.
BASE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}


# --- reading the files -------------------------------------------------------------


def load_yaml(path):
    return yaml.safe_load(path.read_text())


def compose():
    return load_yaml(COMPOSE_FILE)


def spec():
    return load_yaml(PIPELINE)


def sluice_services(doc):
    """The services built from ops/compose/Dockerfile: {name: service}."""
    return {name: s for name, s in doc["services"].items() if "build" in s}


def services_running(doc, command):
    """The Sluice services whose command is `sluice COMMAND ...`: {name: argv}."""
    return {name: s["command"] for name, s in sluice_services(doc).items()
            if s["command"][0] == command}


def flag_value(argv, flag):
    assert argv.count(flag) == 1, f"{argv}: expected {flag} once"
    return argv[argv.index(flag) + 1]


def listen_port(argv, flag):
    """The port of `FLAG 0.0.0.0:PORT`; other containers reach only what listens on
    every interface."""
    host, _, port = flag_value(argv, flag).rpartition(":")
    assert host == "0.0.0.0", f"{flag} {host}:{port}: must listen on 0.0.0.0 in a container"
    return int(port)


def mounts(service):
    """The service's volumes as (kind, source, target): kind "bind" with an absolute host
    path (relative ones are relative to compose.yaml's directory), or "volume"."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            kind, source, target = volume["type"], volume.get("source"), volume["target"]
        else:
            source, target = volume.split(":")[:2]
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        if kind == "bind":
            source = (COMPOSE_DIR / source).resolve()
        found.append((kind, source, target))
    return found


def host_path(service, container_path):
    """The host file that a container path of a service is, through its bind mounts (the
    deepest mount wins); None when no bind mount covers it."""
    best = None
    for kind, source, target in mounts(service):
        target = target.rstrip("/")
        if kind == "bind" and (container_path == target or
                               container_path.startswith(target + "/")):
            if best is None or len(target) > len(best[1]):
                best = (source, target)
    if best is None:
        return None
    rest = container_path[len(best[1]):].lstrip("/")
    return best[0] / rest if rest else best[0]


def container_ports(service):
    """The container ports a service publishes."""
    ports = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append(int(port["target"]))
        else:
            ports.append(int(str(port).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def targets(prefix):
    """Every target of the prometheus-targets files named PREFIX*.json, as (address,
    labels)."""
    found = []
    for path in sorted(TARGETS_DIR.glob(f"{prefix}*.json")):
        for group in json.loads(path.read_text()):
            found += [(t, group.get("labels", {})) for t in group["targets"]]
    return found


def sluice_help(words):
    """`sluice WORDS --help`: (exit code, text)."""
    result = run_sluice(*words, "--help")
    return result.returncode, result.stdout + result.stderr


_OPTION = re.compile(r"^\s+(-[\w-]+(?:,--[\w-]+)?)(.*)$")


def help_options(text):
    """The options a help text lists: {spelling: (required, its spellings)}, with both
    -f and --file as keys for `-f,--file`."""
    options = {}
    for line in text.splitlines():
        match = _OPTION.match(line)
        if match:
            names = frozenset(match.group(1).split(","))
            options.update((name, ("REQUIRED" in match.group(2), names)) for name in names)
    return options


# --- compose.yaml ------------------------------------------------------------------


def test_docker_compose_accepts_the_file():
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail("docker-compose not found: install Debian's package docker-compose "
                    "(apt-get install --no-install-recommends docker-compose); it "
                    "validates compose files without a Docker daemon", pytrace=False)
    result = subprocess.run([tool, "-f", str(COMPOSE_FILE), "config"], cwd=REPO,
                            capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"docker-compose config: {result.stderr.strip()}"
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == set(compose()["services"])


def test_every_sluice_service_runs_a_real_command_with_flags_it_takes():
    doc = compose()
    services = sluice_services(doc)
    assert {"topics", "exporter", "intake"} <= set(services)
    for name, service in services.items():
        argv = service["command"]
        assert isinstance(argv, list), f"{name}: command as a list, not a shell string"
        words = list(argv[:next((i for i, a in enumerate(argv) if a.startswith("-")),
                                len(argv))])
        command = f"`sluice {' '.join(words)}`"
        code, text = sluice_help(words)
        assert code == 0, f"{name}: {command} is not a command: {text}"
        assert "Subcommands:" not in text, f"{name}: {command} needs a subcommand"
        options = help_options(text)
        given = {a for a in argv if a.startswith("-")}
        unknown = sorted(given - options.keys())
        assert not unknown, f"{name}: {command} takes no {unknown}"
        missing = sorted({"/".join(sorted(names)) for required, names in options.values()
                          if required and not names & given})
        assert not missing, f"{name}: {command} requires {missing}"
        spec_flag = "-f" if "-f" in argv else "--file"
        assert flag_value(argv, spec_flag) == SPEC_IN_CONTAINER, name
        assert host_path(service, SPEC_IN_CONTAINER) == PIPELINE, (
            f"{name}: ops/compose/pipeline.yaml is not mounted at {SPEC_IN_CONTAINER}")


def test_every_sluice_service_uses_the_image_built_from_this_tree():
    services = sluice_services(compose())
    assert len({s["image"] for s in services.values()}) == 1
    for name, service in services.items():
        build = service["build"]
        assert (COMPOSE_DIR / build["context"]).resolve() == REPO, name
        assert REPO / build["dockerfile"] == DOCKERFILE, name


def test_every_stage_has_exactly_one_worker_service():
    doc, pipeline = compose(), spec()
    workers = services_running(doc, "run")
    stages = collections.Counter(flag_value(argv, "--stage") for argv in workers.values())
    names = [s["name"] for s in pipeline["stages"]]
    assert sorted(stages) == sorted(names), f"worker services {dict(stages)}, stages {names}"
    assert all(n == 1 for n in stages.values()), f"a stage with several services: {stages}"
    default_partitions = pipeline.get("defaults", {}).get("partitions", 1)
    by_name = {s["name"]: s for s in pipeline["stages"]}
    for name, argv in workers.items():
        stage = by_name[flag_value(argv, "--stage")]
        replicas = doc["services"][name].get("deploy", {}).get("replicas", 1)
        assert 1 <= replicas <= stage.get("partitions", default_partitions), (
            f"{name}: {replicas} replicas; more than the stage's partitions would idle")
        assert flag_value(argv, "--log-format") == "json", name


def test_stateful_stages_keep_their_state_on_a_volume():
    doc, pipeline = compose(), spec()
    stateful = {s["name"] for s in pipeline["stages"] if s.get("state")}
    declared = set(doc.get("volumes") or {})
    for name, argv in services_running(doc, "run").items():
        if flag_value(argv, "--stage") not in stateful:
            continue
        state_dir = flag_value(argv, "--state-dir")
        volumes = [source for kind, source, target in mounts(doc["services"][name])
                   if kind == "volume" and target.rstrip("/") == state_dir.rstrip("/")]
        assert volumes and volumes[0] in declared, f"{name}: no named volume at {state_dir}"


def test_prometheus_targets_name_the_services_and_their_ports():
    doc, pipeline = compose(), spec()
    expected = {f"{name}:{listen_port(argv, '--metrics-addr')}":
                {"pipeline": pipeline["pipeline"], "stage": flag_value(argv, "--stage")}
                for name, argv in services_running(doc, "run").items()}
    listed = targets("workers")
    assert sorted(t for t, _ in listed) == sorted(expected), "workers*.json"
    for target, labels in listed:
        assert labels == expected[target], f"workers*.json: {target} labelled {labels}"
    for prefix, command, flag in (("exporter", "exporter", "--metrics-addr"),
                                  ("intake", "serve", "--addr")):
        want = sorted(f"{name}:{listen_port(argv, flag)}"
                      for name, argv in services_running(doc, command).items())
        assert sorted(t for t, _ in targets(prefix)) == want, f"{prefix}*.json"
        assert all(labels.get("pipeline") == pipeline["pipeline"]
                   for _, labels in targets(prefix)), f"{prefix}*.json: pipeline label"


def test_published_ports_are_the_ones_served():
    doc = compose()
    (intake_name, intake_argv), = services_running(doc, "serve").items()
    assert container_ports(doc["services"][intake_name]) == [listen_port(intake_argv, "--addr")]
    datasource = load_yaml(GRAFANA_DIR / "provisioning/datasources/prometheus.yaml")
    url = urllib.parse.urlsplit(datasource["datasources"][0]["url"])
    assert url.hostname in doc["services"], f"the datasource names {url.hostname}"
    assert url.port in container_ports(doc["services"][url.hostname])
    grafana = doc["services"]["grafana"]
    port = int(grafana.get("environment", {}).get("GF_SERVER_HTTP_PORT", 3000))
    assert container_ports(grafana) == [port]


def test_every_bind_mount_exists_and_every_named_volume_is_declared():
    doc = compose()
    declared = set(doc.get("volumes") or {})
    for name, service in doc["services"].items():
        for kind, source, target in mounts(service):
            if kind == "bind":
                assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"
                assert REPO in source.parents, f"{name}: {source} is outside the repository"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_prometheus_mounts_its_config_rules_and_targets_where_the_config_expects():
    prometheus = compose()["services"]["prometheus"]
    config = next(a.split("=", 1)[1] for a in prometheus["command"]
                  if a.startswith("--config.file="))
    assert host_path(prometheus, config) == PROMETHEUS_YML
    base = pathlib.PurePosixPath(config).parent
    settings = load_yaml(PROMETHEUS_YML)
    for rule_file in settings["rule_files"]:
        host = host_path(prometheus, str(base / rule_file))
        assert host is not None and host.is_file(), f"rule file {rule_file}: not mounted"
        assert host == PROMETHEUS_YML.parent / rule_file, f"rule file {rule_file}: {host}"
    patterns = []
    for job in settings["scrape_configs"]:
        for sd in job.get("file_sd_configs", []):
            for pattern in sd["files"]:
                host = host_path(prometheus, str(base / pattern))
                assert host is not None, f"{job['job_name']}: {pattern} is not mounted"
                assert host.parent == TARGETS_DIR, f"{job['job_name']}: {pattern} -> {host}"
                patterns.append(host.name)
    for path in TARGETS_DIR.iterdir():
        assert any(fnmatch.fnmatch(path.name, p) for p in patterns), (
            f"{path.name}: no job of prometheus.yml reads it ({patterns})")


def test_grafana_mounts_its_provisioning_and_dashboard_where_they_say():
    grafana = compose()["services"]["grafana"]
    provisioning = GRAFANA_DIR / "provisioning"
    for path in provisioning.rglob("*.yaml"):
        inside = f"/etc/grafana/provisioning/{path.relative_to(provisioning)}"
        assert host_path(grafana, inside) == path, f"{inside} is not {path}"
    providers = load_yaml(provisioning / "dashboards/sluice.yaml")["providers"]
    folder = providers[0]["options"]["path"].rstrip("/")
    dashboard = GRAFANA_DIR / "sluice-dashboard.json"
    inside = [target for kind, source, target in mounts(grafana) if source == dashboard]
    assert inside, "ops/grafana/sluice-dashboard.json is not mounted"
    assert all(t.startswith(folder + "/") for t in inside), f"{inside} not under {folder}"
    home = grafana.get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    assert home is None or host_path(grafana, home) == dashboard


def test_the_services_start_in_order():
    doc = compose()
    services = doc["services"]
    kafka = services["kafka"]
    assert kafka.get("healthcheck"), "kafka: a healthcheck, for topics to wait on"
    topics = services["topics"]
    assert topics["command"][:2] == ["topics", "apply"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics.get("restart") == "no", "topics: one shot"
    for name in sluice_services(doc).keys() - {"topics"}:
        condition = services[name]["depends_on"]["topics"]["condition"]
        assert condition == "service_completed_successfully", name


def test_the_spec_names_the_stack_broker_and_agents_in_the_image():
    pipeline = spec()
    kafka = compose()["services"]["kafka"]["environment"]
    for broker in pipeline["kafka"]["brokers"].split(","):
        assert f"//{broker}" in kafka["KAFKA_ADVERTISED_LISTENERS"], broker
    dockerfile = DOCKERFILE.read_text()
    assert re.search(rf"^COPY examples/ {EXAMPLES_IN_IMAGE}/$", dockerfile, re.M)
    for stage in pipeline["stages"]:
        for arg in stage.get("command", []):
            if arg.startswith(EXAMPLES_IN_IMAGE + "/"):
                assert (REPO / "examples" / arg[len(EXAMPLES_IN_IMAGE) + 1:]).is_file(), arg


def test_sluice_validate_accepts_the_spec():
    result = run_sluice("validate", "-f", PIPELINE)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout


# --- the Dockerfile ----------------------------------------------------------------


def dockerfile_stages():
    """The Dockerfile's instructions, continuation lines joined and comments left out,
    per stage: [[(INSTRUCTION, arguments)]]."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in DOCKERFILE.read_text().splitlines()
        if not line.lstrip().startswith("#")))
    stages = []
    for line in text.splitlines():
        if not line.strip():
            continue
        instruction, _, args = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), args.strip()))
    return stages


def runs(stage):
    """The stage's RUN scripts, one a line."""
    return "\n".join(args for instruction, args in stage if instruction == "RUN")


def script_usage(script, flag="--help"):
    result = subprocess.run(["bash", str(REPO / script), flag], capture_output=True,
                            text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{script} {flag}: {result.stderr}"
    return result.stdout


def flags_after(text, script):
    """The flags given to SCRIPT in the RUN scripts TEXT."""
    return [f for m in re.finditer(rf"{re.escape(script)}((?:[ \t]+--?[\w-]+)*)", text)
            for f in m.group(1).split()]


def cmake_cache_names():
    """The options and cache variables the project's CMakeLists.txt files declare."""
    names = set()
    # Not rglob: it would walk the build trees too, where the test broker's files come
    # and go while it walks (CI: FileNotFoundError on a topic's directory).
    for top, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(("build", "."))]
        if "CMakeLists.txt" not in files:
            continue
        text = (pathlib.Path(top) / "CMakeLists.txt").read_text()
        names |= set(re.findall(r"\boption\(\s*(\w+)", text))
        names |= set(re.findall(r"\bset\(\s*(\w+)\b[^)]*\bCACHE\b", text))
    return names


def test_the_dockerfile_is_multi_stage_on_debian_12():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        image = stage[0][1].split()[0]
        assert re.fullmatch(r"debian:(bookworm|12)[\w.-]*", image), image


def test_the_build_stage_uses_options_and_flags_that_exist():
    build = runs(dockerfile_stages()[0])
    declared = cmake_cache_names()
    used = set(re.findall(r"-D([A-Za-z_]\w*)=", build))
    assert {"SLUICE_BUILD_TESTS", "SLUICE_BUILD_BENCH", "SLUICE_RDKAFKA_PREFIX"} <= used
    unknown = [d for d in used if not d.startswith("CMAKE_") and d not in declared]
    assert not unknown, f"-D options no CMakeLists.txt declares: {unknown}"
    assert re.search(r"-DCMAKE_BUILD_TYPE=Release\b", build)
    assert re.search(r"-DSLUICE_BUILD_TESTS=OFF\b", build)
    assert re.search(r"-DSLUICE_BUILD_BENCH=OFF\b", build)
    setup = (REPO / "ops/setup.sh").read_text()
    # The same configure as setup.sh's: every option it passes, passed here too.
    assert set(re.findall(r"-D([A-Za-z_]\w*)=", setup)) <= used

    setup_flags = flags_after(build, "ops/setup.sh")
    assert "--no-build" in setup_flags
    usage = script_usage("ops/setup.sh")
    assert all(f in usage for f in setup_flags), f"ops/setup.sh {setup_flags}: {usage}"
    rdkafka_flags = flags_after(build, "ops/librdkafka.sh")
    usage = script_usage("ops/librdkafka.sh")
    assert all(f in usage for f in rdkafka_flags), f"ops/librdkafka.sh {rdkafka_flags}"

    build_dir = re.search(r"cmake -S \. -B (\S+)", build).group(1)
    assert re.search(r"--target sluice\b", build)
    assert "add_executable(sluice " in (REPO / "ops/CMakeLists.txt").read_text()
    assert f"{build_dir}/ops/sluice" in build, "the binary is taken from another build tree"


def test_the_build_stage_copies_what_setup_sh_runs_before_running_it():
    stage = dockerfile_stages()[0]
    setup_at = next(i for i, (instruction, args) in enumerate(stage)
                    if instruction == "RUN" and "ops/setup.sh" in args)
    copied = []
    for instruction, args in stage[:setup_at]:
        if instruction == "COPY":
            copied += [a.rstrip("/") for a in args.split()[:-1] if not a.startswith("--")]
    setup = (REPO / "ops/setup.sh").read_text()
    # What setup.sh runs, and the patches librdkafka.sh applies from beside itself.
    needed = set(re.findall(r"\bops/[\w.-]+(?:/[\w.-]+)*", setup)) | {"ops/librdkafka-patches"}
    for path in sorted(needed):
        assert (REPO / path).exists(), f"setup.sh names {path}, which does not exist"
        assert any(path == c or path.startswith(c + "/") or c == "."
                   for c in copied), f"{path} is not copied before setup.sh runs ({copied})"


def test_the_build_stage_sets_only_variables_the_scripts_read():
    stage = dockerfile_stages()[0]
    scripts = "".join((REPO / s).read_text() for s in
                      ("ops/setup.sh", "ops/librdkafka.sh", "ops/kafka/kafka.sh"))
    for instruction, args in stage:
        if instruction == "ENV":
            name = args.split("=", 1)[0].split()[0]
            assert name in scripts, f"ENV {name}: no setup script reads it"


def test_the_runtime_stage_runs_sluice_as_a_fixed_non_root_user():
    runtime = dockerfile_stages()[-1]
    instructions = dict(runtime)
    assert json.loads(instructions["ENTRYPOINT"]) == ["sluice"]
    assert instructions["USER"] in ("sluice", "10001", "10001:10001")
    assert instructions["WORKDIR"] == "/var/lib/sluice"
    script = runs(runtime)
    assert re.search(r"useradd\b.*--uid 10001\b.*\bsluice\b", script)
    assert re.search(r"install -d -o sluice -g sluice .*/var/lib/sluice\b", script)
    assert "/stage/usr/local/bin/sluice" in runs(dockerfile_stages()[0])
    assert ("COPY", "--from=build /stage/ /") in runtime, "the binary is not copied"


def needed_libraries(path):
    """The NEEDED entries and the RUNPATH of an ELF file (readelf -d)."""
    text = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                          check=True, timeout=30).stdout
    runpath = re.search(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]", text)
    return (re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", text),
            runpath.group(1).split(":") if runpath else [])


def package_of(library):
    """The Debian package that ships a shared library, per dpkg; None if none does."""
    result = subprocess.run(["dpkg", "-S", f"*/{library}"], capture_output=True, text=True,
                            timeout=30)
    if result.returncode != 0:
        return None
    return result.stdout.splitlines()[0].split(":")[0]


def test_the_runtime_stage_installs_a_package_for_every_library_linked():
    if not (shutil.which("readelf") and shutil.which("dpkg")):
        pytest.skip("needs readelf (binutils) and dpkg to read what the binary links")
    binary = sluice_path()
    libraries, runpath = needed_libraries(binary)
    rdkafka = next((pathlib.Path(d) / "librdkafka.so.1" for d in runpath
                    if (pathlib.Path(d) / "librdkafka.so.1").is_file()), None)
    assert rdkafka is not None, f"{binary}: no librdkafka.so.1 in its RUNPATH {runpath}"
    libraries += needed_libraries(rdkafka)[0]
    script = runs(dockerfile_stages()[-1])
    installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", script))
    missing = {}
    for library in sorted(set(libraries)):
        if library.startswith("librdkafka"):
            continue  # copied from the build stage
        package = package_of(library)
        assert package, f"{library}: no Debian package ships it (dpkg -S)"
        if package not in installed | BASE_PACKAGES:
            missing[library] = package
    assert not missing, f"the runtime stage installs no package for {missing}"


def test_the_build_context_leaves_out_local_build_trees():
    lines = (COMPOSE_DIR / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    # build/ is setup.sh's build tree: its CMake cache names this machine's paths.
    assert any(fnmatch.fnmatch("build", p) for p in patterns), patterns
    assert ".git" in patterns
