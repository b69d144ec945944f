// For table-driven tests of bad settings and configs: the call must throw std::invalid_argument
// whose message holds every expected fragment (the message is what the user reads to fix it).
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ebb::test {

template <typename Call>
void expectInvalid(Call&& call, std::initializer_list<std::string_view> fragments,
                   std::string_view label) {
  try {
    call();
    ADD_FAILURE() << label << ": accepted";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    for (const auto fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << label << ": '" << fragment << "' not in " << message;
    }
  }
}

template <typename Call>
void expectInvalid(Call&& call, std::string_view fragment, std::string_view label) {
  expectInvalid(std::forward<Call>(call), {fragment}, label);
}

}  // namespace ebb::test
