// fresh_test_dir(): an empty directory path of the running test's own (by
// process and test name, under gtest's TempDir), for tests that write files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace sluice::testing {

// Removes whatever an earlier run left there; the caller removes it after.
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      (prefix + "-" + std::to_string(::getpid()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace sluice::testing
