// Clock: the one source of "now" (after LevelDB's Env). Production uses the
// system clock; tests use ManualClock to expire codes and tokens without sleeping.
#pragma once

#include <cstdint>
#include <string_view>

namespace cpa {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual int64_t now() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start) : now_(start) {}
  int64_t now() const override { return now_; }
  void advance(int64_t seconds) { now_ += seconds; }
  void set(int64_t t) { now_ = t; }

 private:
  int64_t now_;
};

// Monotonic microseconds, for durations in logs and backoff.
int64_t monotonic_micros();

// Microseconds into the current second of the system's wall clock (0-999999):
// for ids that should sort by creation within a second, never for behaviour.
int sub_second_micros();

// "2026-11-24T21:05:00Z"
std::string_view iso8601_utc(int64_t t, char (&buf)[24]);

}  // namespace cpa
