// Layer 3: the thread dump (weft::dump, options::dump_signal): every green
// thread of a runtime with its state, what it waits for and since when, its
// parent, and the backtrace of its suspended context.
//
// Taking a backtrace of a thread that is not running. Its registers are in
// the frame its last switch saved (context/saved_regs.hpp). The dump copies
// the used part of its stack under the family lock, which keeps the thread
// from ending (and its stack from being reused) meanwhile, and checks that
// the thread did not run during the copy: its state word and its switch
// count (run_stats::switches, bumped before every switch-out is published)
// read the same before and after. A thread that ran meanwhile is copied
// again, a few times, then reported as "busy". The copy is unwound outside
// the lock (core/unwind.hpp): nothing the thread does later can fault it.
#pragma once

#include <cstdio>

namespace weft::detail {

class runtime_impl;

// Prints rt's threads to out. Throws std::bad_alloc; a failed write is ignored.
void dump_threads(runtime_impl& rt, std::FILE* out);

}  // namespace weft::detail
