#include "http/request.h"

#include "http/body.h"

namespace cpa::http {

const std::string* Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> Request::query_params() const {
  return parse_urlencoded(query);
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  // DRF's QueryDict.get returns the last value of a repeated key.
  std::optional<std::string> result;
  for (auto& [key, value] : query_params())
    if (key == name) result = std::move(value);
  return result;
}

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string url_decode(std::string_view in) {
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexval(in[i + 1]) * 16 + hexval(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace cpa::http
