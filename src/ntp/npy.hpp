#pragma once
/** @file npy.hpp
 * NumPy .npy and .npz array files (the NumPy format spec, "numpy.lib.format").
 *
 * A .npy file is the magic "\x93NUMPY", a version byte pair (1.0, 2.0 or 3.0), the header length
 * (uint16 little-endian for 1.0, uint32 for 2.0/3.0), and a header holding a Python dict literal
 *
 *     {'descr': '<f8', 'fortran_order': False, 'shape': (K, V, d), }
 *
 * padded with spaces and ended by '\n' so that the data starts at a multiple of 64 bytes (16 in old
 * files), followed by the elements. A .npz file is a zip archive of "<name>.npy" entries, stored or
 * deflated.
 *
 * Reading accepts little-endian float64, float32 and the integer types i8, i4, i2, i1, u4, u2, u1
 * and bool ('<' or '=' byte order, '|' for one-byte types), C or Fortran order, versions 1.0-3.0.
 * Floats are widened to double exactly and integers to int64; the source dtype is recorded.
 * Fortran-order data is converted to C order. Everything else is rejected with InvalidInput
 * (unreadable files: IoError). The parsers never read out of bounds and check all size arithmetic,
 * whatever the bytes.
 *
 * Writing produces version 1.0 files (2.0 when the header needs more than 65535 bytes), C order,
 * little-endian '<f8', '<f4' or '<i8', the header padded to 64 bytes as NumPy does.
 */
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ntp {

/** Element type of an array in a .npy file (the source type; values are held widened). */
enum class NpyDtype {
  kFloat64,  ///< '<f8'
  kFloat32,  ///< '<f4'
  kInt64,    ///< '<i8'
  kInt32,    ///< '<i4'
  kInt16,    ///< '<i2'
  kInt8,     ///< '|i1'
  kUInt32,   ///< '<u4'
  kUInt16,   ///< '<u2'
  kUInt8,    ///< '|u1'
  kBool,     ///< '|b1'
};

/** The short NumPy name without byte order: "f8", "f4", "i8", "i4", "i2", "i1", "u4", "u2", "u1",
 * "b1". */
std::string_view npy_dtype_name(NpyDtype dtype) noexcept;

/** True for kFloat64 and kFloat32. */
constexpr bool is_floating(NpyDtype dtype) noexcept {
  return dtype == NpyDtype::kFloat64 || dtype == NpyDtype::kFloat32;
}

/**
 * An array read from a .npy file, in C (row-major) order. Exactly one of the value vectors is
 * filled: `f64` when is_floating(dtype) (float32 widened exactly), else `i64` (integers and bools
 * widened). Their length is the product of `shape` (1 for rank 0).
 */
struct NpyArray {
  NpyDtype dtype = NpyDtype::kFloat64;
  std::vector<std::int64_t> shape;
  std::vector<double> f64;
  std::vector<std::int64_t> i64;

  /** Number of elements (product of the shape). */
  [[nodiscard]] std::int64_t size() const noexcept;
  /** Rank (number of dimensions). */
  [[nodiscard]] std::size_t rank() const noexcept { return shape.size(); }
};

/**
 * A borrowed C-order array to write: the element span, the shape, and the dtype written. The span
 * must outlive the view. Written dtypes: '<f8' from double (or '<f4' from double when asked:
 * each value is rounded to nearest float, exact for values read from a float32 file), '<f4' from
 * float, '<i8' from int64. The constructors throw InternalError when the span length is not the
 * product of the shape or a dimension is negative.
 */
class NpyArrayView {
 public:
  NpyArrayView(std::span<const double> data, std::vector<std::int64_t> shape,
               NpyDtype as = NpyDtype::kFloat64);
  NpyArrayView(std::span<const float> data, std::vector<std::int64_t> shape);
  NpyArrayView(std::span<const std::int64_t> data, std::vector<std::int64_t> shape);
  /** A view of a read array, written in its source dtype when that is f8, f4 or i8; other integer
   * and bool dtypes are written as '<i8'. */
  explicit NpyArrayView(const NpyArray& array);

  [[nodiscard]] NpyDtype dtype() const noexcept { return dtype_; }
  [[nodiscard]] const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
  /** Number of elements. */
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  friend std::string npy_bytes(const NpyArrayView& array);
  const double* f64_ = nullptr;
  const float* f32_ = nullptr;
  const std::int64_t* i64_ = nullptr;
  std::size_t size_ = 0;
  std::vector<std::int64_t> shape_;
  NpyDtype dtype_ = NpyDtype::kFloat64;
};

/** Largest .npy header accepted when reading (NumPy writes at most a few hundred bytes). */
inline constexpr std::size_t kMaxNpyHeaderBytes = std::size_t{1} << 20;
/** Largest rank accepted when reading (NumPy's own limit is 32, 64 since NumPy 2). */
inline constexpr std::size_t kMaxNpyRank = 64;
/** Default limit on the sum of the declared uncompressed sizes of all entries of a .npz file. */
inline constexpr std::uint64_t kDefaultNpzMaxBytes = std::uint64_t{1} << 30;  // 1 GiB
/** Largest number of entries of a .npz file. */
inline constexpr std::int64_t kMaxNpzEntries = 1000;

/** The .npy file bytes of `array`. */
std::string npy_bytes(const NpyArrayView& array);

/** Parses .npy bytes; `source` names the file in messages ("npy file <source>: ..."). Throws
 * InvalidInput. */
NpyArray parse_npy(std::string_view bytes, const std::string& source);

/** Reads a .npy file. Throws IoError when it cannot be read, InvalidInput when malformed. */
NpyArray read_npy(const std::string& path);

/** Writes a .npy file atomically (write_file_atomic; "-" is standard output). */
void write_npy(const std::string& path, const NpyArrayView& array);

/** Named arrays for a .npz file; each becomes the entry "<name>.npy", in the given order. */
using NpzArrays = std::vector<std::pair<std::string, NpyArrayView>>;

/**
 * The .npz (zip) bytes of `arrays`, entries stored or (compress) deflated, with a fixed timestamp
 * (1980-01-01) so equal arrays give equal bytes. Names must be non-empty and distinct
 * (InternalError otherwise).
 */
std::string npz_bytes(const NpzArrays& arrays, bool compress = false);

/** Writes a .npz file atomically (libzip writes the AtomicOutput temporary file, then commit);
 * "-" writes npz_bytes() to standard output. Throws IoError. */
void write_npz(const std::string& path, const NpzArrays& arrays, bool compress = false);

/**
 * Parses .npz bytes; keys are the entry names without ".npy". `source` names the file in messages
 * ("npz file <source>: ...", "npz file <source> entry <name>: ..."). Zip-bomb safe: refuses more
 * than kMaxNpzEntries entries, encrypted entries, methods other than store and deflate, entries not
 * named "*.npy" or named twice, and archives whose declared uncompressed sizes sum to more than
 * `max_total_bytes`, all before decompressing; stops and refuses when an entry decompresses to
 * more (or fewer) bytes than declared. Throws InvalidInput.
 */
std::map<std::string, NpyArray> parse_npz(std::string_view bytes, const std::string& source,
                                          std::uint64_t max_total_bytes = kDefaultNpzMaxBytes);

/** Reads a .npz file with the checks of parse_npz. Throws IoError when it cannot be read (e.g. no
 * such file), InvalidInput when malformed. */
std::map<std::string, NpyArray> read_npz(const std::string& path,
                                         std::uint64_t max_total_bytes = kDefaultNpzMaxBytes);

/** A shape as Python prints it: "()", "(4,)", "(4, 5)". */
std::string npy_shape_string(const std::vector<std::int64_t>& shape);

/**
 * Checks the shape of a read array against `expected`, where -1 matches any extent; throws
 * InvalidInput such as "npy file W.npy: header shape has 2 dimensions, expected 3, got (4, 5)" or
 * "...: header shape dimension 1 is 4, expected 5, got (3, 4)". `what` is the message prefix.
 */
void check_npy_shape(const NpyArray& array, const std::vector<std::int64_t>& expected,
                     const std::string& what);

}  // namespace ntp
