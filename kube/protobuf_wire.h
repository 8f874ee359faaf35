// A reader of the protobuf wire format (varints, 64-bit, length-delimited and 32-bit fields), without
// any schema: the API server's protobuf request bodies are walked with it against hand-written tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace sluice::kube {

enum class WireType : std::uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,  // deprecated groups: never produced for Kubernetes types, refused
  kEndGroup = 4,
  kFixed32 = 5,
};

// One field as it appears on the wire.
struct WireField {
  std::uint32_t number = 0;
  WireType type = WireType::kVarint;
  std::uint64_t scalar = 0;  // the value of a varint, fixed64 or fixed32 field (fixed32 zero-extended)
  std::string_view bytes;    // the payload of a length-delimited field; a view into the reader's input
};

// Reads a message's fields in order. The input must outlive the reader and the fields it returns.
// Every error names the byte offset (from the start of this reader's input) where reading failed.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  // True when every byte has been consumed.
  bool done() const { return pos_ >= data_.size(); }
  std::size_t offset() const { return pos_; }

  // The next field. Errors: a truncated tag or value, a length past the end, field number 0 or
  // above 2^29-1, a group or an unknown wire type (6, 7). After an error the reader must not be used.
  Result<WireField> next();

 private:
  Result<std::uint64_t> varint();

  std::string_view data_;
  std::size_t pos_ = 0;
};

// Decodes the varint at the start of `in` (at most 10 bytes; the tenth may only carry the top bit)
// and advances `in` past it. Errors: truncated, or overflowing 64 bits.
Result<std::uint64_t> readVarint(std::string_view& in);

// All varints in `in` (a packed repeated field). Errors as readVarint.
Status forEachPackedVarint(std::string_view in, const auto& onValue) {
  while (!in.empty()) {
    auto v = readVarint(in);
    if (!v) return Error{v.error()};
    onValue(*v);
  }
  return {};
}

}  // namespace sluice::kube
