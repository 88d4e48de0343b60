#include "committed_run.h"

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <mutex>
#include <thread>

#include "bench_kafka.h"
#include "envelope.pb.h"
#include "sluice/topics/names.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::mutex loops_mutex;
std::vector<pthread_t> loop_threads;  // this run's

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double loops_cpu_seconds() {
  std::lock_guard<std::mutex> lock(loops_mutex);
  double sum = 0;
  for (pthread_t thread : loop_threads) {
    clockid_t clock;
    timespec now{};
    if (pthread_getcpuclockid(thread, &clock) == 0 && clock_gettime(clock, &now) == 0) {
      sum += now.tv_sec + now.tv_nsec / 1e9;
    }
  }
  return sum;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A read_committed consumer of every partition of `topic`, from its end now.
Result<Handle> done_reader(const topics::PipelineSpec& spec, rd_kafka_t* watcher,
                           const std::string& topic, int partitions) {
  auto reader = engine::make_client(KafkaOptions::from_spec(spec.kafka),
                                    engine::consumer_spec(spec.pipeline + "-reader", true));
  if (!reader.is_ok()) return reader.status();
  PartitionList assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(watcher, topic.c_str(), p, &low, &high, 5000);
    if (err) return kafka_error(err, "watermarks of " + topic + "[" + std::to_string(p) + "]");
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = high;
  }
  rd_kafka_poll_set_consumer(reader->get());
  if (Status s = kafka_error(rd_kafka_assign(reader->get(), assignment.get()), "assign " + topic);
      !s.is_ok()) {
    return s;
  }
  return reader;
}

// Submits `options.paced_records` jobs at `options.paced_rate`, then flushes.
Status submit_paced(JobSubmitter& submitter, const CommittedRunOptions& options) {
  auto start = Clock::now();
  Job job;
  for (int64_t i = 0; i < options.paced_records; ++i) {
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(i / options.paced_rate)));
    job.key = "user-" + std::to_string((i * 7919) % options.keys);
    job.payload = "{\"paced\":" + std::to_string(i) + ",\"text\":\"" +
                  std::string(options.payload_bytes > 30 ? options.payload_bytes - 30 : 0, 'x') +
                  "\"}";
    auto id = submitter.submit(job);
    if (!id.is_ok()) return id.status();
  }
  return submitter.flush(std::chrono::minutes(1));
}

// Reads the done topic until the backlog and the paced jobs are all there;
// fills `run`. `started`: the clock's start; `runner_ended`: it failed early.
Status read_done(rd_kafka_t* reader, JobSubmitter& submitter, const CommittedRunOptions& options,
                 Clock::time_point started, double cpu_at_start,
                 const std::atomic<bool>& runner_ended, CommittedRun* run) {
  const int64_t total = run->backlog + options.paced_records;
  std::thread pacer;
  Status paced;
  int64_t read = 0;
  v1::Envelope envelope;
  while (read < total) {
    if (runner_ended.load()) {
      paced = fatal_error("the pipeline stopped after " + std::to_string(read) + " of " +
                          std::to_string(total) + " records");
      break;
    }
    if (Clock::now() - started > options.timeout) {
      paced = fatal_error("timed out: " + std::to_string(read) + " of " + std::to_string(total) +
                          " records in done");
      break;
    }
    Message message(rd_kafka_consumer_poll(reader, 50));
    if (!message || message->err) continue;
    ++read;
    if (read == 1) run->timing.first_output_seconds = seconds_since(started);
    if (read == run->backlog) {
      // Scaled to `records` records, as every run is reported (the header).
      run->seconds = seconds_since(started);
      double scale = static_cast<double>(options.records) / run->backlog;
      run->timing.seconds = run->seconds * scale;
      run->timing.cpu_seconds = (process_cpu_seconds() - cpu_at_start) * scale;
      run->timing.loop_cpu_seconds = loops_cpu_seconds() * scale;
      run->probe = read_probe();
      pacer = std::thread([&] { paced = submit_paced(submitter, options); });
    } else if (read > run->backlog) {
      if (!envelope.ParseFromArray(message->payload, static_cast<int>(message->len))) {
        paced = fatal_error("an undecodable record in done");
        break;
      }
      run->latency_ms.push_back(static_cast<double>(now_unix_ms() - envelope.submitted_at_unix_ms()));
    }
  }
  if (pacer.joinable()) pacer.join();
  return paced;
}

}  // namespace

void register_loop_thread() {
  std::lock_guard<std::mutex> lock(loops_mutex);
  loop_threads.push_back(pthread_self());
}

Result<CommittedRun> committed_run(const topics::PipelineSpec& spec, rd_kafka_t* watcher,
                                   JobSubmitter& submitter, const CommittedRunOptions& options,
                                   const Runner& runner) {
  auto reader = done_reader(spec, watcher, topics::done_topic(spec.pipeline), options.partitions);
  if (!reader.is_ok()) return reader.status();
  {
    std::lock_guard<std::mutex> lock(loops_mutex);
    loop_threads.clear();
  }
  CommittedRun run;
  auto backlog = sum_high_watermarks(watcher, topics::intake_topic(spec.pipeline), options.partitions);
  if (!backlog.is_ok()) return backlog.status();
  run.backlog = *backlog;
  reset_probe();
  std::atomic<bool> stop{false};
  std::atomic<bool> ended{false};
  Status ran;
  double cpu_at_start = process_cpu_seconds();
  Clock::time_point started = Clock::now();
  std::thread thread([&] {
    ran = runner(stop);
    ended = true;
  });
  Status read = read_done(reader->get(), submitter, options, started, cpu_at_start, ended, &run);
  stop = true;
  thread.join();
  if (!ran.is_ok()) return ran;
  if (!read.is_ok()) return read;
  return run;
}

}  // namespace sluice::bench
