// Properties of the certified objects (theory.md §2, §3, §7) on small exact instances: every
// certificate verifies with the independent verifiers, the verdicts agree with exact facts, and
// W^mm (exact rational) and W* (rigorous enclosure) transform as the theory says under
// relabellings, rescaling, orthogonal changes of the embedding basis, context splitting and
// unused tokens. W^mm is compared exactly; W* through its enclosures: two enclosures (W_mid_a,
// rho_a) and (W_mid_b, rho_b) of matrices related by an isometry T must meet,
// |W_mid_b - T(W_mid_a)| <= rho_b + rho_a entrywise (|.|_max <= ||.||_F), decided in rationals.
#include <optional>

#include "claims_prop_support.hpp"
#include "ntp/compatibility.hpp"
#include "ntp/exact.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/separability.hpp"
#include "ntp/subspace.hpp"
#include "ntp/w_star.hpp"

namespace ntp {
namespace {

using prop::RationalW;

/** Everything certified about one instance. */
struct Certified {
  CompatibilityResult comp;
  SeparabilityResult sep;
  std::int64_t dim_f = 0;
  WStarResult ws;  ///< computed iff (C) holds
  MaxMarginResult mm;
};

Certified certify(const InstanceData& data) {
  Certified c;
  CompatibilityOptions o;
  o.compute_w_star = false;
  c.comp = check_compatibility(data, o);
  c.sep = decide_separability(data);
  c.dim_f = exact_dim_f(data);
  if (c.comp.verdict == CompatibilityVerdict::kHolds) {
    c.ws = enclose_w_star(data, c.comp.verdict, 200, c.dim_f);
  }
  c.mm = compute_w_mm(data, c.sep.verdict);
  return c;
}

std::string verdicts(const Certified& c) {
  return "(C) " + to_string(c.comp.verdict) + " [" + c.comp.reason + "], (6) " +
         to_string(c.sep.verdict) + " [" + c.sep.reason + "], W* " +
         (c.ws.computed ? "computed" : "not computed [" + c.ws.reason + "]") + ", W^mm " +
         to_string(c.mm.status) + " [" + c.mm.reason + "]";
}

/** Mostly overparameterized shapes (W* and W^mm exist), sometimes any d (a condition may fail:
 * then the relations assert that the verdicts are invariant). */
InstanceData gen_instance() {
  const auto regime = *rc::gen::weightedElement<prop::Regime>(
      {{3, prop::Regime::kOverparameterized}, {1, prop::Regime::kAny}});
  return prop::gen_small_instance(regime);
}

/** Which certified objects a case exercises (shown in the distribution of a passing run). */
void tag(const Certified& c) {
  RC_TAG(c.ws.computed ? "W*" : "no W*",
         c.mm.status == MaxMarginStatus::kProven ? "W^mm" : "no W^mm");
}

/** The exact rank of Hbar (d x m). */
std::int64_t rank_hbar(const InstanceData& data) {
  RationalMatrix h(data.embedding_dim, data.num_contexts());
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    for (std::int64_t i = 0; i < data.embedding_dim; ++i) {
      h(i, j) = data.contexts[static_cast<std::size_t>(j)].embedding[static_cast<std::size_t>(i)];
    }
  }
  return rank(h);
}

/** The exact logits W h_j (V entries) of a row-major rational W. */
std::vector<Rational> logits(const RationalW& w, std::int64_t V, const ContextData& c) {
  const auto d = static_cast<std::int64_t>(c.embedding.size());
  std::vector<Rational> l(static_cast<std::size_t>(V), Rational(0));
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      const Rational& h = c.embedding[static_cast<std::size_t>(i)];
      if (h != 0) l[static_cast<std::size_t>(v)] += w[static_cast<std::size_t>(v * d + i)] * h;
    }
  }
  return l;
}

