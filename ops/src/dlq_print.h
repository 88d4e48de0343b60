// How `sluice dlq list` shows dead letters: a table (one row a letter:
// job, key, attempts, last error cut to fit, when, replayed) or JSON lines
// with the whole letter. Pure formatting; any thread.
#pragma once

#include <string>

#include "dead_letter.h"

namespace sluice::ops {

std::string letter_table_header();
std::string letter_table_row(const DeadLetter& letter);
// {"job","task","key","attempts","errors":[...],"origin","dlq","headers",
//  "replayed","content_type","payload"|"payload_base64"}, one line.
std::string letter_json_line(const DeadLetter& letter);

}  // namespace sluice::ops
