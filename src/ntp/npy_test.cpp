#include "ntp/npy.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ntp/atomic_file.hpp"
#include "ntp/errors.hpp"

namespace ntp {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers

void put_le(std::string& s, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i, v >>= 8) s.push_back(static_cast<char>(v & 0xff));
}

// A hand-built .npy file: header dict padded with spaces and '\n' to `align` bytes.
std::string make_npy(const std::string& dict, const std::string& data, int major = 1,
                     std::size_t align = 64) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % align != 0) header += ' ';
  header += '\n';
  std::string s = "\x93NUMPY";
  s.push_back(static_cast<char>(major));
  s.push_back('\0');
  put_le(s, header.size(), major == 1 ? 2 : 4);
  return s + header + data;
}

std::string f8_data(const std::vector<double>& v) {
  std::string s;
  for (double x : v) put_le(s, std::bit_cast<std::uint64_t>(x), 8);
  return s;
}

std::string f4_data(const std::vector<float>& v) {
  std::string s;
  for (float x : v) put_le(s, std::bit_cast<std::uint32_t>(x), 4);
  return s;
}

std::string i4_data(const std::vector<std::int32_t>& v) {
  std::string s;
  for (auto x : v) put_le(s, static_cast<std::uint32_t>(x), 4);
  return s;
}

// Expects parse_npy to throw InvalidInput whose one-line message contains `needle`.
void expect_rejected(const std::string& bytes, const std::string& needle) {
  try {
    (void)parse_npy(bytes, "t.npy");
    ADD_FAILURE() << "accepted; expected a message containing: " << needle;
  } catch (const InvalidInput& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("npy file t.npy: ", 0), 0U) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_NE(msg.find(", got "), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

std::vector<std::int64_t> shape_of_rank(int r) {
  static const std::vector<std::vector<std::int64_t>> kShapes = {{}, {5}, {2, 3}, {2, 3, 4}};
  return kShapes.at(static_cast<std::size_t>(r));
}

std::size_t product(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::vector<double> test_doubles(std::size_t n) {
  std::vector<double> v(n);
  const double specials[] = {0.0,
                             -0.0,
                             1.0 / 3.0,
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = i < std::size(specials) ? specials[i] : std::ldexp(static_cast<double>(i) + 0.1, -3);
  }
  return v;
}

std::vector<float> test_floats(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i) / 7.0F - 1.5F;
  if (n > 1) v[1] = std::numeric_limits<float>::denorm_min();
  return v;
}

std::vector<std::int64_t> test_ints(std::size_t n) {
  std::vector<std::int64_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int64_t>(i * i) - 7;
  if (n > 0) v[0] = std::numeric_limits<std::int64_t>::min();
  if (n > 1) v[1] = std::numeric_limits<std::int64_t>::max();
  return v;
}

void expect_same_doubles(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i]), std::bit_cast<std::uint64_t>(b[i])) << i;
  }
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "ntp_npy_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// ---------------------------------------------------------------------------------------------
// .npy round trips and accepted forms

TEST(NpyRoundTrip, AllDtypesRanks0To3) {
  for (int r = 0; r <= 3; ++r) {
    const auto shape = shape_of_rank(r);
    const std::size_t n = product(shape);
    SCOPED_TRACE("rank " + std::to_string(r));
    const auto d = test_doubles(n);
    const auto f = test_floats(n);
    const auto i = test_ints(n);

    const std::string b8 = npy_bytes(NpyArrayView(d, shape));
    EXPECT_EQ(b8.size() % 64, (n * 8) % 64);  // header padded to 64 bytes
    const NpyArray a8 = parse_npy(b8, "d.npy");
    EXPECT_EQ(a8.dtype, NpyDtype::kFloat64);
    EXPECT_EQ(a8.shape, shape);
    EXPECT_TRUE(a8.i64.empty());
    EXPECT_EQ(a8.size(), static_cast<std::int64_t>(n));
    expect_same_doubles(a8.f64, d);

    const NpyArray a4 = parse_npy(npy_bytes(NpyArrayView(f, shape)), "f.npy");
    EXPECT_EQ(a4.dtype, NpyDtype::kFloat32);
    EXPECT_EQ(a4.shape, shape);
    expect_same_doubles(a4.f64, widen(f));

    const NpyArray ai = parse_npy(npy_bytes(NpyArrayView(i, shape)), "i.npy");
    EXPECT_EQ(ai.dtype, NpyDtype::kInt64);
    EXPECT_EQ(ai.shape, shape);
    EXPECT_TRUE(ai.f64.empty());
    EXPECT_EQ(ai.i64, i);

    // A float32 array read back is written back as float32, bit for bit.
    EXPECT_EQ(npy_bytes(NpyArrayView(a4)), npy_bytes(NpyArrayView(f, shape)));
  }
}

