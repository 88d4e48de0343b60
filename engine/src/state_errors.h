// RocksDB's errors in Sluice's terms: the one place they are classified.
//
// A stage's local state is a cache of its changelog, so no RocksDB error is
// a reason to dead-letter an input: the worker either retries (a busy or
// full disk may clear) or stops and lets its restart restore the state from
// the changelog (corruption, a failing disk, a directory another worker
// holds).
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "sluice/status.h"

namespace sluice::engine {

// Ok for an ok status; kNotFound for a missing key or file; kTransient for
// busy, timed out, try again and out of space; kFatal for the rest
// (corruption, I/O errors, a lock held elsewhere, invalid arguments).
// The message is "state store: WHAT: <RocksDB's text>".
Status state_status(const rocksdb::Status& status, std::string_view what);

}  // namespace sluice::engine
