// Which I/O engine serves the caller's runtime.
#pragma once

namespace weft::io {

// "io_uring" or "epoll": the engine of the caller's runtime (the green
// thread's, else the only live one). Throws weft::error(no_runtime).
const char* engine_name();

}  // namespace weft::io