TEST(NpyRoundTrip, ZeroSizeShapes) {
  for (const std::vector<std::int64_t>& shape :
       {std::vector<std::int64_t>{0}, std::vector<std::int64_t>{3, 0, 2}}) {
    const std::vector<double> none;
    const NpyArray a = parse_npy(npy_bytes(NpyArrayView(none, shape)), "z.npy");
    EXPECT_EQ(a.shape, shape);
    EXPECT_TRUE(a.f64.empty());
  }
}

TEST(NpyRoundTrip, HeaderIsNumpyStyle) {
  const std::vector<double> d(6, 1.0);
  const std::string b = npy_bytes(NpyArrayView(d, {2, 3}));
  EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(b.substr(10, 59), "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(b[127], '\n');  // 10 + 59 + 1 bytes, padded to 128
  EXPECT_EQ(b.find('\n'), 127U);
  EXPECT_EQ(b.size(), 128U + 48U);
  EXPECT_EQ(npy_shape_string({}), "()");
  EXPECT_EQ(npy_shape_string({4}), "(4,)");
  EXPECT_EQ(npy_shape_string({4, 5}), "(4, 5)");
}

TEST(NpyRoundTrip, DoubleWrittenAsFloat32Rounds) {
  const std::vector<double> d = {0.1, 1.0};
  const NpyArray a = parse_npy(npy_bytes(NpyArrayView(d, {2}, NpyDtype::kFloat32)), "r.npy");
  EXPECT_EQ(a.dtype, NpyDtype::kFloat32);
  EXPECT_EQ(a.f64[0], static_cast<double>(0.1F));
  EXPECT_EQ(a.f64[1], 1.0);
}

TEST(NpyRoundTrip, ViewRejectsMismatchedShape) {
  const std::vector<double> d(5);
  EXPECT_THROW(NpyArrayView(d, {2, 3}), InternalError);
  EXPECT_THROW(NpyArrayView(d, {-5}), InternalError);
  EXPECT_THROW(NpyArrayView(d, {5}, NpyDtype::kInt64), InternalError);
}

TEST(NpyRoundTrip, FileWriteRead) {
  const std::string path = ::testing::TempDir() + "ntp_npy_roundtrip_test.npy";
  const auto d = test_doubles(24);
  write_npy(path, NpyArrayView(d, {2, 3, 4}));
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3, 4}));
  expect_same_doubles(a.f64, d);
  fs::remove(path);
}

TEST(NpyFortran, Float64Rank2) {
  // a[i][j] = 10 i + j, shape (2, 3), stored first index fastest.
  const std::string bytes = make_npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                     f8_data({0, 10, 1, 11, 2, 12}));
  const NpyArray a = parse_npy(bytes, "f.npy");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a.f64, (std::vector<double>{0, 1, 2, 10, 11, 12}));
}

TEST(NpyFortran, Int32Rank3WidenedAndReordered) {
  // a[i][j][k] = 100 i + 10 j + k, shape (2, 3, 4).
  std::vector<std::int32_t> fortran;
  std::vector<std::int64_t> c;
  for (int k = 0; k < 4; ++k) {
    for (int j = 0; j < 3; ++j) {
      for (int i = 0; i < 2; ++i) fortran.push_back(100 * i + 10 * j + k - 50);
    }
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) c.push_back(100 * i + 10 * j + k - 50);
    }
  }
  const NpyArray a = parse_npy(
      make_npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }", i4_data(fortran)),
      "f.npy");
  EXPECT_EQ(a.dtype, NpyDtype::kInt32);
  EXPECT_EQ(a.i64, c);
}

TEST(NpyFortran, Rank1AndFloat32) {
  const NpyArray a = parse_npy(
      make_npy("{'fortran_order': True, 'shape': (3,), 'descr': '<f4'}", f4_data({1.5F, 2, 3})),
      "f.npy");
  EXPECT_EQ(a.dtype, NpyDtype::kFloat32);
  EXPECT_EQ(a.f64, (std::vector<double>{1.5, 2, 3}));
}

TEST(NpyAccept, Versions2And3AndOldAlignment) {
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  const std::string data = f8_data({1.0, -2.0});
  for (int major : {1, 2, 3}) {
    for (std::size_t align : {std::size_t{16}, std::size_t{64}}) {
      const NpyArray a = parse_npy(make_npy(dict, data, major, align), "v.npy");
      EXPECT_EQ(a.f64, (std::vector<double>{1.0, -2.0})) << major;
    }
  }
}

