#include "http/body.h"

#include <cgicc/CgiInput.h>
#include <cgicc/Cgicc.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <unordered_map>
#include <vector>

#include "core/utf8.h"
#include "http/python_str.h"

namespace cpa::http {
namespace {

// Keeps the top-level members of a JSON object. A nested value is kept as
// Python's str() of it (what DRF echoes in "\"['a']\" is not a valid
// choice."), a number as str() of the int or float json.loads makes of it.
// Refuses nesting deeper than kMaxJsonDepth.
class TopLevelHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevelHandler> {
 public:
  explicit TopLevelHandler(Body* body) : body_(body) {}

  bool Null() { return scalar(Value{Value::Kind::kNull, "None", false}); }
  bool Bool(bool b) { return scalar(Value{Value::Kind::kBool, b ? "True" : "False", b}); }
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    return scalar(
        Value{Value::Kind::kNumber, python_str_of_json_number(std::string_view(str, len)), false});
  }
  bool String(const char* str, rapidjson::SizeType len, bool) {
    if (!decoded_utf8(str, len)) return false;
    return scalar(Value{Value::Kind::kString, std::string(str, len), false});
  }
  bool StartObject() { return open(Value::Kind::kObject); }
  bool Key(const char* str, rapidjson::SizeType len, bool) {
    if (!decoded_utf8(str, len)) return false;
    if (depth_ == 1) {
      key_.assign(str, len);
    } else {
      nested_.back().key.assign(str, len);
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(Value::Kind::kArray); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  bool top_not_object = false;
  bool too_deep = false;
  bool lone_surrogate = false;

 private:
  // A nested array or object being read: its items as str() shows them. In
  // an object, a repeated key keeps its first place and takes the last value,
  // as in a Python dict.
  struct Container {
    Value::Kind kind;
    std::vector<std::pair<std::string, std::string>> items;  // (key, shown value)
    std::unordered_map<std::string, size_t> position;        // objects: key -> item
    std::string key;                                         // the key being read
  };

  // RapidJSON validates the bytes it reads, but turns an escaped lone low
  // surrogate ("\udc00") into bytes that are not UTF-8; refuse those.
  bool decoded_utf8(const char* str, rapidjson::SizeType len) {
    if (is_valid_utf8(std::string_view(str, len))) return true;
    lone_surrogate = true;
    return false;
  }
  bool scalar(Value v) {
    if (depth_ == 0) {
      top_not_object = true;
      return false;
    }
    if (depth_ == 1) {
      body_->set(key_, std::move(v));
    } else if (v.kind == Value::Kind::kString) {
      std::string shown;
      append_python_repr(&shown, v.text);
      add_item(std::move(shown));
    } else {
      add_item(std::move(v.text));
    }
    return true;
  }
  bool open(Value::Kind kind) {
    if (depth_ == 0 && kind != Value::Kind::kObject) {
      top_not_object = true;
      return false;
    }
    if (depth_ >= 1) nested_.push_back(Container{kind, {}, {}, {}});
    if (++depth_ > kMaxJsonDepth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool close() {
    if (--depth_ >= 1) {
      Container done = std::move(nested_.back());
      nested_.pop_back();
      std::string shown = show(done);
      if (depth_ == 1) {
        body_->set(key_, Value{done.kind, std::move(shown), false});
      } else {
        add_item(std::move(shown));
      }
    }
    return true;
  }
  void add_item(std::string shown) {
    Container& c = nested_.back();
    if (c.kind == Value::Kind::kObject) {
      auto [it, fresh] = c.position.try_emplace(c.key, c.items.size());
      if (!fresh) {
        c.items[it->second].second = std::move(shown);
        return;
      }
    }
    c.items.emplace_back(std::move(c.key), std::move(shown));
  }
  // Python's str() of a list or dict: ", " between items, ": " after a key.
  static std::string show(const Container& c) {
    const bool object = c.kind == Value::Kind::kObject;
    std::string out(1, object ? '{' : '[');
    for (size_t i = 0; i < c.items.size(); ++i) {
      if (i > 0) out.append(", ");
      if (object) {
        append_python_repr(&out, c.items[i].first);
        out.append(": ");
      }
      out.append(c.items[i].second);
    }
    out.push_back(object ? '}' : ']');
    return out;
  }

  Body* body_;
  int depth_ = 0;
  std::string key_;
  std::vector<Container> nested_;  // the open containers below the top level
};

Result<Body> parse_json(std::string_view text) {
  Body body;
  TopLevelHandler handler(&body);
  rapidjson::Reader reader;
  // The bytes as they are: RapidJSON's EncodedInputStream would skip a BOM
  // (and each stray byte of one), which Python's json refuses.
  rapidjson::MemoryStream is(text.data(), text.size());
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(is, handler);
  if (ok) return body;
  if (handler.top_not_object) return Status::ParseError("The top level must be a JSON object.");
  if (handler.too_deep) return Status::ParseError("Nesting is too deep.");
  const rapidjson::ParseErrorCode code =
      handler.lone_surrogate ? rapidjson::kParseErrorStringUnicodeSurrogateInvalid : ok.Code();
  std::string reason = rapidjson::GetParseError_En(code);
  if (!reason.empty() && reason.back() == '.') reason.pop_back();
  return Status::ParseError(reason + " (at character " + std::to_string(ok.Offset()) + ").");
}

// Feeds cgicc the body as a POST, with no query string (query parameters are
// not body fields).
class BodyInput : public cgicc::CgiInput {
 public:
  BodyInput(std::string content_type, std::string_view body)
      : content_type_(std::move(content_type)), body_(body) {}
  size_t read(char* data, size_t length) override {
    size_t n = std::min(length, body_.size() - offset_);
    std::copy_n(body_.data() + offset_, n, data);
    offset_ += n;
    return n;
  }
  std::string getenv(const char* name) override {
    std::string_view n(name);
    if (n == "REQUEST_METHOD") return "POST";
    if (n == "CONTENT_TYPE") return content_type_;
    if (n == "CONTENT_LENGTH") return std::to_string(body_.size());
    return "";
  }

 private:
  std::string content_type_;
  std::string_view body_;
  size_t offset_ = 0;
};

// The value of parameter `name` in a Content-Type, unquoted; empty if absent.
std::string content_type_param(std::string_view content_type, std::string_view name) {
  size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    size_t next = content_type.find(';', pos + 1);
    std::string_view part = content_type.substr(pos + 1, next == std::string_view::npos
                                                             ? std::string_view::npos
                                                             : next - pos - 1);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      std::string key(part.substr(0, eq));
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key == name) {
        std::string_view v = part.substr(eq + 1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return std::string(v);
      }
    }
    pos = next;
  }
  return "";
}

// cgicc reads urlencoded pairs as Django does (QueryDict: parse_qsl with
// keep_blank_values) but for two spellings: it also splits on ';', and it
// drops a last pair with no '=' ("a=1&code"), where Django keeps code="".
// Such a body reaches cgicc with each ';' escaped (cgicc decodes %3B back)
// and an '=' after that last name.
std::string_view last_pair(std::string_view text) {
  const size_t amp = text.rfind('&');
  return amp == std::string_view::npos ? text : text.substr(amp + 1);
}

bool needs_respelling(std::string_view text) {
  const std::string_view last = last_pair(text);
  return text.find(';') != std::string_view::npos ||
         (!last.empty() && last.find('=') == std::string_view::npos);
}

std::string respell_for_cgicc(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    if (c == ';') {
      out += "%3B";
    } else {
      out.push_back(c);
    }
  }
  const std::string_view last = last_pair(text);
  if (!last.empty() && last.find('=') == std::string_view::npos) out.push_back('=');
  return out;
}

// The (name, value) pairs of a form, in order, repeats kept, decoded as
// Django decodes them. `content_type` is what cgicc is told. Throws on
// malformed multipart input.
FormPairs read_pairs(const std::string& content_type, std::string_view text, bool multipart) {
  std::string respelled;
  if (!multipart && needs_respelling(text)) {
    respelled = respell_for_cgicc(text);
    text = respelled;
  }
  FormPairs pairs;
  BodyInput input(content_type, text);
  cgicc::Cgicc cgi(&input);
  for (const cgicc::FormEntry& entry : *cgi)
    pairs.emplace_back(replace_invalid_utf8(entry.getName()), replace_invalid_utf8(entry.getValue()));
  return pairs;
}

Result<Body> parse_form(std::string_view content_type, std::string_view text, bool multipart) {
  std::string normalized = "application/x-www-form-urlencoded";
  if (multipart) {
    std::string boundary = content_type_param(content_type, "boundary");
    if (boundary.empty() || boundary.size() > 200)
      return Status::Detail(400, "Multipart form parse error - Invalid boundary in multipart: None");
    normalized = "multipart/form-data; boundary=" + boundary;
  }
  Body body;
  try {
    for (auto& [name, value] : read_pairs(normalized, text, multipart))
      body.set(std::move(name), Value{Value::Kind::kString, std::move(value), false});
  } catch (const std::exception&) {
    return Status::Detail(400, "Multipart form parse error - Malformed input.");
  }
  return body;
}

}  // namespace

FormPairs parse_urlencoded(std::string_view text) {
  try {
    return read_pairs("application/x-www-form-urlencoded", text, false);
  } catch (const std::exception&) {
    return {};  // cgicc throws on multipart input only
  }
}

void Body::set(std::string name, Value value) {
  fields_.insert_or_assign(std::move(name), std::move(value));
}

const Value* Body::find(std::string_view name) const {
  auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

std::string media_type(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<Body> parse_body(std::string_view content_type, std::string_view body) {
  if (body.empty()) return Body();
  if (body.size() > kMaxBodyBytes) return Status::TooLarge();
  std::string type = media_type(content_type);
  if (type == "application/json") return parse_json(body);
  if (type == "application/x-www-form-urlencoded") return parse_form(content_type, body, false);
  if (type == "multipart/form-data") return parse_form(content_type, body, true);
  return Status::UnsupportedMediaType(std::string(content_type));
}

}  // namespace cpa::http
