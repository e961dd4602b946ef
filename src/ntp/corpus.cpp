#include "ntp/corpus.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

#include "ntp/errors.hpp"

namespace ntp {

namespace {

[[noreturn]] void bad_option(const std::string& field, const std::string& problem,
                             const std::string& value) {
  throw InvalidInput("invalid generator option: " + field + " " + problem + ", got " + value);
}

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool in(unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; }

// Length of the well-formed UTF-8 sequence starting at text[i] (Unicode 15, Table 3-7), or 0 if
// the bytes there do not form one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const std::size_t left = text.size() - i;
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char c = b(0);
  if (c <= 0x7F) return 1;
  if (in(c, 0xC2, 0xDF)) return left >= 2 && in(b(1), 0x80, 0xBF) ? 2 : 0;
  if (in(c, 0xE0, 0xEF)) {
    if (left < 3) return 0;
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
    return in(b(1), lo, hi) && in(b(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(c, 0xF0, 0xF4)) {
    if (left < 4) return 0;
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return in(b(1), lo, hi) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;  // 80..C1 (continuation bytes, overlong leads) and F5..FF never start a sequence
}

}  // namespace

TokenLevel parse_token_level(std::string_view name) {
  if (name == "word") return TokenLevel::kWord;
  if (name == "char") return TokenLevel::kChar;
  bad_option("corpus_level", "must be \"word\" or \"char\"", "\"" + std::string(name) + "\"");
}

std::string token_level_name(TokenLevel level) {
  return level == TokenLevel::kWord ? "word" : "char";
}

std::vector<std::string> tokenize(std::string_view text, TokenLevel level) {
  std::vector<std::string> tokens;
  if (level == TokenLevel::kWord) {
    std::string word;
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (is_word_byte(c)) {
        word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
      } else if (!word.empty()) {
        tokens.push_back(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) tokens.push_back(std::move(word));
    return tokens;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = utf8_length(text, i);
    if (len == 0) {
      const auto c = static_cast<unsigned char>(text[i]);
      tokens.push_back(std::string("<0x") + kHex[c >> 4] + kHex[c & 0xF] + ">");
      ++i;
    } else {
      tokens.emplace_back(text.substr(i, len));
      i += len;
    }
  }
  return tokens;
}

CorpusCounts count_contexts(const std::vector<std::string>& tokens, int context_length,
                            std::int64_t max_contexts) {
  if (context_length < 1) {
    bad_option("context_length", "must be at least 1", std::to_string(context_length));
  }
  if (max_contexts == 0 || max_contexts < -1) {
    bad_option("max_contexts", "must be positive (or -1 for all)", std::to_string(max_contexts));
  }
  CorpusCounts out;
  out.num_tokens = static_cast<std::int64_t>(tokens.size());

  // Ids by first occurrence; the hash map is only looked up, never iterated, so the result does
  // not depend on the standard library.
  std::unordered_map<std::string, std::int32_t> id_of;
  std::vector<std::int32_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) {
    auto [it, inserted] = id_of.try_emplace(t, static_cast<std::int32_t>(out.vocabulary.size()));
    if (inserted) out.vocabulary.push_back(t);
    ids.push_back(it->second);
  }

  const auto t = static_cast<std::size_t>(context_length);
  std::map<std::vector<std::int32_t>, std::size_t> index_of;
  std::vector<std::map<std::int32_t, std::uint64_t>> next_counts;
  std::vector<std::int32_t> history;
  for (std::size_t i = t; i < ids.size(); ++i) {
    history.assign(ids.begin() + static_cast<std::ptrdiff_t>(i - t),
                   ids.begin() + static_cast<std::ptrdiff_t>(i));
    auto [it, inserted] = index_of.try_emplace(history, out.contexts.size());
    if (inserted) {
      CorpusContext c;
      c.history = history;
      c.first_position = static_cast<std::int64_t>(i);
      out.contexts.push_back(std::move(c));
      next_counts.emplace_back();
    }
    ++next_counts[it->second][ids[i]];
    ++out.contexts[it->second].total;
  }
  for (std::size_t j = 0; j < out.contexts.size(); ++j) {
    for (const auto& [z, n] : next_counts[j]) {  // std::map: ascending token id
      out.contexts[j].next.push_back(z);
      out.contexts[j].counts.push_back(n);
    }
  }
  out.num_contexts_total = static_cast<std::int64_t>(out.contexts.size());

  if (max_contexts > 0 && max_contexts < out.num_contexts_total) {
    // Most frequent first, ties by first occurrence (= index); keep the kept ones in index order.
    std::vector<std::size_t> order(out.contexts.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return out.contexts[a].total > out.contexts[b].total;
    });
    order.resize(static_cast<std::size_t>(max_contexts));
    std::sort(order.begin(), order.end());
    std::vector<CorpusContext> kept;
    kept.reserve(order.size());
    for (auto j : order) kept.push_back(std::move(out.contexts[j]));
    out.contexts = std::move(kept);
  }
  return out;
}

}  // namespace ntp
