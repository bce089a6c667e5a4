// weft's blocking-style I/O: sockets, files, addresses, the offload pool.
// See docs/io.md.
#pragma once

#include "io/address.hpp"
#include "io/blocking.hpp"
#include "io/buffered_reader.hpp"
#include "io/deadline.hpp"
#include "io/engine.hpp"
#include "io/file.hpp"
#include "io/socket.hpp"
