// What this kernel's io_uring offers weft, found once per process by setting
// up a small ring and trying the features weft relies on.
#pragma once

#include <string>

namespace weft::detail::io {

struct uring_probe {
  bool ok = false;
  std::string reason;        // why io_uring is not used (when !ok)
  unsigned setup_flags = 0;  // IORING_SETUP_* that worked (see uring_probe.cpp for the choice)
  std::string features;      // "single_issuer+defer_taskrun", for the start-up report
};

// The cached probe result; thread-safe.
const uring_probe& probe_uring();

}  // namespace weft::detail::io
