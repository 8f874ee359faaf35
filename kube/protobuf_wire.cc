// The protobuf wire format: tags are varints of (field number << 3 | wire type).
#include "kube/protobuf_wire.h"

#include <string>

namespace sluice::kube {

namespace {

constexpr std::size_t kMaxVarintBytes = 10;
constexpr std::uint64_t kMaxFieldNumber = (1U << 29) - 1;

}  // namespace

Result<std::uint64_t> readVarint(std::string_view& in) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
    if (i >= in.size()) return Error{"truncated varint"};
    auto byte = static_cast<std::uint8_t>(in[i]);
    // The tenth byte holds bit 63 only: anything more (a higher bit or an eleventh byte) overflows.
    if (i == kMaxVarintBytes - 1 && byte > 1) return Error{"varint overflows 64 bits"};
    value |= static_cast<std::uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      in.remove_prefix(i + 1);
      return value;
    }
  }
  return Error{"varint overflows 64 bits"};  // not reached: the tenth byte decides
}

Result<std::uint64_t> WireReader::varint() {
  std::string_view rest = data_.substr(pos_);
  auto v = readVarint(rest);
  if (!v) return Error{v.error() + " at byte " + std::to_string(pos_)};
  pos_ = data_.size() - rest.size();
  return v;
}

Result<WireField> WireReader::next() {
  const std::size_t tagAt = pos_;
  auto tag = varint();
  if (!tag) return Error{tag.error()};
  WireField f;
  const std::uint64_t number = *tag >> 3;
  if (number == 0 || number > kMaxFieldNumber) {
    return Error{"invalid field number " + std::to_string(number) + " at byte " + std::to_string(tagAt)};
  }
  f.number = static_cast<std::uint32_t>(number);
  const auto wire = static_cast<unsigned>(*tag & 7);
  auto fixed = [&](std::size_t width) -> Status {
    if (data_.size() - pos_ < width) {
      return Error{"truncated " + std::to_string(width * 8) + "-bit value of field " +
                   std::to_string(number) + " at byte " + std::to_string(pos_)};
    }
    for (std::size_t i = 0; i < width; ++i) {
      f.scalar |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += width;
    return {};
  };
  switch (wire) {
    case 0: {
      f.type = WireType::kVarint;
      auto v = varint();
      if (!v) return Error{v.error()};
      f.scalar = *v;
      return f;
    }
    case 1: {
      f.type = WireType::kFixed64;
      if (auto s = fixed(8); !s) return Error{s.error()};
      return f;
    }
    case 2: {
      f.type = WireType::kLengthDelimited;
      const std::size_t lengthAt = pos_;
      auto len = varint();
      if (!len) return Error{len.error()};
      if (*len > data_.size() - pos_) {
        return Error{"field " + std::to_string(number) + " at byte " + std::to_string(lengthAt) + " claims " +
                     std::to_string(*len) + " bytes but only " + std::to_string(data_.size() - pos_) +
                     " remain"};
      }
      f.bytes = data_.substr(pos_, static_cast<std::size_t>(*len));
      pos_ += static_cast<std::size_t>(*len);
      return f;
    }
    case 5: {
      f.type = WireType::kFixed32;
      if (auto s = fixed(4); !s) return Error{s.error()};
      return f;
    }
    case 3:
    case 4:
      return Error{"field " + std::to_string(number) + " at byte " + std::to_string(tagAt) +
                   " uses a group (wire type " + std::to_string(wire) + "), which Kubernetes types never do"};
    default:
      return Error{"invalid wire type " + std::to_string(wire) + " for field " + std::to_string(number) +
                   " at byte " + std::to_string(tagAt)};
  }
}

}  // namespace sluice::kube