/** min over (6b) rows of (W h_j)_z - (W h_j)_v (exact); nullopt when there is no (6b) row. */
std::optional<Rational> min_margin(const InstanceData& data, const RationalW& w) {
  std::optional<Rational> best;
  for (const auto& c : data.contexts) {
    const std::vector<Rational> l = logits(w, data.vocab_size, c);
    std::vector<bool> in(static_cast<std::size_t>(data.vocab_size), false);
    for (auto z : c.tokens) in[static_cast<std::size_t>(z)] = true;
    for (std::int64_t v = 0; v < data.vocab_size; ++v) {
      if (in[static_cast<std::size_t>(v)]) continue;
      const Rational g =
          l[static_cast<std::size_t>(c.tokens.front())] - l[static_cast<std::size_t>(v)];
      if (!best || g < *best) best = g;
    }
  }
  return best;
}

/** The enclosures (mid_b, rho_b) and (mapped_mid_a, rho_a_mapped) meet entrywise (exact). */
void assert_enclosures_meet(const RationalW& mid_b, double rho_b, const RationalW& mapped_mid_a,
                            const Rational& rho_a_mapped, std::int64_t d, const char* what) {
  RC_ASSERT(mid_b.size() == mapped_mid_a.size());
  const Rational gap = prop::max_abs_diff(mid_b, mapped_mid_a);
  const Rational allowed = rational_from_double(rho_b) + rho_a_mapped;
  if (!(gap <= allowed)) {
    RC_FAIL(std::string(what) + ": W* enclosures do not meet, max |difference| " +
            rational_to_decimal(gap, 6) + " > radii " + rational_to_decimal(allowed, 6) +
            "\n  W_mid = " + prop::show_w(mid_b, d) +
            "\n  T(W_mid of the original) = " + prop::show_w(mapped_mid_a, d));
  }
}

void assert_same_verdicts(const Certified& a, const Certified& b) {
  RC_ASSERT(a.comp.verdict == b.comp.verdict);
  RC_ASSERT(a.sep.verdict == b.sep.verdict);
}

/** W* of b equals T(W* of a) within the radii, and W^mm of b equals T(W^mm of a) exactly, for an
 * isometry T applied by `map` (scale: the factor of T on the radius, 1 for isometries). */
template <class Map>
void assert_related(const Certified& a, const Certified& b, std::int64_t d, Map map,
                    const Rational& radius_factor) {
  assert_same_verdicts(a, b);
  if (a.comp.verdict == CompatibilityVerdict::kHolds) {
    RC_ASSERT(a.ws.computed);
    RC_ASSERT(b.ws.computed);
    assert_enclosures_meet(b.ws.w_mid, b.ws.radius, map(a.ws.w_mid),
                           rational_from_double(a.ws.radius) * radius_factor, d, "W*");
  }
  RC_ASSERT(a.mm.status == b.mm.status);
  if (a.mm.status == MaxMarginStatus::kProven) {
    const RationalW want = map(a.mm.w);
    if (b.mm.w != want) {
      RC_FAIL("W^mm does not transform exactly:\n  got  " + prop::show_w(b.mm.w, d) + "\n  want " +
              prop::show_w(want, d));
    }
  }
}

