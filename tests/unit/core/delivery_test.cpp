#include "core/delivery.hpp"

#include <gtest/gtest.h>

namespace repute::core {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(HeaderLines, RoundTripTheFieldsInOrder) {
  const Fields sent = {{"Content-Type", "application/json"},
                       {"webhook-id", "msg_1"},
                       {"webhook-signature", "v1,abc= v1,def="},
                       {"X-Empty", ""}};
  const std::string lines = header_lines(sent);
  EXPECT_EQ(lines,
            "Content-Type: application/json\nwebhook-id: msg_1\nwebhook-signature: v1,abc= v1,def=\nX-Empty: \n");
  EXPECT_EQ(parse_header_lines(lines), sent);
}

TEST(HeaderLines, NothingSentIsEmptyAndStrayLinesAreSkipped) {
  EXPECT_EQ(header_lines({}), "");
  EXPECT_TRUE(parse_header_lines("").empty());
  EXPECT_EQ(parse_header_lines("garbage\nA: b"), (Fields{{"A", "b"}}));
}

}  // namespace
}  // namespace repute::core
