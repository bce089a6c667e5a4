// weft: M:N green threads for C++20. The umbrella header: everything
// docs/api.md describes, I/O and weft::blocking (io.hpp) included.
#pragma once

#include "channel.hpp"
#include "condition_variable.hpp"
#include "dump.hpp"
#include "error.hpp"
#include "event.hpp"
#include "io.hpp"
#include "latch.hpp"
#include "local.hpp"
#include "log.hpp"
#include "mailbox.hpp"
#include "mutex.hpp"
#include "options.hpp"
#include "pipe.hpp"
#include "runtime.hpp"
#include "runtime_stats.hpp"
#include "select.hpp"
#include "semaphore.hpp"
#include "this_thread.hpp"
#include "thread.hpp"
#include "thread_info.hpp"
