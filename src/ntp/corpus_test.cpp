#include "ntp/corpus.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/rng.hpp"

namespace ntp {
namespace {

using Tokens = std::vector<std::string>;

TEST(CorpusTokenize, WordLevelRule) {
  EXPECT_EQ(tokenize("Don't stop-2x", TokenLevel::kWord), (Tokens{"don", "t", "stop", "2x"}));
  EXPECT_EQ(tokenize("  The GNU\tGeneral\n\nPublic License, v3.  ", TokenLevel::kWord),
            (Tokens{"the", "gnu", "general", "public", "license", "v3"}));
  EXPECT_EQ(tokenize("", TokenLevel::kWord), Tokens{});
  EXPECT_EQ(tokenize("...!?", TokenLevel::kWord), Tokens{});
  // Non-ASCII bytes (here UTF-8 for "naïve") and NUL separate words.
  EXPECT_EQ(tokenize("na\xC3\xAFve", TokenLevel::kWord), (Tokens{"na", "ve"}));
  EXPECT_EQ(tokenize(std::string("a\0b", 3), TokenLevel::kWord), (Tokens{"a", "b"}));
}

TEST(CorpusTokenize, CharLevelRule) {
  EXPECT_EQ(tokenize("Ab c", TokenLevel::kChar), (Tokens{"A", "b", " ", "c"}));
  // Well-formed multi-byte characters stay whole: e-acute (2 bytes), euro (3), emoji (4).
  EXPECT_EQ(tokenize("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", TokenLevel::kChar),
            (Tokens{"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}));
  EXPECT_EQ(tokenize(std::string("\0", 1), TokenLevel::kChar), (Tokens{std::string("\0", 1)}));
  // Ill-formed: lone continuation, overlong "/", surrogate U+D800, above U+10FFFF, truncated.
  EXPECT_EQ(tokenize("\x80", TokenLevel::kChar), (Tokens{"<0x80>"}));
  EXPECT_EQ(tokenize("\xC0\xAF", TokenLevel::kChar), (Tokens{"<0xC0>", "<0xAF>"}));
  EXPECT_EQ(tokenize("\xED\xA0\x80", TokenLevel::kChar), (Tokens{"<0xED>", "<0xA0>", "<0x80>"}));
  EXPECT_EQ(tokenize("\xF4\x90\x80\x80", TokenLevel::kChar),
            (Tokens{"<0xF4>", "<0x90>", "<0x80>", "<0x80>"}));
  EXPECT_EQ(tokenize("\xE2\x82", TokenLevel::kChar), (Tokens{"<0xE2>", "<0x82>"}));
  EXPECT_EQ(tokenize("a\xFF"
                     "b",
                     TokenLevel::kChar),
            (Tokens{"a", "<0xFF>", "b"}));
}

// Every token is non-empty well-formed UTF-8 (nlohmann::json::dump throws otherwise), and the char
// tokens of well-formed text concatenate back to the text.
TEST(CorpusTokenize, ArbitraryBytesNeverCrashAndGiveJsonSafeTokens) {
  Rng rng(31337);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng.uniform_int(64), '\0');
    for (auto& ch : bytes) ch = static_cast<char>(rng.uniform_int(256));
    for (const auto level : {TokenLevel::kWord, TokenLevel::kChar}) {
      const auto tokens = tokenize(bytes, level);
      for (const auto& t : tokens) ASSERT_FALSE(t.empty());
      ASSERT_NO_THROW((void)nlohmann::json(tokens).dump());
    }
  }
  const std::string text = "h\xC3\xA9llo, w\xE2\x82\xACrld \xF0\x9F\x98\x80!";
  std::string joined;
  for (const auto& t : tokenize(text, TokenLevel::kChar)) joined += t;
  EXPECT_EQ(joined, text);
}

TEST(CorpusTokenize, LevelNames) {
  EXPECT_EQ(parse_token_level("word"), TokenLevel::kWord);
  EXPECT_EQ(parse_token_level("char"), TokenLevel::kChar);
  EXPECT_EQ(token_level_name(TokenLevel::kChar), "char");
  EXPECT_THROW(parse_token_level("Word"), InvalidInput);
}

TEST(CorpusCount, ContextsAndCounts) {
  // "a b a b a c": contexts of length 1: a -> {b: 2, c: 1}, b -> {a: 2}.
  const auto cc = count_contexts({"a", "b", "a", "b", "a", "c"}, 1);
  EXPECT_EQ(cc.vocabulary, (Tokens{"a", "b", "c"}));
  EXPECT_EQ(cc.num_tokens, 6);
  ASSERT_EQ(cc.contexts.size(), 2u);
  EXPECT_EQ(cc.contexts[0].history, (std::vector<std::int32_t>{0}));
  EXPECT_EQ(cc.contexts[0].next, (std::vector<std::int32_t>{1, 2}));
  EXPECT_EQ(cc.contexts[0].counts, (std::vector<std::uint64_t>{2, 1}));
  EXPECT_EQ(cc.contexts[0].total, 3u);
  EXPECT_EQ(cc.contexts[1].history, (std::vector<std::int32_t>{1}));
  EXPECT_EQ(cc.contexts[1].next, (std::vector<std::int32_t>{0}));
  EXPECT_EQ(cc.contexts[1].counts, (std::vector<std::uint64_t>{2}));

  // Length 2: (a,b) -> {a: 2}, (b,a) -> {b: 1, c: 1}.
  const auto c2 = count_contexts({"a", "b", "a", "b", "a", "c"}, 2);
  ASSERT_EQ(c2.contexts.size(), 2u);
  EXPECT_EQ(c2.contexts[0].history, (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(c2.contexts[1].counts, (std::vector<std::uint64_t>{1, 1}));

  // Too short: no contexts.
  EXPECT_TRUE(count_contexts({"a"}, 1).contexts.empty());
  EXPECT_THROW(count_contexts({"a", "b"}, 0), InvalidInput);
  EXPECT_THROW(count_contexts({"a", "b"}, 1, 0), InvalidInput);
}

TEST(CorpusCount, MaxContextsKeepsMostFrequentWithFirstOccurrenceTieBreak) {
  // Counts of contexts: x:1 (first), y:2, z:2, w:1.
  const auto cc = count_contexts({"x", "y", "q", "z", "q", "y", "q", "z", "q", "w", "q"}, 1);
  std::vector<std::string> names;
  ASSERT_EQ(cc.num_contexts_total, 5);  // x, y, q, z, w
  // q occurs 4 times as a context (positions 2, 4, 6, 8), y and z twice, x and w once.
  const auto top3 = count_contexts({"x", "y", "q", "z", "q", "y", "q", "z", "q", "w", "q"}, 1, 3);
  ASSERT_EQ(top3.contexts.size(), 3u);
  for (const auto& c : top3.contexts) names.push_back(top3.vocabulary[c.history[0]]);
  EXPECT_EQ(names, (Tokens{"y", "q", "z"}));  // first-occurrence order among the kept
  EXPECT_EQ(top3.num_contexts_total, 5);
  const auto top4 = count_contexts({"x", "y", "q", "z", "q", "y", "q", "z", "q", "w", "q"}, 1, 4);
  names.clear();
  for (const auto& c : top4.contexts) names.push_back(top4.vocabulary[c.history[0]]);
  EXPECT_EQ(names, (Tokens{"x", "y", "q", "z"}));  // x beats w on the tie (earlier)
}

class CorpusGenerate : public ::testing::Test {
 protected:
  static constexpr const char* kGpl = "/usr/share/common-licenses/GPL-3";
  void SetUp() override {
    if (!std::filesystem::exists(kGpl)) GTEST_SKIP() << kGpl << " not installed";
  }
  static GeneratorOptions options() {
    GeneratorOptions o;
    o.family = "corpus";
    o.corpus_path = kGpl;
    return o;
  }
};

// Exact consistency of the instance with the counts of the text (theory.md §1 raw data form):
// pi_j = count(j)/n and p_{j,z} = count(j,z)/count(j).
void expect_matches_counts(const InstanceData& data, const CorpusCounts& cc) {
  ASSERT_EQ(data.num_contexts(), static_cast<std::int64_t>(cc.contexts.size()));
  std::uint64_t n = 0;
  for (const auto& c : cc.contexts) n += c.total;
  for (std::size_t j = 0; j < cc.contexts.size(); ++j) {
    const auto& c = data.contexts[j];
    const auto& k = cc.contexts[j];
    ASSERT_EQ(c.tokens, k.next);
    EXPECT_EQ(c.weight, Rational(BigInt(k.total), BigInt(n)));
    ASSERT_EQ(c.probabilities.size(), k.counts.size());
    for (std::size_t z = 0; z < k.counts.size(); ++z) {
      EXPECT_EQ(c.probabilities[z], Rational(BigInt(k.counts[z]), BigInt(k.total)));
    }
  }
}

TEST_F(CorpusGenerate, Gpl3WordLevelGaussian) {
  auto o = options();
  const InstanceData data = generate(o);
  std::ifstream in(kGpl, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cc = count_contexts(tokenize(text, TokenLevel::kWord), 1);
  EXPECT_EQ(data.vocab_size, static_cast<std::int64_t>(cc.vocabulary.size()));
  EXPECT_EQ(data.embedding_dim, 16);
  expect_matches_counts(data, cc);
  EXPECT_EQ(data.extra["generator"], "corpus");
  EXPECT_EQ(data.extra["vocabulary"].size(), cc.vocabulary.size());
  EXPECT_EQ(data.extra["vocabulary"][0], "gnu");  // the text starts "GNU GENERAL PUBLIC LICENSE"
  for (const auto& c : data.contexts) {
    for (const auto& x : c.embedding) ASSERT_EQ(denominator(Rational(x * 65536)), 1);
  }
  // Deterministic; the seed changes the embeddings only.
  const InstanceData again = generate(o);
  EXPECT_EQ(again.contexts[5].embedding, data.contexts[5].embedding);
  o.seed = 2;
  const InstanceData other = generate(o);
  EXPECT_NE(other.contexts[5].embedding, data.contexts[5].embedding);
  EXPECT_EQ(other.contexts[5].probabilities, data.contexts[5].probabilities);
}

TEST_F(CorpusGenerate, Gpl3CharLevelOneHotWithMaxContexts) {
  auto o = options();
  o.corpus_level = "char";
  o.context_length = 2;
  o.corpus_embedding = "one-hot";
  o.max_contexts = 40;
  const InstanceData data = generate(o);
  EXPECT_EQ(data.num_contexts(), 40);
  EXPECT_EQ(data.embedding_dim, 40);
  for (std::int64_t j = 0; j < 40; ++j) {
    for (std::int64_t i = 0; i < 40; ++i) {
      ASSERT_EQ(data.contexts[j].embedding[i], i == j ? 1 : 0);
    }
  }
  std::ifstream in(kGpl, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cc = count_contexts(tokenize(text, TokenLevel::kChar), 2, 40);
  expect_matches_counts(data, cc);
  // The kept contexts are the 40 most frequent.
  const auto all = count_contexts(tokenize(text, TokenLevel::kChar), 2);
  std::uint64_t min_kept = UINT64_MAX;
  for (const auto& c : cc.contexts) min_kept = std::min(min_kept, c.total);
  int more_frequent = 0;
  for (const auto& c : all.contexts) more_frequent += c.total > min_kept ? 1 : 0;
  EXPECT_LT(more_frequent, 40);
}

TEST_F(CorpusGenerate, BadOptions) {
  auto o = options();
  o.corpus_path = "/nonexistent/file.txt";
  EXPECT_THROW(generate(o), InvalidInput);
  o = options();
  o.corpus_path = "/usr/share/common-licenses";
  EXPECT_THROW(generate(o), InvalidInput);
  o = options();
  o.corpus_level = "byte";
  EXPECT_THROW(generate(o), InvalidInput);
  o = options();
  o.corpus_embedding = "random";
  EXPECT_THROW(generate(o), InvalidInput);
  o = options();
  o.context_length = 0;
  EXPECT_THROW(generate(o), InvalidInput);
  o = options();
  o.vocab_size = 10;
  EXPECT_THROW(generate(o), InvalidInput);
  o = options();
  o.corpus_embedding = "one-hot";
  o.max_contexts = 5;
  o.embedding_dim = 6;
  EXPECT_THROW(generate(o), InvalidInput);
  try {
    o = options();
    o.corpus_path = "/nonexistent/file.txt";
    generate(o);
    ADD_FAILURE() << "no exception";
  } catch (const InvalidInput& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "invalid generator option: corpus_path cannot be opened, got \"/nonexistent/file.txt\"");
  }
}

}  // namespace
}  // namespace ntp