// Every certificate verifies with the independent (exact, GLPK- and FLINT-free where stated)
// verifiers, and the verdicts agree with exact facts: never inconclusive on these small instances;
// witness iff holds, Farkas iff violated; rank(Hbar) = m (exact) => both conditions hold [T
// Lemma 1]; W^mm exists iff (6) holds, is itself an exact (6) witness with smallest margin exactly
// 1 (optimality) and no larger norm than the LP's witness; W* and W^mm have zero column sums and
// are Frobenius-orthogonal exactly (W* in F, W^mm in F^perp).
RC_GTEST_PROP(CertifiedProperties, CertificatesVerifyAndVerdictsAgree, ()) {
  const InstanceData data = gen_instance();
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const Certified c = certify(data);
  RC_TAG(to_string(c.comp.verdict), to_string(c.sep.verdict));
  RC_LOG() << verdicts(c) << "\n";
  std::string why;
  // (C).
  RC_ASSERT(c.comp.verdict != CompatibilityVerdict::kInconclusive);
  RC_ASSERT(c.comp.rank == c.dim_f);
  if (c.comp.verdict == CompatibilityVerdict::kViolated) {
    RC_ASSERT(verify_incompatibility_certificate(data, c.comp.y));
  } else {
    const bool ok = verify_compatibility_certificate(data, c.comp.left_null_space, &why);
    RC_LOG() << "compatibility certificate: " << why << "\n";
    RC_ASSERT(ok);
  }
  // (6).
  RC_ASSERT(c.sep.verdict != SeparabilityVerdict::kInconclusive);
  RC_ASSERT((c.sep.verdict == SeparabilityVerdict::kHolds) ==
            (c.sep.certificate.kind == SeparabilityCertificateKind::kWitness));
  RC_ASSERT((c.sep.verdict == SeparabilityVerdict::kViolated) ==
            (c.sep.certificate.kind == SeparabilityCertificateKind::kFarkas));
  {
    const bool ok = verify_separability_certificate(data, c.sep.certificate, &why);
    RC_LOG() << "separability certificate: " << why << "\n";
    RC_ASSERT(ok);
  }
  // [T Lemma 1], decided exactly.
  if (rank_hbar(data) == data.num_contexts()) {
    RC_ASSERT(c.comp.verdict == CompatibilityVerdict::kHolds);
    RC_ASSERT(c.sep.verdict == SeparabilityVerdict::kHolds);
  }
  // W^mm.
  RC_ASSERT((c.sep.verdict == SeparabilityVerdict::kHolds) ==
            (c.mm.status == MaxMarginStatus::kProven));
  if (c.mm.status == MaxMarginStatus::kProven) {
    RationalW w;
    const bool ok = verify_max_margin_certificate(data, c.mm.certificate, &why, &w);
    RC_LOG() << "W^mm certificate: " << why << "\n";
    RC_ASSERT(ok);
    RC_ASSERT(w == c.mm.w);
    RC_ASSERT(c.mm.norm_squared == prop::frobenius(w, w));
    for (const Rational& s : prop::column_sums(w, d)) RC_ASSERT(s == 0);
    SeparabilityCertificate as_witness;
    as_witness.kind = SeparabilityCertificateKind::kWitness;
    as_witness.w = w;
    RC_ASSERT(verify_separability_certificate(data, as_witness, &why));
    const std::optional<Rational> g = min_margin(data, w);
    if (g) {
      RC_ASSERT(*g == 1);  // else W^mm / g would be feasible with a smaller norm
      RC_ASSERT(c.mm.norm_squared <= prop::frobenius(c.sep.certificate.w, c.sep.certificate.w));
    } else {
      RC_ASSERT(c.mm.norm_squared == 0);  // no (6b) row: W = 0 is optimal
    }
  } else {
    RC_ASSERT(c.mm.status == MaxMarginStatus::kNotSeparable);
  }
  // W*.
  RC_ASSERT(c.ws.computed == (c.comp.verdict == CompatibilityVerdict::kHolds));
  if (c.ws.computed) {
    RC_ASSERT(c.ws.dim_f == c.dim_f);
    RationalW mid;
    const std::optional<double> radius =
        verify_w_star_certificate(data, c.ws.certificate, c.dim_f, &why, &mid);
    RC_LOG() << "W* certificate: " << why << "\n";
    RC_ASSERT(radius.has_value());
    RC_ASSERT(*radius <= c.ws.radius);
    RC_ASSERT(mid == c.ws.w_mid);
    RC_ASSERT(static_cast<std::int64_t>(mid.size()) == V * d);
    for (const Rational& s : prop::column_sums(mid, d)) RC_ASSERT(s == 0);
    if (c.mm.status == MaxMarginStatus::kProven) RC_ASSERT(prop::frobenius(mid, c.mm.w) == 0);
  }
}