TEST(NpyAccept, SmallIntegerAndBoolDtypesAndPython2Longs) {
  const NpyArray u1 =
      parse_npy(make_npy("{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (3L,)}",
                         std::string("\x00\x7f\xff", 3)),
                "u.npy");
  EXPECT_EQ(u1.dtype, NpyDtype::kUInt8);
  EXPECT_EQ(u1.i64, (std::vector<std::int64_t>{0, 127, 255}));
  const NpyArray i1 =
      parse_npy(make_npy("{'descr':'|i1','fortran_order':False,'shape':(2,)}", "\xff\x80"), "i");
  EXPECT_EQ(i1.i64, (std::vector<std::int64_t>{-1, -128}));
  const NpyArray b1 =
      parse_npy(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 1), }",
                         std::string("\x00\x01", 2)),
                "b");
  EXPECT_EQ(b1.dtype, NpyDtype::kBool);
  EXPECT_EQ(b1.i64, (std::vector<std::int64_t>{0, 1}));
  const NpyArray i2 = parse_npy(make_npy("{'descr': '<i2', 'fortran_order': False, 'shape': (), }",
                                         std::string("\x00\x80", 2)),
                                "i2");
  EXPECT_EQ(i2.i64, (std::vector<std::int64_t>{-32768}));
  const NpyArray u4 = parse_npy(
      make_npy("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", "\xff\xff\xff\xff"),
      "u4");
  EXPECT_EQ(u4.i64, (std::vector<std::int64_t>{4294967295}));
}

TEST(NpyShapeCheck, MessagesNameTheField) {
  NpyArray a;
  a.shape = {4, 5};
  a.f64.resize(20);
  check_npy_shape(a, {4, -1}, "npy file W.npy");
  try {
    check_npy_shape(a, {-1, -1, -1}, "npy file W.npy");
    ADD_FAILURE();
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "npy file W.npy: header shape has 2 dimensions, expected 3, got (4, 5)");
  }
  try {
    check_npy_shape(a, {4, 6}, "npy file W.npy");
    ADD_FAILURE();
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "npy file W.npy: header shape dimension 1 is 5, expected 6, got (4, 5)");
  }
}

// ---------------------------------------------------------------------------------------------
// .npy rejections

const std::string kGoodDict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
const std::string kGoodData = f8_data({1, 2, 3, 4});

TEST(NpyReject, BadMagicAndTruncatedPrefix) {
  expect_rejected("", "magic string");
  expect_rejected("\x93NUMPZ\x01\x00\x10\x00", "magic string");
  expect_rejected(std::string("\x93NUMPY\x01", 7), "truncated before the header length");
  expect_rejected(std::string("\x93NUMPY\x02\x00\x10\x00", 10),
                  "truncated before the header length");
}

TEST(NpyReject, UnknownVersion) {
  std::string b = make_npy(kGoodDict, kGoodData);
  b[6] = 4;
  expect_rejected(b, "format version is not 1.0, 2.0 or 3.0");
  b[6] = 1;
  b[7] = 1;
  expect_rejected(b, "format version");
}

TEST(NpyReject, TruncatedHeader) {
  const std::string b = make_npy(kGoodDict, kGoodData);
  expect_rejected(b.substr(0, 40), "header is truncated");
  std::string huge = b;
  huge[8] = '\xff';
  huge[9] = '\xff';
  expect_rejected(huge, "header is truncated");
  std::string v2 = make_npy(kGoodDict, kGoodData, 2);
  v2[11] = '\x7f';  // 2 GiB header length
  expect_rejected(v2, "header length exceeds");
}

TEST(NpyReject, HeaderNotADict) {
  expect_rejected(make_npy("[1, 2, 3]", kGoodData), "header is not a Python dict literal");
  expect_rejected(make_npy("{'descr': '<f8', 'fortran_order': False", kGoodData),
                  "header is not a Python dict literal");
  expect_rejected(make_npy("{'descr' '<f8'}", kGoodData), "header is not a Python dict literal");
  expect_rejected(make_npy("{descr: '<f8'}", kGoodData), "header is not a Python dict literal");
  expect_rejected(make_npy("{'descr: '<f8'}", kGoodData), "header");
  expect_rejected(make_npy(kGoodDict + " x", kGoodData), "header has bytes after the dict");
  expect_rejected(
      make_npy("{'descr': '<f\\x38', 'fortran_order': False, 'shape': (4,)}", kGoodData),
      "header string has an escape");
}

