// Properties of the instance model and its file format.
#include "ntp/instance_io.hpp"
#include "prop_support.hpp"

namespace ntp {
namespace {

// The file format is lossless: write then read gives the same exact instance.
RC_GTEST_PROP(InstanceProperties, JsonRoundTripIsExact, ()) {
  const InstanceData data = generate(prop::gen_options());
  const std::string text = instance_to_json(data).dump();
  const InstanceData back = read_instance_json(text, "<roundtrip>");
  RC_ASSERT(back.vocab_size == data.vocab_size);
  RC_ASSERT(back.embedding_dim == data.embedding_dim);
  RC_ASSERT(back.contexts.size() == data.contexts.size());
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    RC_ASSERT(back.contexts[j].embedding == data.contexts[j].embedding);
    RC_ASSERT(back.contexts[j].tokens == data.contexts[j].tokens);
    RC_ASSERT(back.contexts[j].probabilities == data.contexts[j].probabilities);
    RC_ASSERT(back.contexts[j].weight == data.contexts[j].weight);
  }
  RC_ASSERT(instance_to_json(back).dump() == text);
}

// Generators are deterministic: the same options give the same bytes.
RC_GTEST_PROP(InstanceProperties, GeneratorsAreDeterministic, ()) {
  const GeneratorOptions g = prop::gen_options();
  RC_ASSERT(instance_to_json(generate(g)).dump() == instance_to_json(generate(g)).dump());
}

// Every conversion rounds each value once: the double instance's probabilities are the nearest
// doubles to the exact ones, and H computed in double matches H at 60 digits.
RC_GTEST_PROP(InstanceProperties, EntropyInDoubleMatches60Digits, ()) {
  const InstanceData data = generate(prop::gen_options());
  set_mpfr_digits(60);
  const double h = to_scalar<double>(data).entropy;
  const double want = to_scalar<Mpfr>(data).entropy.convert_to<double>();
  // H = -sum pi p log p: nnz terms each with a few roundings.
  RC_ASSERT(std::fabs(h - want) <= 8 * static_cast<double>(data.support_nnz()) *
                                           ScalarTraits<double>::epsilon() * (want + 1e-300) +
                                       1e-300);
}

}  // namespace
}  // namespace ntp