// Relabelling the vocabulary by sigma permutes the rows of W* and of W^mm: W'(sigma(v), :) =
// W(v, :). (The anchors z_j = min S_j change, so the certificates use other rows.)
RC_GTEST_PROP(CertifiedProperties, TokenPermutationPermutesRows, ()) {
  const InstanceData a = gen_instance();
  const std::vector<std::int32_t> sigma = prop::gen_permutation(a.vocab_size);
  InstanceData b = a;
  for (auto& c : b.contexts) {
    for (auto& t : c.tokens) t = sigma[static_cast<std::size_t>(t)];
  }
  const std::int64_t d = a.embedding_dim;
  const Certified ca = certify(a);
  const Certified cb = certify(b);
  RC_LOG() << verdicts(ca) << "\n";
  tag(ca);
  assert_related(
      ca, cb, d, [&](const RationalW& w) { return prop::permute_rows(w, d, sigma); }, Rational(1));
}

// Reordering the contexts changes neither W* nor W^mm (both are defined by sets of constraints).
RC_GTEST_PROP(CertifiedProperties, ContextPermutationChangesNothing, ()) {
  const InstanceData a = gen_instance();
  const std::vector<std::int32_t> order = prop::gen_permutation(a.num_contexts());
  InstanceData b = a;
  for (std::size_t j = 0; j < order.size(); ++j) {
    b.contexts[j] = a.contexts[static_cast<std::size_t>(order[j])];
  }
  const Certified ca = certify(a);
  const Certified cb = certify(b);
  RC_LOG() << verdicts(ca) << "\n";
  tag(ca);
  assert_related(
      ca, cb, a.embedding_dim, [](const RationalW& w) { return w; }, Rational(1));
}

// Scaling every embedding by c = 2^k (exact) scales W^mm and W* by 1/c and leaves the logits
// W* Hbar unchanged: |W_mid' (c h_j) - W_mid h_j| <= (c rho' + rho) ||h_j||_1 entrywise.
RC_GTEST_PROP(CertifiedProperties, ScalingEmbeddingsScalesByTheInverse, ()) {
  const InstanceData a = gen_instance();
  const int k = *prop::small_int(3);
  const Rational c = k >= 0 ? Rational(BigInt(1) << k) : Rational(BigInt(1), BigInt(1) << -k);
  InstanceData b = a;
  for (auto& ctx : b.contexts) {
    for (auto& h : ctx.embedding) h *= c;
  }
  const std::int64_t V = a.vocab_size;
  const std::int64_t d = a.embedding_dim;
  const Certified ca = certify(a);
  const Certified cb = certify(b);
  RC_LOG() << "c = " << rational_to_string(c) << "; " << verdicts(ca) << "\n";
  tag(ca);
  auto inv = [&](const RationalW& w) {
    RationalW out = w;
    for (auto& x : out) x /= c;
    return out;
  };
  assert_related(ca, cb, d, inv, 1 / c);
  if (ca.ws.computed) {
    const Rational ra = rational_from_double(ca.ws.radius);
    const Rational rb = rational_from_double(cb.ws.radius);
    for (std::size_t j = 0; j < a.contexts.size(); ++j) {
      Rational h1 = 0;  // ||h_j||_1 >= ||h_j||_2
      for (const auto& x : a.contexts[j].embedding) h1 += prop::abs_q(x);
      const std::vector<Rational> la = logits(ca.ws.w_mid, V, a.contexts[j]);
      const std::vector<Rational> lb = logits(cb.ws.w_mid, V, b.contexts[j]);
      for (std::size_t v = 0; v < la.size(); ++v) {
        RC_ASSERT(prop::abs_q(lb[v] - la[v]) <= (c * rb + ra) * h1);
      }
    }
  }
}