TEST(NpyReject, UnknownMissingOrDuplicateKeys) {
  expect_rejected(
      make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'x': 1}", kGoodData),
      "header key is unknown");
  expect_rejected(make_npy("{'descr': '<f8', 'fortran_order': False}", kGoodData),
                  "header has no 'shape' key");
  expect_rejected(make_npy("{'descr': '<f8', 'shape': (2, 2)}", kGoodData),
                  "header has no 'fortran_order' key");
  expect_rejected(
      make_npy("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 2)}",
               kGoodData),
      "header key appears twice");
  expect_rejected(make_npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 2)}", kGoodData),
                  "header fortran_order is not True or False");
  expect_rejected(make_npy("{'descr': '<f8', 'fortran_order': Falsey, 'shape': (2, 2)}", kGoodData),
                  "header fortran_order");
}

TEST(NpyReject, UnsupportedDtypes) {
  const auto with = [](const std::string& descr) {
    return make_npy("{'descr': " + descr + ", 'fortran_order': False, 'shape': (2, 2), }",
                    kGoodData);
  };
  expect_rejected(with("'<c16'"), "header descr is not a supported dtype");
  expect_rejected(with("'<f2'"), "header descr is not a supported dtype");
  expect_rejected(with("'<U4'"), "header descr is not a supported dtype");
  expect_rejected(with("'>f8'"), "header descr is big-endian");
  expect_rejected(with("'|f8'"), "header descr byte order '|'");
  expect_rejected(with("'|O'"), "header descr is an object array");
  expect_rejected(with("'<O8'"), "header descr is an object array");
  expect_rejected(with("[('a', '<f8')]"), "header descr is a structured dtype");
  expect_rejected(with("3"), "header descr is not a string");
}

TEST(NpyReject, BadShapes) {
  const auto with = [](const std::string& shape, const std::string& data = kGoodData) {
    return make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }", data);
  };
  expect_rejected(with("(-1, 4)"), "header shape has a negative dimension");
  expect_rejected(with("(2, -0)"), "header shape");  // "-0" is 0: then a data length mismatch
  expect_rejected(with("(4)"), "header shape is an integer in parentheses");
  expect_rejected(with("[2, 2]"), "header shape is not a tuple");
  expect_rejected(with("(2, 2.0)"), "header shape is not a tuple of integers");
  expect_rejected(with("(2,, 2)"), "header shape is not a tuple of integers");
  expect_rejected(with("(02, 2)"), "header shape has an integer with a leading zero");
  expect_rejected(with("(99999999999999999999,)"), "header shape has a dimension that overflows");
  expect_rejected(with("(4294967296, 4294967296)"), "header shape element count overflows int64");
  expect_rejected(with("(4611686018427387904,)"), "header shape byte count overflows");
  expect_rejected(with("(1000000000000, 1000000)"), "data is truncated");
  std::string many = "(";
  for (int k = 0; k < 65; ++k) many += "1, ";
  expect_rejected(with(many + ")"), "header shape has more than 64 dimensions");
}

TEST(NpyReject, LyingHeaderAndTrailingGarbage) {
  expect_rejected(make_npy(kGoodDict, kGoodData.substr(0, 24)), "data is truncated");
  expect_rejected(make_npy(kGoodDict, kGoodData.substr(0, 31)),
                  "(header shape (2, 2) of 'f8' needs 32 bytes), got 31 bytes");
  expect_rejected(make_npy(kGoodDict, kGoodData + "x"), "data has trailing bytes");
  expect_rejected(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", ""),
                  "data is truncated");
}

TEST(NpyReject, MissingFileIsIoError) {
  EXPECT_THROW((void)read_npy(::testing::TempDir() + "ntp_no_such_file.npy"), IoError);
  EXPECT_THROW((void)read_npy(::testing::TempDir()), IoError);  // a directory
}

// Random mutations and truncations of valid files: every outcome is a value or an ntp::Error
// (anything else, or a crash, fails). Sanitizer builds make this an out-of-bounds check too.
TEST(NpyReject, MutatedBytesNeverCrash) {
  const std::string seed = make_npy(kGoodDict, kGoodData);
  std::mt19937_64 rng(12345);
  for (int iter = 0; iter < 4000; ++iter) {
    std::string b = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0:
          b[at] = static_cast<char>(rng());
          break;
        case 1:
          b.resize(at);
          break;
        default:
          b.insert(at, 1, "(){}',: 0123456789-L\x00"[rng() % 21]);
          break;
      }
      if (b.empty()) b = "x";
    }
    try {
      (void)parse_npy(b, "m.npy");
    } catch (const Error&) {
    }
  }
}

