// Owners of libcurl's C handles: one unique_ptr type per handle, so that
// nothing else calls curl_*_cleanup or curl_slist_free_all. An easy handle
// must be removed from its multi handle before it is destroyed, and a multi
// handle must outlive the easy handles in it: HttpStage's members are
// declared (and so destroyed) in that order.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace sluice::stages {

struct CurlEasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init, once per process, before the first handle (libcurl
// before 7.84 does not make it thread-safe on its own); never cleaned up:
// handles may live until exit. False if libcurl could not initialise.
bool curl_ready();

}  // namespace sluice::stages
