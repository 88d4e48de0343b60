// How `sluice verify` says what it found: the verdict (what fails the run),
// a short table for people, one JSON object for scripts. Pure.
#pragma once

#include <string>
#include <vector>

#include "sluice/end_offsets.h"
#include "verify_tally.h"

namespace sluice::ops {

struct VerifyReport {
  std::string pipeline;
  bool exactly_once = false;  // some stage has guarantee: exactly_once
  VerifyCounts counts;
  std::vector<PartitionEnd> open_transactions;
};

// What fails the run, e.g. {"2 lost", "1 duplicated"}; empty: exit 0. Lost
// jobs always fail; duplicates and open transactions only under exactly_once.
std::vector<std::string> verify_failures(const VerifyReport& report);

std::vector<std::string> verify_table(const VerifyReport& report);
std::string verify_json(const VerifyReport& report);

}  // namespace sluice::ops
