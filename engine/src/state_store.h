// A stateful stage's local state: one RocksDB per worker, a column family
// per input partition, so that one partition's state is opened, restored,
// closed or wiped alone when its assignment changes.
//
// The changelog (<p>.<stage>.changelog) is the source of truth; this store
// is its local copy. Hence:
// - writes skip RocksDB's write-ahead log: what a crash loses, the restore
//   brings back from the changelog;
// - a partition's checkpoint (the changelog offset its local state reflects)
//   is written only when it is closed cleanly, after its data is flushed to
//   disk, and consumed when it is opened again: state that was open when the
//   process died has no checkpoint, is wiped, and is restored from the
//   changelog's beginning (Kafka Streams' rule under exactly_once, kept for
//   both guarantees: a restore costs time, stale state costs correctness).
//
// Layout under the directory: db/ (RocksDB), checkpoints/p<N> (one decimal
// offset each). One thread uses a store; RocksDB's LOCK file keeps a second
// process out of the same directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/status.h"
#include "state_writes.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace sluice::engine {

class StateStore {
 public:
  // Opens the store in `dir`, creating it when missing. kFatal "state store:
  // open DIR: ..." when the directory cannot be used (held by another worker,
  // corrupt, not writable).
  static Result<std::unique_ptr<StateStore>> open(const std::filesystem::path& dir);

  // Closes without checkpoints: partitions still open count as unclean.
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Opens `partition`'s state for a new assignment and returns the changelog
  // offset its restore starts from: the checkpoint of a clean close (its
  // local data is kept), else 0 with whatever was there wiped.
  Result<int64_t> open_partition(int32_t partition);

  // Flushes `partition`'s state to disk, checkpoints it as reflecting the
  // changelog up to `changelog_offset` (the next offset to read), and closes
  // it. A failed close leaves no checkpoint.
  Status close_partition(int32_t partition, int64_t changelog_offset);

  // Closes `partition` without a checkpoint: its state is not known to match
  // the changelog (revoked while restoring, lost, or written past the last
  // commit), so the next open wipes it.
  void abandon_partition(int32_t partition);

  // Empties an open partition's state (e.g. after an aborted transaction:
  // its local writes went further than the changelog). The caller restores
  // it from offset 0.
  Status wipe_partition(int32_t partition);

  bool is_open(int32_t partition) const { return families_.count(partition) > 0; }

  // The value of `stored_key` (state_keys.h); nullopt when it has none.
  Result<std::optional<std::string>> get(int32_t partition, std::string_view stored_key) const;

  // Calls `each(key, value)` for every stored key starting with `prefix`, in
  // key order, until it returns false.
  using ScanVisitor = std::function<bool(std::string_view key, std::string_view value)>;
  Status scan(int32_t partition, std::string_view prefix, const ScanVisitor& each) const;

  // Applies one task's writes, or one batch of restored changelog records.
  // They are read back at once, and reach RocksDB in batches of up to
  // kPendingEntries keys (or kPendingBytes), before any scan, and before a
  // checkpoint: one RocksDB write per task cost more than the task (bench/
  // README.md, state_count_benchmark). A failed RocksDB write is returned by
  // the apply (or scan, or close) that flushed it; a crash loses nothing,
  // since a store not closed cleanly is wiped and restored.
  Status apply(int32_t partition, const StateWrites& writes);

  static constexpr size_t kPendingEntries = 16384;
  static constexpr size_t kPendingBytes = 4 << 20;

 private:
  StateStore(std::filesystem::path dir, std::unique_ptr<rocksdb::DB> db,
             std::map<std::string, rocksdb::ColumnFamilyHandle*> families);

  Result<rocksdb::ColumnFamilyHandle*> family(int32_t partition) const;
  Result<rocksdb::ColumnFamilyHandle*> create_family(int32_t partition);
  Status drop_family(int32_t partition);
  void release_family(int32_t partition);
  std::filesystem::path checkpoint_path(int32_t partition) const;
  // The checkpoint, removed from disk as it is read.
  Result<std::optional<int64_t>> take_checkpoint(int32_t partition);
  Status write_checkpoint(int32_t partition, int64_t offset);
  // Writes what apply() holds for `partition` to RocksDB in one batch.
  Status flush_pending(int32_t partition) const;

  std::filesystem::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
  // Open partitions, and column families found at open() and not yet
  // claimed by open_partition() (kept: their data may be checkpointed).
  std::map<int32_t, rocksdb::ColumnFamilyHandle*> families_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> unclaimed_;
  // Writes applied and not yet in RocksDB, by open partition (a write-behind
  // buffer; reads see it first). Mutable: a const read may flush it.
  mutable std::map<int32_t, StateWrites> pending_;
};

}  // namespace sluice::engine
