"""An exec stage that keeps each key's history in its state (`state: true`), a stand-in
for an agent's conversation (issue 10): examples/agents/history_agent.py appends each
task's message to its key's history, which Sluice keeps, not the agent. Under
exactly_once, through a worker killed -9 with its state directory, a third worker
joining and a worker leaving: every job comes out once, and each output's history is
exactly its key's messages up to and including its own, in submission order."""

import shutil

from conftest import (apply_topics, assert_exactly_once, done_at_least,
                      keys_off_their_prefix, pipeline_spec, read_done, repo_path, submit,
                      wait_until, write_spec)

JOBS = 3000
KEYS = 30
HISTORY_AGENT = str(repo_path() / "examples/agents/history_agent.py")


def with_history(prefix):
    """What history_agent.py makes of a key's latest job: it, with the key's messages
    so far."""
    return {**prefix[-1], "history": [payload["message"] for payload in prefix]}


def test_every_keys_history_is_its_inputs_in_order_through_kills_and_rebalances(
        broker, pipeline_name, tmp_path, start_worker):
    stage = {"name": "chat", "kind": "exec", "state": True, "state_dir": "state",
             "retry": {"mode": "in_place"}, "concurrency": 8,
             "command": ["python3", HISTORY_AGENT, "--concurrency", "8"]}
    spec = write_spec(tmp_path, pipeline_spec(pipeline_name, broker, [stage],
                                              guarantee="exactly_once", partitions=4))
    apply_topics(spec)

    def worker(name):
        return start_worker(spec, "chat", "--instance", name)

    payloads = [{"message": f"m{n}", "k": f"user{n % KEYS}"} for n in range(JOBS)]
    third = JOBS // 3
    w1, w2 = worker("w1"), worker("w2")
    # w2 holds partitions (and their state) before it is killed.
    wait_until(lambda: "assigned" in w2.stderr(), 60, "w2 assigned partitions")
    job_ids = submit(spec, payloads[:third], "--key-field", "k")
    wait_until(lambda: done_at_least(spec, third // 3), 120, f"{third // 3} jobs done")

    # A crash that takes the worker's local state with it, and its child.
    assert w2.kill() == -9
    shutil.rmtree(tmp_path / "state" / pipeline_name / "chat" / "w2")
    w3 = worker("w3")  # joins: a rebalance
    job_ids += submit(spec, payloads[third:2 * third], "--key-field", "k")
    wait_until(lambda: done_at_least(spec, third + third // 2), 120,
               f"{third + third // 2} jobs done")
    worker("w2")  # back under its name, empty-handed: it restores what it is given
    assert w1.terminate() == 0  # leaves cleanly: its partitions move on
    job_ids += submit(spec, payloads[2 * third:], "--key-field", "k")
    records = read_done(spec, JOBS, timeout=300)
    print(f"\nmeasured: {assert_exactly_once(spec, job_ids, records, tmp_path)}")
    assert w3.running(), w3.stderr_tail()
    wrong = keys_off_their_prefix(job_ids, payloads, records, "k", with_history)
    assert not wrong, f"{len(wrong)} outputs whose history is not their key's inputs so " \
                      f"far, e.g. {next(iter(wrong.items()))}"
