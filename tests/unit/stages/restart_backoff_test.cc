#include "restart_backoff.h"

#include <gtest/gtest.h>

namespace sluice::stages {
namespace {

using namespace std::chrono_literals;

TEST(RestartBackoff, DoublesUpToTheMaximum) {
  RestartBackoff backoff(100ms, 500ms);
  EXPECT_EQ(backoff.next(), 100ms);
  EXPECT_EQ(backoff.next(), 200ms);
  EXPECT_EQ(backoff.next(), 400ms);
  EXPECT_EQ(backoff.next(), 500ms);
  EXPECT_EQ(backoff.next(), 500ms);
}

TEST(RestartBackoff, ResetStartsOverFromTheMinimum) {
  RestartBackoff backoff(100ms, 5s);
  static_cast<void>(backoff.next());
  static_cast<void>(backoff.next());
  backoff.reset();
  EXPECT_EQ(backoff.next(), 100ms);
}

}  // namespace
}  // namespace sluice::stages
