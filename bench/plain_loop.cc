#include "plain_loop.h"

#include "bench_kafka.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxBatch = 500;  // as many as the Sluice worker takes per poll

class PlainLoop {
 public:
  explicit PlainLoop(const PlainLoopOptions& options) : options_(options) {}

  Status start();
  Status run(const std::atomic<bool>& stop);
  Status finish();
  void on_delivery(const rd_kafka_message_t* message) noexcept;

 private:
  Status consume_batch();
  Status forward(const rd_kafka_message_t* message);

  const PlainLoopOptions& options_;
  Status delivery_error_;
  // Producer last: destroyed first, while on_delivery's state is alive.
  Handle consumer_;
  Handle producer_;
};

// librdkafka calls this from rd_kafka_poll/rd_kafka_flush on our thread.
void delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) noexcept {
  static_cast<PlainLoop*>(opaque)->on_delivery(message);
}

void PlainLoop::on_delivery(const rd_kafka_message_t* message) noexcept {
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR || !delivery_error_.is_ok()) return;
  try {
    delivery_error_ = kafka_error(message->err, "delivery to " + options_.output_topic);
  } catch (...) {
  }
}

Status PlainLoop::start() {
  auto producer = plain_producer(options_.brokers, [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_trampoline);
  });
  if (!producer.is_ok()) return producer.status();
  producer_ = std::move(producer).value();
  if (Status s = load_topic_metadata(producer_.get(), options_.output_topic); !s.is_ok()) {
    return s;
  }
  auto consumer = plain_consumer(options_.brokers, options_.group,
                                 options_.consumer_properties);
  if (!consumer.is_ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  rd_kafka_poll_set_consumer(consumer_.get());
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), options_.input_topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  return kafka_error(rd_kafka_subscribe(consumer_.get(), topics.get()),
                     "subscribe to " + options_.input_topic);
}

Status PlainLoop::run(const std::atomic<bool>& stop) {
  auto next_commit = Clock::now() + options_.commit_interval;
  while (!stop.load(std::memory_order_relaxed)) {
    if (Status s = consume_batch(); !s.is_ok()) return s;
    rd_kafka_poll(producer_.get(), 0);  // serve delivery reports
    if (!delivery_error_.is_ok()) return delivery_error_;
    if (Clock::now() >= next_commit) {
      next_commit = Clock::now() + options_.commit_interval;
      rd_kafka_commit(consumer_.get(), nullptr, 1);  // async; checked at the end
    }
  }
  return Status::ok();
}

// One blocking poll, then what is already fetched, without blocking.
Status PlainLoop::consume_batch() {
  for (int i = 0; i < kMaxBatch; ++i) {
    Message message(rd_kafka_consumer_poll(consumer_.get(), i == 0 ? 100 : 0));
    if (!message) return Status::ok();
    if (message->err) {
      return kafka_error(message->err, "consume " + options_.input_topic + ": " +
                                           rd_kafka_message_errstr(message.get()));
    }
    if (Status s = forward(message.get()); !s.is_ok()) return s;
  }
  return Status::ok();
}

Status PlainLoop::forward(const rd_kafka_message_t* message) {
  rd_kafka_headers_t* in_headers = nullptr;
  bool has_headers = rd_kafka_message_headers(message, &in_headers) == RD_KAFKA_RESP_ERR_NO_ERROR;
  while (true) {
    // RD_KAFKA_V_HEADERS takes ownership of the copy only on success.
    rd_kafka_headers_t* headers =
        has_headers ? rd_kafka_headers_copy(in_headers) : rd_kafka_headers_new(0);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(options_.output_topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(message->key, message->key_len),
        RD_KAFKA_V_VALUE(message->payload, message->len), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
    rd_kafka_headers_destroy(headers);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return kafka_error(err, "produce to " + options_.output_topic);
    }
    rd_kafka_poll(producer_.get(), 10);  // local queue full: wait for acks
  }
}

// Flush first, so that the final commit covers only acknowledged records;
// then commit and leave the group. (Not timed: the clock stops earlier.)
Status PlainLoop::finish() {
  rd_kafka_resp_err_t err =
      rd_kafka_flush(producer_.get(), static_cast<int>(options_.shutdown_deadline.count()));
  if (Status s = kafka_error(err, "flush producer"); !s.is_ok()) return s;
  if (!delivery_error_.is_ok()) return delivery_error_;
  err = rd_kafka_commit(consumer_.get(), nullptr, 0);
  if (err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    if (Status s = kafka_error(err, "final commit"); !s.is_ok()) return s;
  }
  return kafka_error(rd_kafka_consumer_close(consumer_.get()), "leave group");
}

}  // namespace

Status run_plain_loop(const PlainLoopOptions& options, const std::atomic<bool>& stop) {
  PlainLoop loop(options);
  if (Status s = loop.start(); !s.is_ok()) return s;
  Status ran = loop.run(stop);
  Status finished = loop.finish();
  return ran.is_ok() ? finished : ran;
}

}  // namespace sluice::bench
