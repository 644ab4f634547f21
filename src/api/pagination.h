// DRF's LimitOffsetPagination, as the list routes use it (API.md §7, §9):
// without a valid `limit`, the whole list as a plain JSON array (`offset`
// alone changes nothing); with one, the envelope
// {"count", "next", "previous", "results"} whose links are absolute.
#pragma once

#include <cstdint>
#include <functional>

#include "api/context.h"
#include "http/json.h"

namespace cpa::api {

struct PageRequest {
  bool paged = false;         // a valid `limit` was given
  int64_t limit = INT64_MAX;  // at most 1000 when paged (DRF's max_limit)
  int64_t offset = 0;         // 0 when not paged
};

// The page the query string asks for. A `limit` that is not a positive
// integer is ignored (no envelope), as is an `offset` that is not a
// non-negative one.
PageRequest requested_page(const Call& call);

// 200 with the rows `write_rows` writes (each a JSON value, in order): as
// they are, or in the envelope of `count` rows in all.
http::Response page_response(const Call& call, const PageRequest& page, int64_t count,
                             const std::function<void(http::JsonWriter&)>& write_rows);

}  // namespace cpa::api
