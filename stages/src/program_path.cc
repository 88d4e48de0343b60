#include "program_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::stages {

namespace {

// 0 when `path` is an executable regular file, else the errno that says why not.
int executable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (::access(path.c_str(), X_OK) != 0) return errno;
  return 0;
}

}  // namespace

Result<std::string> find_program(const std::string& program, const std::string& workdir,
                                 const std::string& path_list) {
  if (program.empty()) return usage_error("the command's program is empty");
  if (program.find('/') != std::string::npos) {
    std::string path =
        program[0] == '/' || workdir.empty() ? program : workdir + "/" + program;
    if (int error = executable(path)) {
      std::string where = path == program ? "" : " (" + path + ")";
      return usage_error(program + where + ": " + std::strerror(error));
    }
    return path;
  }
  size_t start = 0;
  for (;;) {
    size_t end = path_list.find(':', start);
    std::string dir = path_list.substr(start, end == std::string::npos ? end : end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (executable(candidate) == 0) return candidate;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return usage_error("program '" + program + "' is not on PATH (" + path_list + ")");
}

std::string path_list_of(const std::vector<std::string>& env) {
  for (const std::string& e : env) {
    if (e.rfind("PATH=", 0) == 0) return e.substr(5);
  }
  return "/usr/local/bin:/usr/bin:/bin";
}

}  // namespace sluice::stages
