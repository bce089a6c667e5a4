// From a request-target to a path under the document root: percent-decoded,
// "." and empty segments dropped, and refused when it could point outside
// the root. The open itself (examples/http_server.cpp) adds the kernel's
// own check, openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS.
#pragma once

#include <string>
#include <string_view>

namespace http {

enum class path_status {
  ok,
  bad_request,  // a malformed percent escape, or a target that is not a path ("*", absolute-form)
  forbidden,    // a ".." segment, an encoded '/' or '\\', a NUL
};

// Turns the target ("/a/b%20c?q=1") into a root-relative path ("a/b c") in
// `out`; "" is the root itself. The query is dropped.
path_status target_to_path(std::string_view target, std::string& out);

// The Content-Type for a file name, by its extension; application/octet-stream if unknown.
std::string_view content_type_for(std::string_view name);

}  // namespace http