// ---------------------------------------------------------------------------------------------
// .npz

std::optional<int> entry_method(const std::string& npz, const std::string& entry) {
  int err = 0;
  zip_t* za = zip_open(npz.c_str(), ZIP_RDONLY, &err);
  if (za == nullptr) return std::nullopt;
  zip_stat_t st;
  std::optional<int> method;
  if (zip_stat(za, entry.c_str(), 0, &st) == 0) method = st.comp_method;
  zip_discard(za);
  return method;
}

using NpzTest = TempDirTest;

TEST_F(NpzTest, RoundTripStoredAndDeflatedRanks0To3) {
  for (const bool compress : {false, true}) {
    SCOPED_TRACE(compress ? "deflated" : "stored");
    std::vector<std::vector<double>> ds;
    std::vector<std::vector<float>> fs4;
    std::vector<std::vector<std::int64_t>> is;
    NpzArrays arrays;
    for (int r = 0; r <= 3; ++r) {
      const auto shape = shape_of_rank(r);
      ds.push_back(test_doubles(product(shape)));
      fs4.push_back(test_floats(product(shape)));
      is.push_back(test_ints(product(shape)));
    }
    std::vector<double> zeros(4096, 0.0);
    for (int r = 0; r <= 3; ++r) {
      const auto shape = shape_of_rank(r);
      const auto k = static_cast<std::size_t>(r);
      arrays.emplace_back("d" + std::to_string(r), NpyArrayView(ds[k], shape));
      arrays.emplace_back("f" + std::to_string(r), NpyArrayView(fs4[k], shape));
      arrays.emplace_back("i" + std::to_string(r), NpyArrayView(is[k], shape));
    }
    arrays.emplace_back("zeros", NpyArrayView(zeros, {64, 64}));
    const std::string path = file(compress ? "c.npz" : "s.npz");
    write_npz(path, arrays, compress);
    EXPECT_EQ(entry_method(path, "zeros.npy"), compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE);
    EXPECT_EQ(entry_method(path, "d3.npy"), compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE);
    if (compress) {
      EXPECT_LT(fs::file_size(path), 8000U);
    }

    const auto m = read_npz(path);
    ASSERT_EQ(m.size(), 13U);
    for (int r = 0; r <= 3; ++r) {
      const auto k = static_cast<std::size_t>(r);
      const auto shape = shape_of_rank(r);
      const NpyArray& d = m.at("d" + std::to_string(r));
      EXPECT_EQ(d.dtype, NpyDtype::kFloat64);
      EXPECT_EQ(d.shape, shape);
      expect_same_doubles(d.f64, ds[k]);
      const NpyArray& f = m.at("f" + std::to_string(r));
      EXPECT_EQ(f.dtype, NpyDtype::kFloat32);
      expect_same_doubles(f.f64, widen(fs4[k]));
      const NpyArray& i = m.at("i" + std::to_string(r));
      EXPECT_EQ(i.dtype, NpyDtype::kInt64);
      EXPECT_EQ(i.i64, is[k]);
    }
    EXPECT_EQ(m.at("zeros").f64, zeros);
    // The in-memory writer gives the same archive, and equal input gives equal bytes.
    const std::string bytes = npz_bytes(arrays, compress);
    EXPECT_EQ(bytes, npz_bytes(arrays, compress));
    EXPECT_EQ(parse_npz(bytes, "mem").size(), 13U);
  }
  // Only the two archives: no temporary file left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
}

