#include "log_level.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

TEST(LogLevel, UnsetIsTheCommandsOwnDefault) {
  LogLevelChoice choice = choose_log_level(nullptr, "warn");
  EXPECT_EQ(choice.level, "warn");
  EXPECT_EQ(choice.warning, "");
}

TEST(LogLevel, AKnownLevelInAnyCaseIsUsed) {
  EXPECT_EQ(choose_log_level("DEBUG", "warn").level, "debug");
  EXPECT_EQ(choose_log_level("off", "info").level, "off");
  EXPECT_EQ(choose_log_level("warning", "info").level, "warn");
  EXPECT_EQ(choose_log_level("error", "info").warning, "");
}

TEST(LogLevel, AValueNotUnderstoodFallsBackToInfoSayingSo) {
  LogLevelChoice choice = choose_log_level("loud", "warn");
  EXPECT_EQ(choice.level, "info");
  EXPECT_EQ(choice.warning,
            "SLUICE_LOG_LEVEL=loud is not a level (trace, debug, info, warn, error, critical, "
            "off); using info");
}

}  // namespace
}  // namespace sluice::ops
