// TerminalScreen: `status --watch` on a terminal. While it lives the terminal
// shows the alternate screen with the cursor hidden (what `top` and `watch`
// do), and draw() replaces the frame in place; its destructor gives the
// terminal back as it was, on every way out (Ctrl-C included: the stop
// signal ends the loop, and the destructor runs). Resizes are read on each
// draw; resized() says a SIGWINCH came since the last draw, to redraw early.
#pragma once

#include <string>
#include <vector>

namespace sluice::ops {

class TerminalScreen {
 public:
  TerminalScreen();
  ~TerminalScreen();
  TerminalScreen(const TerminalScreen&) = delete;
  TerminalScreen& operator=(const TerminalScreen&) = delete;

  // The terminal's width in columns (80 when it cannot say).
  int width() const;
  void draw(const std::vector<std::string>& lines);
  bool resized() const;
};

// Whether stdout is a terminal (else --watch prints plain frames).
bool stdout_is_terminal();

}  // namespace sluice::ops