TEST_F(NpzTest, FileModeFollowsUmask) {
  const std::vector<double> one = {1.0};
  write_npz(file("m.npz"), {{"a", NpyArrayView(one, {1})}});
  const mode_t mask = ::umask(0);
  ::umask(mask);
  struct stat sb {};
  ASSERT_EQ(::stat(file("m.npz").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0666 & ~mask);
}

TEST_F(NpzTest, EmptyArchive) {
  write_npz(file("e.npz"), {});
  EXPECT_TRUE(read_npz(file("e.npz")).empty());
  EXPECT_TRUE(parse_npz(npz_bytes({}), "e").empty());
}

TEST_F(NpzTest, OverwriteAndWriterErrors) {
  const std::vector<double> one = {1.0};
  write_npz(file("o.npz"), {{"a", NpyArrayView(one, {1})}});
  write_npz(file("o.npz"), {{"b", NpyArrayView(one, {})}});
  const auto m = read_npz(file("o.npz"));
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m.count("b"), 1U);
  EXPECT_THROW(write_npz(file("missing/o.npz"), {{"a", NpyArrayView(one, {1})}}), IoError);
  EXPECT_THROW(
      write_npz(file("d.npz"), {{"a", NpyArrayView(one, {1})}, {"a", NpyArrayView(one, {1})}}),
      InternalError);
  EXPECT_THROW(write_npz(file("d.npz"), {{"", NpyArrayView(one, {1})}}), InternalError);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(NpzTest, MissingFileIsIoErrorAndNonZipIsInvalidInput) {
  EXPECT_THROW((void)read_npz(file("nope.npz")), IoError);
  EXPECT_THROW((void)read_npz(dir_.string()), IoError);
  write_file_atomic(file("junk.npz"), "this is not a zip archive at all");
  try {
    (void)read_npz(file("junk.npz"));
    ADD_FAILURE();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("archive is not a valid zip file"), std::string::npos)
        << e.what();
  }
  write_file_atomic(file("empty.npz"), "");
  EXPECT_THROW((void)read_npz(file("empty.npz")), InvalidInput);
  EXPECT_THROW((void)parse_npz("", "e"), InvalidInput);
}

// Expects parse_npz to throw InvalidInput mentioning `needle`.
void expect_npz_rejected(const std::string& bytes, const std::string& needle,
                         std::uint64_t limit = kDefaultNpzMaxBytes) {
  try {
    (void)parse_npz(bytes, "t.npz", limit);
    ADD_FAILURE() << "accepted; expected: " << needle;
  } catch (const InvalidInput& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("npz file t.npz", 0), 0U) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// Archive bytes with arbitrary entry names (via libzip directly).
std::string raw_zip(const std::vector<std::pair<std::string, std::string>>& entries, bool deflate) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_source_keep(buf);
  zip_t* za = zip_open_from_source(buf, ZIP_TRUNCATE, &err);
  for (const auto& [name, data] : entries) {
    zip_source_t* s = zip_source_buffer(za, data.data(), data.size(), 0);
    const zip_int64_t idx = zip_file_add(za, name.c_str(), s, 0);
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx),
                             deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  EXPECT_EQ(zip_close(za), 0);
  zip_stat_t st;
  zip_source_open(buf);
  zip_source_stat(buf, &st);
  std::string out(st.size, '\0');
  EXPECT_EQ(zip_source_read(buf, out.data(), out.size()), static_cast<zip_int64_t>(out.size()));
  zip_source_close(buf);
  zip_source_free(buf);
  zip_error_fini(&err);
  return out;
}

// Overwrites the uncompressed-size field of every local header (offset 22) and central directory
// header (offset 24) of a (non-zip64) archive.
std::string patch_declared_sizes(std::string zip, std::uint32_t size) {
  const auto patch = [&](std::size_t at) {
    for (int i = 0; i < 4; ++i)
      zip[at + static_cast<std::size_t>(i)] = static_cast<char>(size >> (8 * i));
  };
  for (std::size_t p = 0; p + 46 <= zip.size(); ++p) {
    if (zip.compare(p, 4, "PK\x03\x04") == 0) patch(p + 22);
    if (zip.compare(p, 4, "PK\x01\x02") == 0) patch(p + 24);
  }
  return zip;
}

TEST(NpzBomb, EntryExpandingBeyondDeclaredSizeIsRefused) {
  // 16 MiB of zeros deflate to ~16 KiB; the headers then claim 128 bytes.
  const std::vector<double> zeros(std::size_t{2} << 20, 0.0);
  const std::string good = npz_bytes({{"w", NpyArrayView(zeros, {2, 1 << 20})}}, true);
  ASSERT_LT(good.size(), 100000U);
  const std::string bomb = patch_declared_sizes(good, 128);
  ASSERT_NE(bomb, good);
  expect_npz_rejected(bomb, "entry 'w.npy': data decompresses to more than the declared size");
}

TEST(NpzBomb, HugeDeclaredSizeIsRefusedBeforeDecompressing) {
  const std::vector<double> zeros(1024, 0.0);
  const std::string good = npz_bytes({{"w", NpyArrayView(zeros, {1024})}}, true);
  expect_npz_rejected(patch_declared_sizes(good, 0xfffffff0U),
                      "declared uncompressed size exceeds the limit of 1073741824 bytes");
  // The same with a caller's limit on a genuine archive.
  expect_npz_rejected(good, "declared uncompressed size exceeds the limit of 1000 bytes", 1000);
  EXPECT_EQ(parse_npz(good, "t.npz", 8192 + 128).size(), 1U);
}

