// The thread dump: every green thread, where it waits and how it got there.
#pragma once

#include <cstdio>

namespace weft {

// Prints every green thread of the caller's runtime to out: id, name,
// parent, state, what it waits for (reason, wait queue, how long) and the
// backtrace of a suspended thread (docs/debugging.md). Throws
// weft::error(no_runtime) as snapshot() does, invalid_argument for a null
// out, std::bad_alloc; write errors on out are ignored.
void dump(std::FILE* out);

}  // namespace weft