/** Exact inverse of an invertible n x n rational matrix (row-major), by Gauss-Jordan. */
std::vector<Rational> inverse(const std::vector<Rational>& a, std::int64_t n) {
  RationalMatrix aug(n, 2 * n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < n; ++k) aug(i, k) = a[static_cast<std::size_t>(i * n + k)];
    aug(i, n + i) = 1;
  }
  const RowEchelon r = reduced_row_echelon(aug);
  RC_ASSERT(r.rank() == n);
  RC_ASSERT(r.pivot_columns.back() == n - 1);  // the left block was invertible
  std::vector<Rational> inv(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < n; ++k)
      inv[static_cast<std::size_t>(i * n + k)] = r.rref(i, n + k);
  }
  return inv;
}

/** A rational orthogonal d x d matrix (row-major): a signed permutation, or the Cayley transform
 * Q = (I - S)(I + S)^{-1} of a skew-symmetric integer S with entries in [-2, 2] (I + S is always
 * invertible: the eigenvalues of S are imaginary). */
std::vector<Rational> gen_orthogonal(std::int64_t d) {
  std::vector<Rational> q(static_cast<std::size_t>(d * d), Rational(0));
  if (*rc::gen::arbitrary<bool>()) {
    const std::vector<std::int32_t> p = prop::gen_permutation(d);
    const auto signs = *rc::gen::container<std::vector<bool>>(static_cast<std::size_t>(d),
                                                              rc::gen::arbitrary<bool>());
    for (std::int64_t i = 0; i < d; ++i) {
      q[static_cast<std::size_t>(i * d + p[static_cast<std::size_t>(i)])] =
          signs[static_cast<std::size_t>(i)] ? -1 : 1;
    }
    return q;
  }
  const auto upper = *rc::gen::container<std::vector<int>>(
      static_cast<std::size_t>(d * (d - 1) / 2), prop::small_int(2));
  std::vector<Rational> plus(static_cast<std::size_t>(d * d), Rational(0));
  std::vector<Rational> minus(static_cast<std::size_t>(d * d), Rational(0));
  std::size_t t = 0;
  for (std::int64_t i = 0; i < d; ++i) {
    plus[static_cast<std::size_t>(i * d + i)] = 1;
    minus[static_cast<std::size_t>(i * d + i)] = 1;
    for (std::int64_t k = i + 1; k < d; ++k, ++t) {
      const Rational s(upper[t]);
      plus[static_cast<std::size_t>(i * d + k)] = s;  // I + S
      plus[static_cast<std::size_t>(k * d + i)] = -s;
      minus[static_cast<std::size_t>(i * d + k)] = -s;  // I - S
      minus[static_cast<std::size_t>(k * d + i)] = s;
    }
  }
  const std::vector<Rational> inv = inverse(plus, d);
  for (std::int64_t i = 0; i < d; ++i) {
    for (std::int64_t k = 0; k < d; ++k) {
      Rational s = 0;
      for (std::int64_t l = 0; l < d; ++l) {
        s += minus[static_cast<std::size_t>(i * d + l)] * inv[static_cast<std::size_t>(l * d + k)];
      }
      q[static_cast<std::size_t>(i * d + k)] = s;
    }
  }
  return q;
}

// An orthogonal change of the embedding basis, h_j -> Q h_j, maps W to W Q^T: the logits
// (W Q^T)(Q h_j) = W h_j, the Frobenius norm and F ((e_z - e_z') h_j^T Q^T) map alike, so W* and
// W^mm map to W* Q^T and W^mm Q^T (exactly: Q is rational).
RC_GTEST_PROP(CertifiedProperties, OrthogonalChangeOfBasisMapsToWQt, ()) {
  const InstanceData a = gen_instance();
  const std::int64_t V = a.vocab_size;
  const std::int64_t d = a.embedding_dim;
  const std::vector<Rational> q = gen_orthogonal(d);
  for (std::int64_t i = 0; i < d; ++i) {  // Q^T Q = I, exactly
    for (std::int64_t k = 0; k < d; ++k) {
      Rational s = 0;
      for (std::int64_t l = 0; l < d; ++l) {
        s += q[static_cast<std::size_t>(l * d + i)] * q[static_cast<std::size_t>(l * d + k)];
      }
      RC_ASSERT(s == (i == k ? 1 : 0));
    }
  }
  InstanceData b = a;
  prop::transform_embeddings(b, q);
  const Certified ca = certify(a);
  const Certified cb = certify(b);
  RC_LOG() << verdicts(ca) << "\n";
  tag(ca);
  assert_related(
      ca, cb, d, [&](const RationalW& w) { return prop::times_transpose(w, V, d, q); },
      Rational(1));
}