TEST(NpzBomb, DeclaredSizeLargerThanDataIsRefused) {
  const std::vector<double> v(16, 2.0);
  const std::string good = npz_bytes({{"w", NpyArrayView(v, {16})}}, false);
  const std::string lying = patch_declared_sizes(good, 4096);
  try {
    (void)parse_npz(lying, "t.npz");
    ADD_FAILURE();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("npz file t.npz"), std::string::npos) << e.what();
  }
}

TEST(NpzBomb, TooManyEntriesRefused) {
  const std::vector<double> one = {1.0};
  NpzArrays arrays;
  for (int i = 0; i <= kMaxNpzEntries; ++i) {
    arrays.emplace_back("a" + std::to_string(i), NpyArrayView(one, {1}));
  }
  expect_npz_rejected(npz_bytes(arrays), "archive has more than 1000 entries, got 1001");
  arrays.pop_back();
  EXPECT_EQ(parse_npz(npz_bytes(arrays), "t.npz").size(), 1000U);
}

TEST(NpzReject, BadEntries) {
  const std::vector<double> v = {1.0, 2.0};
  const std::string npy = npy_bytes(NpyArrayView(v, {2}));
  expect_npz_rejected(raw_zip({{"readme.txt", "hello"}}, false), "name is not '<array name>.npy'");
  expect_npz_rejected(raw_zip({{".npy", npy}}, false), "name is not");
  expect_npz_rejected(raw_zip({{"a.npy", "garbage"}}, true),
                      "npz file t.npz entry 'a.npy': magic string");
  expect_npz_rejected(raw_zip({{"a.npy", npy.substr(0, npy.size() - 1)}}, false),
                      "entry 'a.npy': data is truncated");
  // Truncated archive bytes.
  const std::string good = raw_zip({{"a.npy", npy}}, true);
  for (std::size_t cut : {std::size_t{1}, std::size_t{30}, good.size() / 2, good.size() - 1}) {
    EXPECT_THROW((void)parse_npz(good.substr(0, cut), "t.npz"), InvalidInput) << cut;
  }
}

