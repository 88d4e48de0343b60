// delay_agent: an exec agent (the exec protocol, stages/README.md) whose
// every task waits --delay-ms on a timer, then passes its payload on. What
// io_bound_benchmark.py runs as its exec stage: Sluice's exec path (task
// lines out, result lines back, a child per worker) without a Python
// interpreter's own cost per task, which caps a Python agent on this machine
// below the stage's (bench/README.md). Any number of tasks wait at once; the
// engine's concurrency bounds them. Exits when stdin closes and every task
// read is answered.
//
//   delay_agent [--delay-ms 20]
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Waiting {
  Clock::time_point due;
  std::string answer;  // the whole result line
  bool operator>(const Waiting& other) const { return due > other.due; }
};

class Answers {
 public:
  void add(Waiting w) {
    std::lock_guard lock(mutex_);
    waiting_.push(std::move(w));
    wake_.notify_one();
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    wake_.notify_one();
  }
  // Writes each answer when due, those due together in one flush.
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (waiting_.empty()) {
        if (closed_) return;
        wake_.wait(lock);
        continue;
      }
      if (Clock::now() < waiting_.top().due) {
        wake_.wait_until(lock, waiting_.top().due);
        continue;
      }
      while (!waiting_.empty() && waiting_.top().due <= Clock::now()) {
        const std::string& answer = waiting_.top().answer;
        std::fwrite(answer.data(), 1, answer.size(), stdout);
        waiting_.pop();
      }
      std::fflush(stdout);
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Waiting, std::vector<Waiting>, std::greater<>> waiting_;
  bool closed_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  int delay_ms = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--delay-ms") == 0) delay_ms = std::atoi(argv[i + 1]);
  }
  Answers answers;
  std::thread writer([&] { answers.run(); });
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json task = nlohmann::json::parse(line, nullptr, false);
    if (task.is_discarded() || !task.contains("id")) {
      std::fprintf(stderr, "delay_agent: not a task line: %.200s\n", line.c_str());
      return 1;
    }
    nlohmann::json output = {{"payload", task["payload"]}};
    if (task.contains("encoding")) output["encoding"] = task["encoding"];
    nlohmann::json result = {{"id", task["id"]}, {"outputs", nlohmann::json::array({output})}};
    answers.add({Clock::now() + std::chrono::milliseconds(delay_ms), result.dump() + "\n"});
  }
  answers.close();
  writer.join();
  return 0;
}
