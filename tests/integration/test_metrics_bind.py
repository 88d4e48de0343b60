"""Where `run --metrics-addr` listens: a bare port binds loopback only (/metrics is
unauthenticated), and a port in use exits 1 with one line saying so (civetweb's own
message names no cause)."""

import socket

from conftest import (
    apply_topics, builtin_stage, free_port, pipeline_spec, run_sluice, scrape_metrics,
    wait_until, write_spec)

STAGE = "first"


def _spec(tmp_path, pipeline_name, broker):
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [
        builtin_stage(STAGE, "tag")]))
    apply_topics(spec)
    return spec


def _other_address():
    """An address of this host that is not loopback, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_metrics_port_in_use_exits_1_saying_so(broker, pipeline_name, tmp_path):
    spec = _spec(tmp_path, pipeline_name, broker)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = run_sluice("run", "-f", spec, "--stage", STAGE, "--metrics-addr", address,
                            timeout=60)
    errors = [line for line in result.stderr.splitlines() if line.startswith("sluice:")]
    print(f"\nmeasured: --metrics-addr {address} in use: exit {result.returncode}: {errors}")
    assert result.returncode == 1, result.stderr
    assert len(errors) == 1 and address in errors[0], result.stderr
    assert "in use" in errors[0].lower(), errors[0]


def test_a_bare_metrics_port_listens_on_loopback_only(broker, pipeline_name, tmp_path,
                                                      start_worker):
    spec = _spec(tmp_path, pipeline_name, broker)
    port = free_port()
    worker = start_worker(spec, STAGE, "--metrics-addr", str(port))
    wait_until(lambda: scrape_metrics(f"127.0.0.1:{port}") is not None, 30,
               f"/metrics on 127.0.0.1:{port}")
    other = _other_address()
    if other is not None:
        assert scrape_metrics(f"{other}:{port}", timeout=2) is None, \
            f"/metrics answered on {other}: a bare port must bind loopback only"
    print(f"\nmeasured: --metrics-addr {port} serves 127.0.0.1:{port}; "
          f"{other or 'no other address'} refused")
    assert worker.terminate(timeout=40) == 0, worker.stderr_tail()
