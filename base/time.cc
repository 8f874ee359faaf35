#include "base/time.h"

#include "base/duration_millis.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace sluice {

std::string formatRfc3339(Time t) {
  // Civil-date arithmetic instead of gmtime_r + snprintf: statuses format many timestamps per reconcile.
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  std::string out = "0000-00-00T00:00:00Z";
  auto put = [&out](size_t pos, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[pos + i] = static_cast<char>('0' + value % 10);
  };
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return std::to_string(toUnix(t)) + "s";  // outside RFC 3339's range
  put(0, static_cast<unsigned>(year), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, static_cast<unsigned>(hms.hours().count()), 2);
  put(14, static_cast<unsigned>(hms.minutes().count()), 2);
  put(17, static_cast<unsigned>(hms.seconds().count()), 2);
  return out;
}

std::string formatRfc3339Micro(std::chrono::system_clock::time_point t) {
  const Time secs = toSeconds(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();  // [0, 1e6)
  std::string frac = ".000000";
  for (size_t i = frac.size() - 1; i > 0; --i, micros /= 10) frac[i] = static_cast<char>('0' + micros % 10);
  std::string out = formatRfc3339(secs);
  out.insert(out.size() - 1, frac);
  return out;
}

namespace {

bool readInt(std::string_view s, size_t& pos, size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += digits;
  out = v;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || (s[pos] != c && !(c == 'T' && (s[pos] == 't' || s[pos] == ' ')))) return false;
  ++pos;
  return true;
}

}  // namespace

Result<Time> parseRfc3339(std::string_view s) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!readInt(s, pos, 4, year) || !expect(s, pos, '-') || !readInt(s, pos, 2, month) ||
      !expect(s, pos, '-') || !readInt(s, pos, 2, day) || !expect(s, pos, 'T') || !readInt(s, pos, 2, hour) ||
      !expect(s, pos, ':') || !readInt(s, pos, 2, minute) || !expect(s, pos, ':') ||
      !readInt(s, pos, 2, second)) {
    return Error{"invalid timestamp \"" + std::string(s) + "\": want RFC 3339, like 2026-01-02T15:04:05Z"};
  }
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  int offsetSeconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!readInt(s, pos, 2, oh) || !expect(s, pos, ':') || !readInt(s, pos, 2, om)) {
      return Error{"invalid timestamp \"" + std::string(s) + "\": bad UTC offset"};
    }
    offsetSeconds = sign * (oh * 3600 + om * 60);
  } else {
    return Error{"invalid timestamp \"" + std::string(s) + "\": missing time zone (Z or ±HH:MM)"};
  }
  if (pos != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return Error{"invalid timestamp \"" + std::string(s) + "\""};
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return Error{"invalid timestamp \"" + std::string(s) + "\": no such date"};
  const sys_seconds t = sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second};
  return Time{t - seconds{offsetSeconds}};
}

namespace {

// A Go-style duration in nanoseconds; a bare number counts `bareUnitNanos` each.
Result<long double> parseDurationNanos(std::string_view text, long double bareUnitNanos) {
  const std::string original(text);
  if (text.empty()) return Error{"empty duration"};
  if (text.front() == '-') return Error{"negative duration \"" + original + "\""};
  if (text.front() == '+') text.remove_prefix(1);
  // A bare number means seconds.
  bool allDigits = !text.empty();
  for (char c : text) allDigits = allDigits && std::isdigit(static_cast<unsigned char>(c));
  if (allDigits) {
    if (text.size() > 12) return Error{"duration \"" + original + "\" is too large"};
    return static_cast<long double>(std::stoll(std::string(text))) * bareUnitNanos;
  }
  if (text == "0") return 0.0L;
  long double totalNanos = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.'))
      ++pos;
    if (start == pos)
      return Error{"invalid duration \"" + original + "\": want a number followed by a unit (s, m, h)"};
    const std::string number(text.substr(start, pos - start));
    if (number == "." || number.find('.') != number.rfind('.')) {
      return Error{"invalid duration \"" + original + "\""};
    }
    start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    const std::string_view unit = text.substr(start, pos - start);
    long double scale;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "µs")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1e6;
    else if (unit == "s")
      scale = 1e9;
    else if (unit == "m")
      scale = 60e9;
    else if (unit == "h")
      scale = 3600e9;
    else if (unit.empty())
      return Error{"invalid duration \"" + original + "\": missing unit (s, m or h)"};
    else
      return Error{"invalid duration \"" + original + "\": unknown unit \"" + std::string(unit) + "\""};
    totalNanos += std::stold(number) * scale;
    if (totalNanos > 1e9L * 3600 * 24 * 365 * 100) return Error{"duration \"" + original + "\" is too large"};
  }
  return totalNanos;
}

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  auto nanos = parseDurationNanos(text, 1e9L);
  if (!nanos) return Error{nanos.error()};
  return Duration{static_cast<int64_t>(std::ceil(*nanos / 1e9L))};
}

Result<std::chrono::milliseconds> parseDurationMillis(std::string_view text) {
  auto nanos = parseDurationNanos(text, 1e9L);
  if (!nanos) return Error{nanos.error()};
  return std::chrono::milliseconds{static_cast<int64_t>(std::ceil(*nanos / 1e6L))};
}

std::string formatDuration(Duration d) {
  int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  const int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (sec) out += std::to_string(sec) + "s";
  return out;
}

}  // namespace sluice