// Splitting a context into two identical copies with half the weight each changes neither W*
// nor W^mm (they depend on the constraints, not on pi; the copy repeats constraints).
RC_GTEST_PROP(CertifiedProperties, SplittingAContextChangesNothing, ()) {
  const InstanceData a = gen_instance();
  const auto j = *rc::gen::inRange<std::size_t>(0, a.contexts.size());
  const auto at = *rc::gen::inRange<std::size_t>(0, a.contexts.size() + 1);
  InstanceData b = a;
  b.contexts[j].weight /= 2;
  const ContextData copy = b.contexts[j];
  b.contexts.insert(b.contexts.begin() + static_cast<std::ptrdiff_t>(at), copy);
  const Certified ca = certify(a);
  const Certified cb = certify(b);
  RC_LOG() << verdicts(ca) << "\n";
  tag(ca);
  assert_related(
      ca, cb, a.embedding_dim, [](const RationalW& w) { return w; }, Rational(1));
}

// Adding a token id that is in no support (inserted at position p: ids >= p move up by one)
// leaves (C) and F unchanged up to the relabelling, so W* keeps its rows and gets a zero row for
// the new token. (W^mm changes: the new token adds (6b) rows. Not asserted.)
RC_GTEST_PROP(CertifiedProperties, AddingAnUnusedTokenKeepsTheRowsOfWStar, ()) {
  const InstanceData a = gen_instance();
  const auto p = *rc::gen::inRange<std::int32_t>(0, static_cast<std::int32_t>(a.vocab_size) + 1);
  InstanceData b = a;
  b.vocab_size = a.vocab_size + 1;
  for (auto& c : b.contexts) {
    for (auto& t : c.tokens) t = t >= p ? t + 1 : t;
  }
  const std::int64_t d = a.embedding_dim;
  CompatibilityOptions o;
  o.compute_w_star = false;
  const CompatibilityResult compa = check_compatibility(a, o);
  const CompatibilityResult compb = check_compatibility(b, o);
  RC_ASSERT(compa.verdict == compb.verdict);
  RC_ASSERT(exact_dim_f(a) == exact_dim_f(b));
  RC_TAG(to_string(compa.verdict));
  if (compa.verdict != CompatibilityVerdict::kHolds) return;
  const WStarResult wa = enclose_w_star(a, compa.verdict, 200, exact_dim_f(a));
  const WStarResult wb = enclose_w_star(b, compb.verdict, 200, exact_dim_f(b));
  RC_ASSERT(wa.computed);
  RC_ASSERT(wb.computed);
  std::vector<std::int32_t> sigma(static_cast<std::size_t>(a.vocab_size));
  for (std::int32_t v = 0; v < static_cast<std::int32_t>(a.vocab_size); ++v) {
    sigma[static_cast<std::size_t>(v)] = v >= p ? v + 1 : v;
  }
  // W*(a) in b's shape: rows relabelled by sigma, a zero row for the new token p.
  RationalW padded = wa.w_mid;
  padded.resize(static_cast<std::size_t>(b.vocab_size * d), Rational(0));
  std::vector<std::int32_t> to = sigma;
  to.push_back(p);  // the padding row (zeros) goes to the new token
  const RationalW moved = prop::permute_rows(padded, d, to);
  assert_enclosures_meet(wb.w_mid, wb.radius, moved, rational_from_double(wa.radius), d,
                         "W* with an unused token");
}

}  // namespace
}  // namespace ntp
