// LineReader: splits what a child writes to a pipe into lines, with a hard
// bound on line length so that a child can never make us buffer without
// limit. One reader per descriptor, used by one thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace sluice::stages {

enum class ReadStatus {
  kLine,     // *line holds one line, without its '\n' (or '\r\n')
  kTooLong,  // *line holds the first max_line bytes; the rest is skipped
  kEof,      // the writer closed its end
  kWoken,    // the WakeFd was signalled: stop reading
  kError,    // read() or poll() failed
};

class LineReader {
 public:
  // `fd` should be non-blocking; `wake_fd` may be -1.
  LineReader(int fd, int wake_fd, size_t max_line);

  ReadStatus next(std::string* line);

 private:
  std::optional<ReadStatus> take_line(std::string* line);
  ReadStatus fill();

  int fd_;
  int wake_fd_;
  size_t max_line_;
  std::string buf_;
  size_t head_ = 0;        // start of unconsumed bytes in buf_
  size_t scanned_ = 0;     // bytes after head_ known to hold no '\n'
  bool skipping_ = false;  // dropping the tail of an over-long line
};

}  // namespace sluice::stages
