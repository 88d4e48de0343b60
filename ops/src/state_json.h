// How `sluice state` prints a piece of state: one JSON object on one line.
//
//   dump:       {"partition","scope":"key"|"partition","key" (key scope only),"name","value"}
//   get --json: {"key","name","partition","offset","value"}
//
// "value": a value that parses as JSON is shown as that JSON, its bytes as
// stored (count's "5" is 5, an exec stage's JSON state is that JSON); any
// other UTF-8 text as a string; other bytes as base64 with "encoding":
// "base64". So the text `"x"` and the text x both show as "x". A key or
// name that is not UTF-8 is base64 too, with "key_encoding" / "name_encoding":
// "base64". Pure functions, any thread.
#pragma once

#include <string>

#include "state_fold.h"

namespace sluice::ops {

std::string state_dump_line(const StateEntry& entry);
std::string state_get_json(const StateEntry& entry);

}  // namespace sluice::ops
