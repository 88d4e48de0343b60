#include "kafka_client.h"

#include <spdlog/spdlog.h>

#include "kafka_errors.h"
#include "kafka_log.h"

namespace sluice::engine {
namespace {

// librdkafka logs from its own threads; this must never throw.
void log_trampoline(const rd_kafka_t* rk, int level, const char* facility,
                    const char* message) noexcept {
  try {
    spdlog::log(log_level_for(level, facility, message), "librdkafka {} {}: {}",
                rd_kafka_name(rk), facility, message);
  } catch (...) {
  }
}

Status set(rd_kafka_conf_t* conf, const std::string& name,
           const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error,
                        sizeof(error)) != RD_KAFKA_CONF_OK) {
    return usage_error("kafka property " + name + "=" + value + ": " + error);
  }
  return Status::ok();
}

// librdkafka's other names for the forced settings, and other spellings of
// their values: a user property is checked under every name it can take.
std::string canonical_name(const std::string& name) {
  return name == "request.required.acks" ? "acks" : name;
}

std::string canonical_value(const std::string& name, const std::string& value) {
  if (name == "acks" && value == "-1") return "all";
  return value;
}

Status check_not_contradicted(const Settings& forced, const Settings& user) {
  for (const auto& [user_name, user_value] : user) {
    std::string name = canonical_name(user_name);
    auto it = forced.find(name);
    if (it != forced.end() && canonical_value(name, user_value) != it->second) {
      return usage_error("kafka.properties." + user_name + "=" + user_value +
                         ": Sluice needs " + name + "=" + it->second +
                         " for its delivery guarantees; remove it");
    }
  }
  return Status::ok();
}

}  // namespace

ClientSpec producer_spec(const std::string& transactional_id) {
  ClientSpec spec;
  spec.type = RD_KAFKA_PRODUCER;
  // message.timeout.ms 0 (never): gapless does not cover records that time
  // out locally, which could let a later record of a key be acked after an
  // earlier one failed. Without a timeout a record waits for the broker (the
  // sink's queue fills and the worker stops taking work); stops and
  // revocations are bounded by the worker's own deadlines, which purge it.
  //
  // queue.buffering.max.kbytes: librdkafka's default is 1 GiB, which a
  // worker whose broker is slow or gone would fill with outputs before its
  // queue.buffering.max.messages (100,000) stopped it. 32 MiB is a worker's
  // bound for records awaiting acks (SPEC.md, "Memory per worker"); a full
  // queue holds the outputs back (QUEUE_FULL) and consumption pauses.
  spec.defaults = {{"linger.ms", "5"},
                   {"queue.buffering.max.kbytes", "32768"},
                   {"message.timeout.ms", "0"},
                   {"partitioner", "murmur2_random"},  // Java-compatible
                   {"socket.nagle.disable", "true"}};
  // Gapless: a failed record can never be followed by a delivered record of
  // the same partition (librdkafka raises a fatal error instead, and the
  // worker rebuilds the producer and rewinds). So per key, an output is acked
  // only after every earlier output of that key: a rewind never skips a later
  // task of a key whose earlier task failed (task_state.h).
  spec.forced = {{"enable.idempotence", "true"},
                 {"acks", "all"},
                 {"enable.gapless.guarantee", "true"}};
  if (!transactional_id.empty()) {
    spec.forced["transactional.id"] = transactional_id;
    // A transaction's records time out with it (librdkafka's rule); a failed
    // record aborts the whole transaction, so the gap above cannot arise.
    spec.defaults.erase("message.timeout.ms");
    // Kafka Streams' choice for exactly_once: a worker killed mid-transaction
    // blocks read_committed readers of its partitions (and the committed
    // offsets) until the broker aborts it, at most this long; a restart of
    // the same instance aborts it at once.
    spec.defaults["transaction.timeout.ms"] = "10000";
  }
  return spec;
}

