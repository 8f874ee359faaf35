// The protobuf wire reader on hand-made bytes: varints at their edges (one byte, ten-byte negatives,
// overflow), every wire type, truncation and lengths past the end.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "kube/protobuf_wire.h"

using sluice::kube::readVarint;
using sluice::kube::WireReader;
using sluice::kube::WireType;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

}  // namespace

TEST_CASE("varints decode at their edges", "[kube][protobuf]") {
  struct Row {
    const char* name;
    std::string in;
    std::uint64_t value;
  };
  const Row rows[] = {
      {"zero", bytes({0x00}), 0},
      {"one byte max", bytes({0x7F}), 127},
      {"two bytes", bytes({0x80, 0x01}), 128},
      {"300", bytes({0xAC, 0x02}), 300},
      {"int32 -1 sign-extended to ten bytes",
       bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), UINT64_MAX},
      {"int64 min", bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), 1ULL << 63},
      {"non-minimal encoding of 1", bytes({0x81, 0x80, 0x00}), 1},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    std::string_view in = row.in;
    auto v = readVarint(in);
    REQUIRE(v.ok());
    CHECK(*v == row.value);
    CHECK(in.empty());
  }
}

TEST_CASE("bad varints are errors", "[kube][protobuf]") {
  struct Row {
    const char* name;
    std::string in;
    const char* error;
  };
  const Row rows[] = {
      {"empty", "", "truncated varint"},
      {"continuation bit on the last byte", bytes({0x80}), "truncated varint"},
      {"nine continuation bytes then the end", bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
       "truncated varint"},
      {"tenth byte above 1 overflows", bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}),
       "varint overflows 64 bits"},
      {"an eleventh byte", bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00}),
       "varint overflows 64 bits"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    std::string_view in = row.in;
    auto v = readVarint(in);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error() == row.error);
  }
}

TEST_CASE("the reader returns each wire type's value", "[kube][protobuf]") {
  // 1: varint 150; 2: fixed64; 3: "hi"; 5: fixed32; 16: varint 1 (a two-byte tag).
  std::string msg = bytes({0x08, 0x96, 0x01, 0x11, 1,    2,    3,    4,    5,    6,    7,    8,
                           0x1A, 0x02, 'h',  'i',  0x2D, 0xEF, 0xBE, 0xAD, 0xDE, 0x80, 0x01, 0x01});
  WireReader r(msg);
  auto f = r.next();
  REQUIRE(f.ok());
  CHECK((f->number == 1 && f->type == WireType::kVarint && f->scalar == 150));
  f = r.next();
  REQUIRE(f.ok());
  CHECK((f->number == 2 && f->type == WireType::kFixed64 && f->scalar == 0x0807060504030201ULL));
  f = r.next();
  REQUIRE(f.ok());
  CHECK((f->number == 3 && f->type == WireType::kLengthDelimited && f->bytes == "hi"));
  f = r.next();
  REQUIRE(f.ok());
  CHECK((f->number == 5 && f->type == WireType::kFixed32 && f->scalar == 0xDEADBEEF));
  f = r.next();
  REQUIRE(f.ok());
  CHECK((f->number == 16 && f->scalar == 1));
  CHECK(r.done());
}

TEST_CASE("truncated and malformed fields are errors naming the byte", "[kube][protobuf]") {
  struct Row {
    const char* name;
    std::string in;
    const char* error;
  };
  const Row rows[] = {
      {"tag cut in the middle", bytes({0x80}), "truncated varint at byte 0"},
      {"varint value missing", bytes({0x08}), "truncated varint at byte 1"},
      {"fixed64 with 3 bytes", bytes({0x09, 1, 2, 3}), "truncated 64-bit value of field 1 at byte 1"},
      {"fixed32 with 1 byte", bytes({0x0D, 1}), "truncated 32-bit value of field 1 at byte 1"},
      {"length past the end", bytes({0x0A, 0x05, 'a', 'b'}),
       "field 1 at byte 1 claims 5 bytes but only 2 remain"},
      {"huge length", bytes({0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}),
       "field 1 at byte 1 claims 4294967295 bytes but only 0 remain"},
      {"length varint cut", bytes({0x0A, 0xFF}), "truncated varint at byte 1"},
      {"field number 0", bytes({0x00, 0x01}), "invalid field number 0 at byte 0"},
      {"wire type 6", bytes({0x0E}), "invalid wire type 6 for field 1 at byte 0"},
      {"wire type 7", bytes({0x0F}), "invalid wire type 7 for field 1 at byte 0"},
      {"start group", bytes({0x0B}),
       "field 1 at byte 0 uses a group (wire type 3), which Kubernetes types never do"},
      {"field number above 2^29-1", bytes({0xF8, 0xFF, 0xFF, 0xFF, 0x7F}),
       "invalid field number 4294967295 at byte 0"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    WireReader r(row.in);
    auto f = r.next();
    REQUIRE_FALSE(f.ok());
    CHECK(f.error() == row.error);
  }
}

TEST_CASE("a length-delimited field's bytes can be read as a nested message", "[kube][protobuf]") {
  // Field 1 holds {2: "x"}; then a second nested length (3) runs past the nested message's end.
  std::string msg = bytes({0x0A, 0x03, 0x12, 0x01, 'x', 0x0A, 0x02, 0x12, 0x03});
  WireReader outer(msg);
  auto f = outer.next();
  REQUIRE(f.ok());
  WireReader inner(f->bytes);
  auto g = inner.next();
  REQUIRE(g.ok());
  CHECK((g->number == 2 && g->bytes == "x"));
  CHECK(inner.done());
  f = outer.next();
  REQUIRE(f.ok());
  WireReader bad(f->bytes);
  auto h = bad.next();
  REQUIRE_FALSE(h.ok());
  CHECK(h.error() == "field 2 at byte 1 claims 3 bytes but only 0 remain");
}