TEST(NpzReject, MutatedArchivesNeverCrash) {
  const std::vector<double> v = {1.0, 2.0, 3.0};
  for (const bool compress : {false, true}) {
    const std::string seed =
        npz_bytes({{"a", NpyArrayView(v, {3})}, {"b", NpyArrayView(v, {1, 3})}}, compress);
    std::mt19937_64 rng(compress ? 7 : 8);
    for (int iter = 0; iter < 1500; ++iter) {
      std::string b = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = rng() % b.size();
        if (rng() % 8 == 0) {
          b.resize(std::max<std::size_t>(at, 1));
        } else {
          b[at] = static_cast<char>(rng());
        }
      }
      try {
        (void)parse_npz(b, "m.npz");
      } catch (const Error&) {
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-checks with Python

bool have_python() {
  return std::system("/usr/bin/python3 -c 'import zipfile' >/dev/null 2>&1") == 0;
}
bool have_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

// Runs a Python script with arguments; returns its standard output, or nullopt on failure.
std::optional<std::string> run_python(const std::string& dir, const std::string& script,
                                      const std::string& args) {
  const std::string path = dir + "/script.py";
  std::ofstream(path) << script;
  FILE* p = ::popen(("/usr/bin/python3 " + path + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  if (rc != 0) {
    ADD_FAILURE() << "python failed: " << out;
    return std::nullopt;
  }
  return out;
}

using NpzPython = TempDirTest;
using NpyPython = TempDirTest;

TEST_F(NpzPython, NumpyLoadsOurNpz) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 cannot import numpy (python3-numpy absent)";
  const auto d = test_doubles(24);
  const auto f = test_floats(5);
  const auto i = test_ints(1);
  for (const bool compress : {false, true}) {
    const std::string path = file("ours.npz");
    write_npz(path,
              {{"d", NpyArrayView(d, {2, 3, 4})},
               {"f", NpyArrayView(f, {5})},
               {"i", NpyArrayView(i, {})}},
              compress);
    const auto out = run_python(dir_.string(),
                                "import sys, numpy as np\n"
                                "z = np.load(sys.argv[1])\n"
                                "for k in sorted(z.files):\n"
                                "    a = z[k]\n"
                                "    vals = [float(x).hex() if a.dtype.kind == 'f' else str(int(x))"
                                " for x in a.ravel(order='C')]\n"
                                "    print(k, a.dtype.str, a.shape, *vals)\n",
                                path);
    ASSERT_TRUE(out.has_value());
    std::istringstream lines(*out);
    std::string line;
    std::vector<std::string> got;
    while (std::getline(lines, line)) got.push_back(line);
    ASSERT_EQ(got.size(), 3U) << *out;
    const auto check_floats = [](const std::string& l, const std::string& prefix,
                                 const std::vector<double>& want) {
      ASSERT_EQ(l.rfind(prefix, 0), 0U) << l;
      std::istringstream s(l.substr(prefix.size()));
      std::string tok;
      std::vector<double> vals;
      while (s >> tok) vals.push_back(std::strtod(tok.c_str(), nullptr));
      ASSERT_EQ(vals.size(), want.size()) << l;
      for (std::size_t k = 0; k < want.size(); ++k) {
        if (std::isnan(want[k])) {
          EXPECT_TRUE(std::isnan(vals[k])) << l;
        } else {
          EXPECT_EQ(vals[k], want[k]) << k << ": " << l;
        }
      }
    };
    check_floats(got[0], "d <f8 (2, 3, 4) ", d);
    check_floats(got[1], "f <f4 (5,) ", widen(f));
    EXPECT_EQ(got[2], "i <i8 () " + std::to_string(i[0]));
  }
}

TEST_F(NpyPython, ReadsNumpyFortranFloat32) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 cannot import numpy (python3-numpy absent)";
  const std::string path = file("fortran.npy");
  ASSERT_TRUE(run_python(dir_.string(),
                         "import sys, numpy as np\n"
                         "a = np.asfortranarray(np.arange(24, dtype='<f4').reshape(2, 3, 4) / "
                         "np.float32(7))\n"
                         "assert a.flags.f_contiguous and not a.flags.c_contiguous\n"
                         "np.save(sys.argv[1], a)\n"
                         "np.savez_compressed(sys.argv[1] + '.npz', a=a, b=np.int32([[1, -2]]))\n",
                         path)
                  .has_value());
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.dtype, NpyDtype::kFloat32);
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3, 4}));
  ASSERT_EQ(a.f64.size(), 24U);
  for (std::size_t k = 0; k < 24; ++k) {
    EXPECT_EQ(a.f64[k], static_cast<double>(static_cast<float>(k) / 7.0F)) << k;
  }
  const auto m = read_npz(path + ".npz");
  EXPECT_EQ(m.at("a").f64, a.f64);
  EXPECT_EQ(m.at("b").dtype, NpyDtype::kInt32);
  EXPECT_EQ(m.at("b").i64, (std::vector<std::int64_t>{1, -2}));
}

// Without NumPy: Python's zipfile writes archives the way np.savez does (streamed entries with
// force_zip64=True), and reads ours.
TEST_F(NpzPython, ZipfileArchivesLikeNumpySavez) {
  if (!have_python()) GTEST_SKIP() << "/usr/bin/python3 is not available";
  const std::vector<double> d = {1.0, -2.5, 1e300};
  const std::string npy = npy_bytes(NpyArrayView(d, {3}));
  write_file_atomic(file("a.npy.bin"), npy);
  const std::string script =
      "import sys, zipfile\n"
      "data = open(sys.argv[1] + '/a.npy.bin', 'rb').read()\n"
      "for name, method in (('stored.npz', zipfile.ZIP_STORED), "
      "('deflated.npz', zipfile.ZIP_DEFLATED)):\n"
      "    with zipfile.ZipFile(sys.argv[1] + '/' + name, 'w', compression=method) as z:\n"
      "        for key in ('x', 'y'):\n"
      "            with z.open(key + '.npy', 'w', force_zip64=True) as f:\n"
      "                f.write(data)\n"
      "z = zipfile.ZipFile(sys.argv[1] + '/ours.npz')\n"
      "assert z.testzip() is None\n"
      "print(sorted(z.namelist()), z.read('w.npy') == data)\n";
  write_npz(file("ours.npz"), {{"w", NpyArrayView(d, {3})}}, true);
  const auto out = run_python(dir_.string(), script, dir_.string());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "['w.npy'] True\n");
  for (const char* name : {"stored.npz", "deflated.npz"}) {
    const auto m = read_npz(file(name));
    ASSERT_EQ(m.size(), 2U) << name;
    EXPECT_EQ(m.at("x").f64, d);
    EXPECT_EQ(m.at("y").f64, d);
  }
}

}  // namespace
}  // namespace ntp
