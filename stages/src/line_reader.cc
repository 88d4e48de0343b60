#include "line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "fd_io.h"

namespace sluice::stages {

namespace {
constexpr size_t kChunk = size_t{64} * 1024;
}  // namespace

LineReader::LineReader(int fd, int wake_fd, size_t max_line)
    : fd_(fd), wake_fd_(wake_fd), max_line_(max_line) {}

ReadStatus LineReader::next(std::string* line) {
  for (;;) {
    if (auto st = take_line(line)) return *st;
    size_t pending = buf_.size() - head_;
    if (skipping_) {
      buf_.clear();  // still inside an over-long line: keep nothing of it
      head_ = scanned_ = 0;
    } else if (pending > max_line_) {
      line->assign(buf_, head_, max_line_);
      buf_.clear();
      head_ = scanned_ = 0;
      skipping_ = true;
      return ReadStatus::kTooLong;
    }
    ReadStatus st = fill();
    if (st == ReadStatus::kEof && !skipping_ && buf_.size() > head_) {
      // A last line without '\n' still counts as a line.
      line->assign(buf_, head_);
      buf_.clear();
      head_ = scanned_ = 0;
      return ReadStatus::kLine;
    }
    if (st != ReadStatus::kLine) return st;
  }
}

std::optional<ReadStatus> LineReader::take_line(std::string* line) {
  for (;;) {
    size_t nl = buf_.find('\n', head_ + scanned_);
    if (nl == std::string::npos) {
      scanned_ = buf_.size() - head_;
      return std::nullopt;
    }
    size_t start = head_;
    head_ = nl + 1;
    scanned_ = 0;
    if (skipping_) {  // the end of an over-long line: drop it, look again
      skipping_ = false;
      continue;
    }
    size_t end = (nl > start && buf_[nl - 1] == '\r') ? nl - 1 : nl;
    if (end - start > max_line_) {  // arrived whole, in one read
      line->assign(buf_, start, max_line_);
      return ReadStatus::kTooLong;
    }
    line->assign(buf_, start, end - start);
    return ReadStatus::kLine;
  }
}

// Reads one chunk; kLine here means "got bytes". Compacts first so that the
// buffer never holds more than one line plus one chunk.
ReadStatus LineReader::fill() {
  if (head_ > 0) {
    buf_.erase(0, head_);
    head_ = 0;
  }
  char chunk[kChunk];
  for (;;) {
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      return ReadStatus::kLine;
    }
    if (n == 0) return ReadStatus::kEof;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return ReadStatus::kError;
    WaitResult w = wait_for_fd(fd_, POLLIN, wake_fd_);
    if (w == WaitResult::kWoken) return ReadStatus::kWoken;
    if (w == WaitResult::kError) return ReadStatus::kError;
  }
}

}  // namespace sluice::stages
