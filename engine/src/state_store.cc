#include "state_store.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "state_errors.h"

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;

// Appended, not "p" + to_string(): g++ 12 -O3 warns falsely about that
// (-Wrestrict, GCC bug 105651).
std::string family_name(int32_t partition) {
  std::string name = "p";
  name += std::to_string(partition);
  return name;
}

std::string partition_text(int32_t partition) {
  return "partition " + std::to_string(partition);
}

// A file descriptor closed on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status system_error(const std::string& what, const fs::path& path) {
  return fatal_error("state store: " + what + " " + path.string() + ": " + std::strerror(errno));
}

// A rename or removal in `dir` survives a power loss only once the
// directory itself is synced.
Status sync_directory(const fs::path& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY));
  if (fd.get() < 0) return system_error("open directory", dir);
  if (::fsync(fd.get()) != 0) return system_error("sync directory", dir);
  return Status::ok();
}

// Writes `text` to `path` through a synced temporary file and a rename, so
// that `path` holds the old text or the new, never part of it.
Status write_file_atomically(const fs::path& path, const std::string& text) {
  fs::path temporary = path;
  temporary += ".tmp";
  {
    FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (fd.get() < 0) return system_error("create", temporary);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return system_error("write", temporary);
    }
    if (::fsync(fd.get()) != 0) return system_error("sync", temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) return system_error("rename", temporary);
  return sync_directory(path.parent_path());
}

rocksdb::Options store_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  return options;
}

rocksdb::WriteOptions write_options() {
  rocksdb::WriteOptions options;
  options.disableWAL = true;  // the changelog is the log (state_store.h)
  return options;
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir / "db", error);
  if (!error) fs::create_directories(dir / "checkpoints", error);
  if (error) {
    return fatal_error("state store: create " + dir.string() + ": " + error.message());
  }
  std::string db_path = (dir / "db").string();
  rocksdb::Options options = store_options();
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(options, db_path, &names).ok()) {
    names = {rocksdb::kDefaultColumnFamilyName};  // a new store
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, db_path, descriptors, &handles, &raw);
  if (!opened.ok()) {
    Status s = state_status(opened, "open " + db_path);
    // A lock held elsewhere is the likely cause, and not an obvious one.
    return fatal_error(s.message() + " (is another worker using " + dir.string() + "?)");
  }
  std::map<std::string, rocksdb::ColumnFamilyHandle*> unclaimed;
  for (size_t i = 0; i < handles.size(); ++i) unclaimed[names[i]] = handles[i];
  return std::unique_ptr<StateStore>(
      new StateStore(dir, std::unique_ptr<rocksdb::DB>(raw), std::move(unclaimed)));
}

StateStore::StateStore(fs::path dir, std::unique_ptr<rocksdb::DB> db,
                       std::map<std::string, rocksdb::ColumnFamilyHandle*> families)
    : dir_(std::move(dir)), db_(std::move(db)), unclaimed_(std::move(families)) {}

StateStore::~StateStore() {
  for (auto& [partition, handle] : families_) db_->DestroyColumnFamilyHandle(handle);
  for (auto& [name, handle] : unclaimed_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close().PermitUncheckedError();  // nothing to do about it here: no checkpoint was written
}

Result<int64_t> StateStore::open_partition(int32_t partition) {
  if (is_open(partition)) {
    return fatal_error("state store: " + partition_text(partition) + " is already open");
  }
  auto checkpoint = take_checkpoint(partition);
  if (!checkpoint.is_ok()) return checkpoint.status();
  auto found = unclaimed_.find(family_name(partition));
  if (found == unclaimed_.end()) {
    auto created = create_family(partition);
    if (!created.is_ok()) return created.status();
    return int64_t{0};
  }
  families_[partition] = found->second;
  unclaimed_.erase(found);
  if (*checkpoint) return **checkpoint;
  if (Status s = wipe_partition(partition); !s.is_ok()) return s;
  return int64_t{0};
}

Status StateStore::close_partition(int32_t partition, int64_t changelog_offset) {
  auto handle = family(partition);
  if (!handle.is_ok()) return handle.status();
  if (Status s = flush_pending(partition); !s.is_ok()) {
    release_family(partition);
    return s;
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  Status flushed = state_status(db_->Flush(flush, *handle), "flush " + partition_text(partition));
  release_family(partition);
  if (!flushed.is_ok()) return flushed;
  return write_checkpoint(partition, changelog_offset);
}

void StateStore::abandon_partition(int32_t partition) { release_family(partition); }

// The column family stays in the database (and its handle here), unclaimed
// until the partition is opened again.
void StateStore::release_family(int32_t partition) {
  pending_.erase(partition);  // unflushed only when closed uncleanly: wiped at the next open
  auto it = families_.find(partition);
  if (it == families_.end()) return;
  unclaimed_[family_name(partition)] = it->second;
  families_.erase(it);
}

Status StateStore::wipe_partition(int32_t partition) {
  pending_.erase(partition);
  if (Status s = drop_family(partition); !s.is_ok()) return s;
  return create_family(partition).status();
}

Result<std::optional<std::string>> StateStore::get(int32_t partition,
                                                   std::string_view stored_key) const {
  auto handle = family(partition);
  if (!handle.is_ok()) return handle.status();
  if (auto it = pending_.find(partition); it != pending_.end()) {
    if (const std::optional<std::string>* pending = it->second.find(stored_key)) return *pending;
  }
  std::string value;
  rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), *handle,
                                 rocksdb::Slice(stored_key.data(), stored_key.size()), &value);
  if (got.IsNotFound()) return std::optional<std::string>();
  if (!got.ok()) return state_status(got, "read " + partition_text(partition));
  return std::optional<std::string>(std::move(value));
}

