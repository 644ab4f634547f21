// Response: status, headers and body of one HTTP response. Handlers return
// one (or a Status, which http/render.cc turns into one).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpa::http {

struct Response {
  int status = 200;
  std::string body;  // JSON (unless content_type says otherwise); empty for 204
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";

  static Response Json(int status, std::string body) { return Response{status, std::move(body), {}}; }
  static Response Detail(int status, std::string_view detail);
  static Response NoContent() { return Response{204, "", {}}; }

  void set_header(std::string name, std::string value);
  const std::string* header(std::string_view name) const;
};

// "200 OK"
const char* status_line(int status);

}  // namespace cpa::http
