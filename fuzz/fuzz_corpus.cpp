// libFuzzer target: the corpus tokenizer (ntp::tokenize, both levels; documented never to fail on
// any bytes) and the context counting of the `corpus` generator (ntp::count_contexts). Checks the
// documented guarantees: tokens are non-empty well-formed UTF-8 (so JSON can hold them; checked by
// an independent decoder), char
// tokens concatenate back to the input (each invalid byte as "<0xNN>"), and the counts add up.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "ntp/corpus.hpp"
#include "ntp/errors.hpp"

namespace {

// Well-formed UTF-8 per Unicode Table 3-7, written independently of corpus.cpp's decoder.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b0 <= 0x7F) {
      ++i;
      continue;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      const unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (b < l || b > h) return false;
    }
    i += n;
  }
  return true;
}

void check_counts(const std::vector<std::string>& tokens, int t) {
  const ntp::CorpusCounts c = ntp::count_contexts(tokens, t);
  NTP_FUZZ_CHECK(c.num_tokens == static_cast<std::int64_t>(tokens.size()), "token count differs");
  std::uint64_t total = 0;
  for (const auto& ctx : c.contexts) {
    NTP_FUZZ_CHECK(ctx.history.size() == static_cast<std::size_t>(t), "context of wrong length");
    NTP_FUZZ_CHECK(!ctx.next.empty() && ctx.next.size() == ctx.counts.size(), "empty support");
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < ctx.next.size(); ++k) {
      NTP_FUZZ_CHECK(ctx.counts[k] >= 1, "zero count");
      NTP_FUZZ_CHECK(k == 0 || ctx.next[k - 1] < ctx.next[k], "next tokens not ascending");
      NTP_FUZZ_CHECK(
          ctx.next[k] >= 0 && static_cast<std::size_t>(ctx.next[k]) < c.vocabulary.size(),
          "token id out of range");
      sum += ctx.counts[k];
    }
    NTP_FUZZ_CHECK(sum == ctx.total, "counts do not add up to the context total");
    total += sum;
  }
  const std::uint64_t expected =
      tokens.size() > static_cast<std::size_t>(t) ? tokens.size() - t : 0;
  NTP_FUZZ_CHECK(total == expected, "every position after the first t must be counted once");
  if (t == 1) {
    // max_contexts keeps the most frequent contexts; it never adds any.
    const ntp::CorpusCounts top = ntp::count_contexts(tokens, t, 2);
    NTP_FUZZ_CHECK(top.contexts.size() <= 2 && top.contexts.size() <= c.contexts.size(),
                   "max_contexts kept too many contexts");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const std::vector<std::string> words = ntp::tokenize(text, ntp::TokenLevel::kWord);
    for (const auto& w : words) {
      NTP_FUZZ_CHECK(!w.empty(), "empty word token");
      for (const char ch : w) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        NTP_FUZZ_CHECK(ok, "word token holds a byte other than [a-z0-9]");
      }
    }
    const std::vector<std::string> chars = ntp::tokenize(text, ntp::TokenLevel::kChar);
    std::string joined;
    for (const auto& c : chars) {
      NTP_FUZZ_CHECK(!c.empty(), "empty char token");
      NTP_FUZZ_CHECK(valid_utf8(c), "char token is not well-formed UTF-8");
      joined += c;
    }
    // Decoding is lossless up to the documented "<0xNN>" spelling of invalid bytes, so when the
    // input holds no '<' the concatenation equals it exactly iff it is valid UTF-8.
    if (text.find('<') == std::string_view::npos) {
      NTP_FUZZ_CHECK((joined == text) == valid_utf8(text),
                     "char tokens do not concatenate back to valid UTF-8 input");
    }
    for (const int t : {1, 3}) {
      check_counts(words, t);
      check_counts(chars, t);
    }
  } catch (const ntp::Error&) {
    // tokenize never fails; count_contexts only for bad arguments (none are passed here).
  }
  return 0;
}
