#include "terminal_screen.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace sluice::ops {
namespace {

std::atomic<bool> g_resized{false};

void on_resize(int) { g_resized.store(true); }

void write_all(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

TerminalScreen::TerminalScreen() {
  std::signal(SIGWINCH, on_resize);
  write_all("\x1b[?1049h\x1b[?25l");  // the alternate screen; the cursor hidden
}

TerminalScreen::~TerminalScreen() {
  std::signal(SIGWINCH, SIG_DFL);
  write_all("\x1b[?25h\x1b[?1049l");  // the cursor back; the screen as it was
}

int TerminalScreen::width() const {
  struct winsize size {};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void TerminalScreen::draw(const std::vector<std::string>& lines) {
  g_resized.store(false);
  std::string frame = "\x1b[H";  // home; each line then clears what is left of it
  for (const std::string& line : lines) frame += line + "\x1b[K\r\n";
  frame += "\x1b[J";  // and below the last line
  write_all(frame);
}

bool TerminalScreen::resized() const { return g_resized.load(); }

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

}  // namespace sluice::ops
