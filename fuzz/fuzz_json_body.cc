// fuzz_json_body: the input is a request body sent as application/json.
// parse_body must answer a Body or a 4xx Status, never crash or throw, and
// the Body must read through http::Form (fuzz/form_reads.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "form_reads.h"
#include "http/body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  cpa::fuzz::check_body(cpa::http::parse_body("application/json", body));
  // Parameters and case in the media type change nothing.
  cpa::fuzz::check_body(cpa::http::parse_body("Application/JSON; charset=utf-8", body));
  return 0;
}
