// JsonWriter: builds compact JSON (DRF's renderer: no spaces, UTF-8 as is)
// over RapidJSON's Writer, with keys in the order they are written.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace cpa::http {

class JsonWriter {
 public:
  JsonWriter() : writer_(buffer_) {}

  JsonWriter& begin_object() { writer_.StartObject(); return *this; }
  JsonWriter& end_object() { writer_.EndObject(); return *this; }
  JsonWriter& begin_array() { writer_.StartArray(); return *this; }
  JsonWriter& end_array() { writer_.EndArray(); return *this; }
  JsonWriter& key(std::string_view k) {
    writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  JsonWriter& value(std::string_view s) {
    if (needs_hex_escape(s)) {
      const std::string quoted = quote_with_lowercase_hex(s);
      writer_.RawValue(quoted.data(), quoted.size(), rapidjson::kStringType);
    } else {
      writer_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    }
    return *this;
  }
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t v) { writer_.Int64(v); return *this; }
  JsonWriter& value(int v) { writer_.Int(v); return *this; }
  JsonWriter& value(bool v) { writer_.Bool(v); return *this; }
  JsonWriter& null() { writer_.Null(); return *this; }

  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  std::string str() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  // DRF's bytes differ from RapidJSON's in two places: Python's json spells
  // control characters \u001f (RapidJSON: \u001F), and DRF's renderer
  // escapes U+2028 and U+2029 (RapidJSON writes them raw). Strings holding
  // one (rare: a name or an echoed choice) are quoted by hand.
  static bool needs_hex_escape(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (static_cast<unsigned char>(c) < 0x20 && c != '\b' && c != '\f' && c != '\n' &&
          c != '\r' && c != '\t')
        return true;
      if (is_line_or_paragraph_separator(s, i)) return true;
    }
    return false;
  }
  // U+2028 or U+2029 (E2 80 A8 / E2 80 A9) at s[i].
  static bool is_line_or_paragraph_separator(std::string_view s, size_t i) {
    return s[i] == '\xe2' && i + 2 < s.size() && s[i + 1] == '\x80' &&
           (s[i + 2] == '\xa8' || s[i + 2] == '\xa9');
  }
  static std::string quote_with_lowercase_hex(std::string_view s);

  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

// {"detail":"<text>"}
std::string detail_json(std::string_view text);

}  // namespace cpa::http