ClientSpec consumer_spec(const std::string& group_id, bool read_committed) {
  ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  // Eager (roundrobin) by default: on a scale-out it handed the new member its
  // partitions in ~3 s against ~5-6 s for cooperative-sticky and KIP-848, with
  // the same total time and no loss or duplicate in any (test_scaling.py).
  // Both cooperative protocols work (worker_partitions.cc) when set in
  // kafka.properties.
  //
  // The fetch queue: when it holds queued.min.messages records or
  // queued.max.messages.kbytes (summed over all partitions: they share the
  // consumer's queue), librdkafka backs fetching off for
  // fetch.queue.backoff.ms, 1000 ms by default since 2.2.0, and nothing wakes
  // it early when the queue drains: a fast stage stalled for most of each
  // second. 10 ms keeps the same memory bound without the stall (0 would spin
  // the broker thread). See bench/README.md.
  //
  // fetch.wait.max.ms: a broker has one fetch in flight per consumer, and
  // one sent while some partitions are fetchable waits at the broker up to
  // this long when they have nothing new: partitions that become fetchable
  // meanwhile (just assigned, resumed, rewound; a retry partition coming
  // due) wait for it. With the default 500 ms, a worker's first records came
  // 0.5 s late (its first fetch held only the empty retry partitions) and
  // each resume could stall as long. 100 ms bounds that, for at most 10
  // empty fetches a second per broker from an idle worker.
  spec.defaults = {{"partition.assignment.strategy", "roundrobin"},
                   {"fetch.wait.max.ms", "100"},
                   {"auto.offset.reset", "earliest"},
                   {"session.timeout.ms", "10000"},
                   {"queued.min.messages", "100000"},
                   {"queued.max.messages.kbytes", "32768"},
                   {"fetch.queue.backoff.ms", "10"},
                   {"socket.nagle.disable", "true"}};
  spec.forced = {{"group.id", group_id},
                 {"enable.auto.commit", "false"},
                 {"enable.auto.offset.store", "false"},
                 {"enable.partition.eof", "false"}};
  // librdkafka's default too; exactly_once depends on it (and on the stable
  // committed offsets it implies: OffsetFetch waits out a pending transaction).
  if (read_committed) spec.forced["isolation.level"] = "read_committed";
  return spec;
}

Result<KafkaHandle> make_client(const KafkaOptions& options, ClientSpec spec) {
  if (Status s = check_not_contradicted(spec.forced, options.properties);
      !s.is_ok()) {
    return s;
  }
  KafkaConf conf(rd_kafka_conf_new());
  Settings all = spec.defaults;
  all["bootstrap.servers"] = options.bootstrap;
  all["client.id"] = options.client_id;
  for (const auto& [name, value] : options.properties) {
    // An alias of a forced setting agrees with it (checked above): leave it
    // out, so that the forced spelling is the one librdkafka applies.
    if (spec.forced.count(canonical_name(name)) == 0) all[name] = value;
  }
  for (const auto& [name, value] : spec.forced) all[name] = value;
  // KIP-848 (group.protocol=consumer): the broker assigns and times sessions;
  // librdkafka refuses these classic-protocol settings, so our defaults go.
  if (auto it = all.find("group.protocol"); it != all.end() && it->second == "consumer") {
    for (const char* classic : {"session.timeout.ms", "partition.assignment.strategy"}) {
      if (options.properties.count(classic) == 0) all.erase(classic);
    }
    // A worker subscribes to its input and its retry topic: the broker's
    // default (uniform) assignor balances their partitions together and may
    // give one member only retry partitions; range splits each topic.
    if (spec.type == RD_KAFKA_CONSUMER && options.properties.count("group.remote.assignor") == 0) {
      all["group.remote.assignor"] = "range";
    }
  }
  for (const auto& [name, value] : all) {
    if (Status s = set(conf.get(), name, value); !s.is_ok()) return s;
  }
  rd_kafka_conf_set_log_cb(conf.get(), log_trampoline);
  if (spec.customize) spec.customize(conf.get());

  char error[512];
  rd_kafka_t* rk = rd_kafka_new(spec.type, conf.get(), error, sizeof(error));
  if (rk == nullptr) {
    return usage_error(std::string("cannot create Kafka client: ") + error);
  }
  conf.release();  // rd_kafka_new took ownership
  return KafkaHandle(rk);
}

Status check_reachable(rd_kafka_t* rk, const KafkaOptions& options) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(
      rk, 0, nullptr, &raw, static_cast<int>(options.connect_timeout.count()));
  Metadata metadata(raw);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
  return transient_error("cannot reach Kafka at " + options.bootstrap +
                         " within " +
                         std::to_string(options.connect_timeout.count() / 1000) +
                         "s: " + rd_kafka_err2str(err));
}

}  // namespace sluice::engine