Status StateStore::scan(int32_t partition, std::string_view prefix,
                        const ScanVisitor& each) const {
  auto handle = family(partition);
  if (!handle.is_ok()) return handle.status();
  if (Status s = flush_pending(partition); !s.is_ok()) return s;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), *handle));
  rocksdb::Slice start(prefix.data(), prefix.size());
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (!each(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return state_status(it->status(), "scan " + partition_text(partition));
}

Status StateStore::apply(int32_t partition, const StateWrites& writes) {
  auto handle = family(partition);
  if (!handle.is_ok()) return handle.status();
  StateWrites& pending = pending_[partition];
  for (const auto& [key, value] : writes.latest()) {
    if (value) {
      pending.put(key, *value);
    } else {
      pending.erase(key);
    }
  }
  if (pending.latest().size() < kPendingEntries && pending.bytes() < kPendingBytes) {
    return Status::ok();
  }
  return flush_pending(partition);
}

Status StateStore::flush_pending(int32_t partition) const {
  auto it = pending_.find(partition);
  if (it == pending_.end() || it->second.empty()) return Status::ok();
  auto handle = family(partition);
  if (!handle.is_ok()) return handle.status();
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : it->second.latest()) {
    rocksdb::Status added = value ? batch.Put(*handle, key, *value) : batch.Delete(*handle, key);
    if (!added.ok()) return state_status(added, "batch for " + partition_text(partition));
  }
  it->second.clear();
  return state_status(db_->Write(write_options(), &batch), "write " + partition_text(partition));
}

Result<rocksdb::ColumnFamilyHandle*> StateStore::family(int32_t partition) const {
  auto it = families_.find(partition);
  if (it == families_.end()) {
    return fatal_error("state store: " + partition_text(partition) + " is not open");
  }
  return it->second;
}

Result<rocksdb::ColumnFamilyHandle*> StateStore::create_family(int32_t partition) {
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  Status s = state_status(
      db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(store_options()),
                              family_name(partition), &handle),
      "create " + partition_text(partition));
  if (!s.is_ok()) return s;
  families_[partition] = handle;
  return handle;
}

Status StateStore::drop_family(int32_t partition) {
  auto handle = family(partition);
  if (!handle.is_ok()) return handle.status();
  Status dropped =
      state_status(db_->DropColumnFamily(*handle), "drop " + partition_text(partition));
  db_->DestroyColumnFamilyHandle(*handle);
  families_.erase(partition);
  return dropped;
}

fs::path StateStore::checkpoint_path(int32_t partition) const {
  return dir_ / "checkpoints" / family_name(partition);
}

Result<std::optional<int64_t>> StateStore::take_checkpoint(int32_t partition) {
  fs::path path = checkpoint_path(partition);
  std::ifstream in(path);
  if (!in) return std::optional<int64_t>();
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::string content = text.str();
  int64_t offset = -1;
  auto [end, error] = std::from_chars(content.data(), content.data() + content.size(), offset);
  // Removed before the partition changes: from here on a crash leaves it
  // unclean. The removal must reach the disk before any write does.
  if (::unlink(path.c_str()) != 0) return system_error("remove", path);
  if (Status s = sync_directory(path.parent_path()); !s.is_ok()) return s;
  // A checkpoint this store did not write whole counts as none: restore.
  if (error != std::errc() || offset < 0 || (end != content.data() + content.size() && *end != '\n')) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(offset);
}

Status StateStore::write_checkpoint(int32_t partition, int64_t offset) {
  return write_file_atomically(checkpoint_path(partition), std::to_string(offset) + "\n");
}

}  // namespace sluice::engine
