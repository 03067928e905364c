// The store's wire format (framework/dist/store_wire.h) without sockets:
// framing, partial input, and the limits that reject a message from its header.
#include "framework/dist/store_wire.h"

#include <gtest/gtest.h>

namespace tandem::dist::wire {
namespace {

std::string u32(uint32_t v) {
  return std::string{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff), static_cast<char>((v >> 16) & 0xff),
                     static_cast<char>((v >> 24) & 0xff)};
}

TEST(StoreWire, AMessageIsACountThenLengthPrefixedStringsLittleEndian) {
  const std::string bytes = encode({"set", std::string("k\0", 2), ""});
  EXPECT_EQ(bytes, u32(3) + u32(3) + "set" + u32(2) + std::string("k\0", 2) + u32(0));
  Message m;
  size_t consumed = 0;
  ASSERT_EQ(parse(bytes + "next", m, consumed), Parse::kDone);
  EXPECT_EQ(m, (Message{"set", std::string("k\0", 2), ""}));
  EXPECT_EQ(consumed, bytes.size()) << "what follows is the next message's";
}

TEST(StoreWire, APartialMessageNeedsMoreAtEveryCut) {
  const std::string bytes = encode({"wait", "1000", "a", "bb"});
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    Message m;
    size_t consumed = 0;
    EXPECT_EQ(parse(bytes.substr(0, cut), m, consumed), Parse::kNeedMore) << cut;
  }
}

TEST(StoreWire, AHeaderOverTheLimitsIsBadBeforeItsBytesArrive) {
  Message m;
  size_t consumed = 0;
  EXPECT_EQ(parse(u32(0), m, consumed), Parse::kBad) << "no parts";
  EXPECT_EQ(parse(u32(kMaxParts + 1), m, consumed), Parse::kBad) << "too many parts";
  EXPECT_EQ(parse(u32(kMaxParts), m, consumed), Parse::kNeedMore) << "as many as allowed";
  // One part announcing more than 1 GiB, or two that add up to more: bad from the lengths alone.
  EXPECT_EQ(parse(u32(1) + u32(static_cast<uint32_t>(kMaxMessageBytes + 1)), m, consumed), Parse::kBad);
  EXPECT_EQ(parse(u32(2) + u32(4) + "abcd" + u32(static_cast<uint32_t>(kMaxMessageBytes - 3)), m, consumed), Parse::kBad);
  EXPECT_EQ(parse(u32(1) + u32(static_cast<uint32_t>(kMaxMessageBytes)), m, consumed), Parse::kNeedMore);
}

TEST(StoreWire, TokensCompareEqualOnlyWhenEqual) {
  EXPECT_TRUE(same_token("0123abcd", "0123abcd"));
  EXPECT_FALSE(same_token("0123abcd", "0123abce"));
  EXPECT_FALSE(same_token("0123abcd", "0123abc"));
  EXPECT_TRUE(same_token("", ""));
}

}  // namespace
}  // namespace tandem::dist::wire
