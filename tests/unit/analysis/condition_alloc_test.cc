// Evaluating a compiled condition allocates nothing for numeric and list results that succeed: every
// measurement of every run evaluates conditions, so the hot path stays off the heap.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "analysis/condition.h"

namespace {
// Counts allocations made on this thread while counting is on. The replacement forwards to malloc, so
// it changes nothing else in the test binary.
thread_local bool counting = false;
thread_local long allocations = 0;
}  // namespace

// Every non-aligned form is replaced, so that each allocation and its release go through the same pair
// (a sanitizer's own operator new must never meet free()).
namespace {
void* countedAllocation(std::size_t size) {
  if (counting) ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = countedAllocation(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = countedAllocation(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return countedAllocation(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return countedAllocation(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace sluice::analysis {
namespace {

long allocationsDuring(const CompiledCondition& condition, const Value& result, bool& answer) {
  allocations = 0;
  counting = true;
  auto got = condition.evaluate(result);
  counting = false;
  REQUIRE(got.ok());
  answer = *got;
  return allocations;
}

TEST_CASE("evaluating a condition allocates nothing once its kind of result was seen",
          "[analysis][condition]") {
  struct Row {
    const char* condition;
    Value result;
    bool expected;
  };
  const Row rows[] = {
      {"result >= 0.95", Value::number(0.97), true},
      {"isNaN(result) || result >= 0.95", Value::number(0.5), false},
      {"default(result, 0) < 0.05", Value::number(0.01), true},
      {"result", Value::boolean(true), true},
      {"all(result, # < 1000)", Value::vector({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), true},
      {"len(result) == 0 || result[0] >= 0.95", Value::vector({0.97}), true},
      {"count(filter(result, # > 2), {# < 5}) == 2 && result[-1] == 10", Value::vector({1, 2, 3, 4, 5, 10}),
       true},
      {"mean(result) > 1 && max(result) < 100 && sum(result) > 0", Value::vector({2, 3}), true},
      {"result == \"ok\"", Value::string("ok"), true},
  };
  for (const Row& row : rows) {
    INFO(row.condition);
    auto compiled = compile(row.condition);
    REQUIRE(compiled.ok());
    bool answer = false;
    // The first evaluation of a kind of result compiles that kind's program; from then on, nothing.
    REQUIRE(compiled->evaluate(row.result).ok());
    CHECK(allocationsDuring(*compiled, row.result, answer) == 0);
    CHECK(answer == row.expected);
  }
}

}  // namespace
}  // namespace sluice::analysis
