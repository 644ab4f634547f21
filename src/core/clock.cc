#include "core/clock.h"

#include <ctime>

namespace cpa {

int64_t SystemClock::now() const { return static_cast<int64_t>(::time(nullptr)); }

int64_t monotonic_micros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int sub_second_micros() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int>(ts.tv_nsec / 1000);
}

std::string_view iso8601_utc(int64_t t, char (&buf)[24]) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string_view(buf, n);
}

}  // namespace cpa
