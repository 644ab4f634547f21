// fuzz_form_body: a form body, urlencoded or multipart.
//
// Input layout: the first byte selects the encoding ('m' or any other even
// byte: multipart/form-data; 'u' or any other odd byte: urlencoded). For
// multipart the bytes up to the first '\n' are the boundary parameter, as it
// would follow "boundary=" in the Content-Type; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "form_reads.h"
#include "http/body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const char selector = input.front();
  input.remove_prefix(1);
  const bool multipart = selector == 'm' || (selector != 'u' && selector % 2 == 0);

  std::string content_type = "application/x-www-form-urlencoded";
  if (multipart) {
    const size_t newline = input.find('\n');
    content_type = "multipart/form-data; boundary=";
    content_type.append(input.substr(0, newline));
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  }
  cpa::fuzz::check_body(cpa::http::parse_body(content_type, input));
  return 0;
}
