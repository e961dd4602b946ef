#pragma once
/** @file corpus.hpp
 * Text corpora as NTP data (theory.md §1, "raw data form"): a tokenizer that accepts arbitrary
 * bytes, and the counting of every distinct context of a fixed length with its next-token counts.
 * The `corpus` generator family (generators.hpp) turns the counts into an instance.
 */
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ntp {

/** How text is split into tokens. */
enum class TokenLevel {
  kWord,  ///< maximal runs of ASCII letters and digits, lowercased
  kChar,  ///< Unicode scalar values of well-formed UTF-8; each other byte is its own token
};

/** "word" or "char"; throws InvalidInput ("invalid generator option: corpus_level ...") else. */
TokenLevel parse_token_level(std::string_view name);

/** "word" or "char". */
std::string token_level_name(TokenLevel level);

/**
 * Splits arbitrary bytes (any length, invalid UTF-8 and NUL included) into tokens. Never fails
 * except by running out of memory. Every token is well-formed UTF-8 and non-empty, so it can be
 * written to JSON.
 *
 * - kWord: a word is a maximal run of the ASCII bytes [A-Za-z0-9]; A-Z are lowercased. Every other
 *   byte (whitespace, punctuation, control bytes, NUL, every byte >= 0x80, so every non-ASCII
 *   character) separates words and is dropped. "Don't stop-2x" -> {"don", "t", "stop", "2x"}.
 *   The rule is locale-independent (no <cctype>).
 * - kChar: each well-formed UTF-8 sequence (Unicode Table 3-7: no overlong forms, no surrogates,
 *   nothing above U+10FFFF) is one token holding its bytes, case and whitespace preserved (NUL is
 *   the token "\0"). A byte that does not start a well-formed sequence becomes the six-character
 *   token "<0xNN>" (NN its value in upper-case hex) and decoding resumes at the next byte. Such a
 *   token cannot collide with a character token, which is a single character.
 */
std::vector<std::string> tokenize(std::string_view text, TokenLevel level);

/** One distinct context (the t preceding tokens) with the counts of the tokens that followed it. */
struct CorpusContext {
  std::vector<std::int32_t> history;  ///< the t token ids of the context, oldest first
  std::vector<std::int32_t> next;     ///< distinct next-token ids, ascending
  std::vector<std::uint64_t> counts;  ///< count(context, next[k]) >= 1
  std::uint64_t total = 0;            ///< count(context) = sum of counts
  std::int64_t first_position = 0;    ///< index in the token sequence of its first next token
};

/** The contexts of length t of a token sequence. */
struct CorpusCounts {
  std::vector<std::string> vocabulary;  ///< token id -> token text; ids by first occurrence
  std::vector<CorpusContext> contexts;  ///< ordered by first occurrence
  std::int64_t num_tokens = 0;          ///< length of the token sequence
  std::int64_t num_contexts_total = 0;  ///< distinct contexts before max_contexts was applied
};

/**
 * Counts every distinct context of length `context_length` >= 1 (the tokens at positions
 * i-t .. i-1) and its next token (position i), for i = t .. n-1. The vocabulary is every distinct
 * token of the sequence (also those that never follow a context). With max_contexts >= 1 only the
 * max_contexts contexts with the largest count(context) are kept, ties broken by earlier first
 * occurrence, and kept in order of first occurrence; -1 keeps all. Throws InvalidInput for
 * context_length < 1 or max_contexts = 0 or < -1.
 */
CorpusCounts count_contexts(const std::vector<std::string>& tokens, int context_length,
                            std::int64_t max_contexts = -1);

}  // namespace ntp
