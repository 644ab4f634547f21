#include "http/json.h"

namespace cpa::http {

// json.dumps(s, ensure_ascii=False): '"' and '\' and the five short escapes
// as such, other control characters as \u00xx in lower case, the rest as is;
// then DRF's JSONRenderer turns U+2028 and U+2029 into \u2028 and \u2029.
std::string JsonWriter::quote_with_lowercase_hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 8);
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_line_or_paragraph_separator(s, i)) {
      out.append(s[i + 2] == '\xa8' ? "\\u2028" : "\\u2029");
      i += 2;
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace cpa::http
