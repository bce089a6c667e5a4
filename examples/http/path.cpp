// Decoding is done before the segments are checked, and an encoded slash is
// refused outright: "/a%2f..%2fb" must not become a "..", nor "a/b" a
// different file than the one the segments named.
#include "path.hpp"

#include <array>
#include <utility>

namespace http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

path_status target_to_path(std::string_view target, std::string& out) {
  out.clear();
  if (target.empty() || target.front() != '/') return path_status::bad_request;
  target = target.substr(0, target.find('?'));
  target = target.substr(0, target.find('#'));
  std::string segment;
  auto end_segment = [&]() -> bool {
    if (segment == "..") return false;
    if (!segment.empty() && segment != ".") {
      if (!out.empty()) out += '/';
      out += segment;
    }
    segment.clear();
    return true;
  };
  for (std::size_t i = 1; i < target.size(); ++i) {
    char c = target[i];
    if (c == '/') {
      if (!end_segment()) return path_status::forbidden;
      continue;
    }
    if (c == '%') {
      if (i + 2 >= target.size()) return path_status::bad_request;
      int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
      if (hi < 0 || lo < 0) return path_status::bad_request;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (c == '/' || c == '\\' || c == '\0') return path_status::forbidden;
    } else if (c == '\\') {
      return path_status::forbidden;
    }
    segment += c;
  }
  if (!end_segment()) return path_status::forbidden;
  return path_status::ok;
}

std::string_view content_type_for(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> types{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".pdf", "application/pdf"},
  }};
  std::size_t slash = name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  std::size_t dot = base.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string_view ext = base.substr(dot);
  for (auto& [e, type] : types) {
    if (e.size() != ext.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < e.size() && same; ++i) {
      char c = ext[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == e[i];
    }
    if (same) return type;
  }
  return "application/octet-stream";
}

}  // namespace http
