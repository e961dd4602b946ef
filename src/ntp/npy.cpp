#include "ntp/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "ntp/atomic_file.hpp"
#include "ntp/errors.hpp"

namespace ntp {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kArrayAlign = 64;

// ---------------------------------------------------------------------------------------------
// Message helpers

// Bytes as a one-line quoted excerpt: printable ASCII kept, everything else as \xNN.
std::string quote(std::string_view bytes, std::size_t max_len = 60) {
  std::string out = "'";
  const std::size_t n = std::min(bytes.size(), max_len);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += "'";
  if (bytes.size() > max_len) out += "...";
  return out;
}

[[noreturn]] void invalid(const std::string& what, const std::string& field_problem,
                          const std::string& got) {
  throw InvalidInput(what + ": " + field_problem + ", got " + got);
}

// ---------------------------------------------------------------------------------------------
// Dtypes

struct DtypeInfo {
  NpyDtype dtype;
  char kind;  // 'f', 'i', 'u', 'b'
  int size;   // bytes
  std::string_view name;
};

constexpr DtypeInfo kDtypes[] = {
    {NpyDtype::kFloat64, 'f', 8, "f8"}, {NpyDtype::kFloat32, 'f', 4, "f4"},
    {NpyDtype::kInt64, 'i', 8, "i8"},   {NpyDtype::kInt32, 'i', 4, "i4"},
    {NpyDtype::kInt16, 'i', 2, "i2"},   {NpyDtype::kInt8, 'i', 1, "i1"},
    {NpyDtype::kUInt32, 'u', 4, "u4"},  {NpyDtype::kUInt16, 'u', 2, "u2"},
    {NpyDtype::kUInt8, 'u', 1, "u1"},   {NpyDtype::kBool, 'b', 1, "b1"},
};

const DtypeInfo& info_of(NpyDtype dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d;
  }
  throw InternalError("npy: dtype enumerator is unknown, got " +
                      std::to_string(static_cast<int>(dtype)));
}

// Interprets a descr string such as '<f8'.
const DtypeInfo& parse_descr(const std::string& descr, const std::string& what) {
  std::string_view s = descr;
  char order = '=';
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
    order = s[0];
    s.remove_prefix(1);
  }
  if (!s.empty() && s[0] == 'O') {
    invalid(what, "header descr is an object array (unsupported)", quote(descr));
  }
  for (const auto& d : kDtypes) {
    if (s != d.name) continue;
    if (d.size > 1 && order == '>') {
      invalid(what, "header descr is big-endian (unsupported)", quote(descr));
    }
    if (d.size > 1 && order == '|') {
      invalid(what, "header descr byte order '|' is not valid for a multi-byte type", quote(descr));
    }
    return d;
  }
  invalid(what, "header descr is not a supported dtype (f8, f4, i8, i4, i2, i1, u4, u2, u1, b1)",
          quote(descr));
}

// ---------------------------------------------------------------------------------------------
// Checked arithmetic

bool checked_product(const std::vector<std::int64_t>& shape, std::int64_t* out) {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return false;
  }
  *out = n;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Header dict parser: a strict subset of Python literal syntax, enough for what NumPy writes:
//   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  Header parse() {
    Header h;
    bool seen_descr = false;
    bool seen_fortran = false;
    bool seen_shape = false;
    skip_ws();
    if (!consume('{')) fail_not_dict("does not start with '{'");
    while (true) {
      skip_ws();
      if (consume('}')) break;
      if (at_end()) fail_not_dict("ends before '}'");
      if (peek() != '\'' && peek() != '"') fail_not_dict("has a key that is not a string");
      const std::string key = parse_string();
      skip_ws();
      if (!consume(':')) fail_not_dict("has no ':' after a key");
      skip_ws();
      if (key == "descr") {
        if (seen_descr) invalid(what_, "header key appears twice", quote(key));
        seen_descr = true;
        if (peek() == '[') {
          invalid(what_, "header descr is a structured dtype (unsupported)",
                  quote(text_.substr(pos_)));
        }
        if (peek() != '\'' && peek() != '"') {
          invalid(what_, "header descr is not a string", quote(text_.substr(pos_)));
        }
        h.descr = parse_string();
      } else if (key == "fortran_order") {
        if (seen_fortran) invalid(what_, "header key appears twice", quote(key));
        seen_fortran = true;
        h.fortran_order = parse_bool();
      } else if (key == "shape") {
        if (seen_shape) invalid(what_, "header key appears twice", quote(key));
        seen_shape = true;
        h.shape = parse_shape();
      } else {
        invalid(what_, "header key is unknown (expected descr, fortran_order, shape)", quote(key));
      }
      skip_ws();
      if (consume(',')) continue;
      if (consume('}')) break;
      fail_not_dict("has no ',' or '}' after a value");
    }
    skip_ws();
    if (!at_end()) {
      invalid(what_, "header has bytes after the dict", quote(text_.substr(pos_)));
    }
    if (!seen_descr) invalid(what_, "header has no 'descr' key", quote(text_));
    if (!seen_fortran) invalid(what_, "header has no 'fortran_order' key", quote(text_));
    if (!seen_shape) invalid(what_, "header has no 'shape' key", quote(text_));
    return h;
  }

 private:
  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool consume(char c) {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  void skip_ws() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                         text_[pos_] == '\r' || text_[pos_] == '\f' || text_[pos_] == '\v')) {
      ++pos_;
    }
  }
  [[noreturn]] void fail_not_dict(const std::string& why) const {
    invalid(
        what_,
        "header is not a Python dict literal (" + why + " at offset " + std::to_string(pos_) + ")",
        quote(text_));
  }

  // A quoted string without escapes (NumPy never writes any).
  std::string parse_string() {
    const char q = text_[pos_++];
    const std::size_t start = pos_;
    while (!at_end() && text_[pos_] != q) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '\\' || c < 0x20 || c >= 0x7f) {
        invalid(what_, "header string has an escape, control or non-ASCII byte",
                quote(text_.substr(start - 1)));
      }
      ++pos_;
    }
    if (at_end()) fail_not_dict("has an unterminated string");
    std::string s(text_.substr(start, pos_ - start));
    ++pos_;
    return s;
  }

  bool parse_bool() {
    const auto word = [&](std::string_view w) {
      if (text_.substr(pos_, w.size()) != w) return false;
      const std::size_t end = pos_ + w.size();
      if (end < text_.size() &&
          (std::isalnum(static_cast<unsigned char>(text_[end])) != 0 || text_[end] == '_')) {
        return false;
      }
      pos_ = end;
      return true;
    };
    if (word("True")) return true;
    if (word("False")) return false;
    invalid(what_, "header fortran_order is not True or False", quote(text_.substr(pos_), 20));
  }

  std::vector<std::int64_t> parse_shape() {
    std::vector<std::int64_t> shape;
    const std::size_t start = pos_;
    const auto shape_text = [&] {
      return quote(text_.substr(start, std::min(text_.size(), pos_ + 1) - start));
    };
    if (!consume('(')) {
      invalid(what_, "header shape is not a tuple", quote(text_.substr(pos_), 20));
    }
    skip_ws();
    if (consume(')')) return shape;
    bool trailing_comma = false;
    while (true) {
      skip_ws();
      if (consume(')')) break;  // after a trailing comma
      shape.push_back(parse_int(shape_text));
      if (shape.size() > kMaxNpyRank) {
        invalid(what_, "header shape has more than " + std::to_string(kMaxNpyRank) + " dimensions",
                shape_text());
      }
      skip_ws();
      trailing_comma = consume(',');
      if (trailing_comma) continue;
      if (consume(')')) break;
      invalid(what_, "header shape is not a tuple of integers", shape_text());
    }
    // Python reads "(3)" as the integer 3, not a tuple.
    if (shape.size() == 1 && !trailing_comma) {
      invalid(what_, "header shape is an integer in parentheses, not a tuple", shape_text());
    }
    return shape;
  }

  template <class Text>
  std::int64_t parse_int(const Text& shape_text) {
    const bool negative = consume('-');
    if (negative) skip_ws();
    const std::size_t digits_start = pos_;
    std::int64_t value = 0;
    bool overflow = false;
    while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const int digit = text_[pos_] - '0';
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, digit, &value)) {
        overflow = true;
      }
      ++pos_;
    }
    const std::size_t n_digits = pos_ - digits_start;
    if (n_digits == 0) invalid(what_, "header shape is not a tuple of integers", shape_text());
    if (n_digits > 1 && text_[digits_start] == '0') {
      invalid(what_, "header shape has an integer with a leading zero", shape_text());
    }
    if (overflow) invalid(what_, "header shape has a dimension that overflows int64", shape_text());
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long literals, in old files
    return negative ? -value : value;
  }

  std::string_view text_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Little-endian element access (portable: no alignment or host byte order assumptions)

std::uint64_t load_le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void store_le(std::string& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) {
    out.push_back(static_cast<char>(v & 0xffU));
    v >>= 8;
  }
}

std::int64_t sign_extend(std::uint64_t v, int n) {
  if (n == 8) return static_cast<std::int64_t>(v);
  const int bits = 8 * n;
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  // (v ^ sign) - sign sign-extends without implementation-defined conversions of out-of-range
  // values: the subtraction is done in uint64 and the result is in int64 range by construction.
  const std::uint64_t u = (v ^ sign) - sign;
  return static_cast<std::int64_t>(u);
}

// Reorders Fortran-order (first index fastest) elements into C order (last index fastest).
template <class T>
std::vector<T> fortran_to_c(const std::vector<T>& f, const std::vector<std::int64_t>& shape) {
  const std::size_t r = shape.size();
  if (r < 2 || f.empty()) return f;
  std::vector<std::size_t> c_stride(r);
  c_stride[r - 1] = 1;
  for (std::size_t k = r - 1; k > 0; --k) {
    c_stride[k - 1] = c_stride[k] * static_cast<std::size_t>(shape[k]);
  }
  std::vector<T> c(f.size());
  std::vector<std::size_t> idx(r, 0);
  std::size_t off = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    c[off] = f[i];
    for (std::size_t k = 0; k < r; ++k) {
      ++idx[k];
      off += c_stride[k];
      if (idx[k] < static_cast<std::size_t>(shape[k])) break;
      off -= idx[k] * c_stride[k];
      idx[k] = 0;
    }
  }
  return c;
}

NpyArray parse_npy_impl(std::string_view bytes, const std::string& what) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    invalid(what, "magic string is not \\x93NUMPY", quote(bytes.substr(0, kMagic.size())));
  }
  if (bytes.size() < 10) {
    invalid(what, "file is truncated before the header length",
            std::to_string(bytes.size()) + " bytes");
  }
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  const int major = u[6];
  const int minor = u[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
    invalid(what, "format version is not 1.0, 2.0 or 3.0",
            std::to_string(major) + "." + std::to_string(minor));
  }
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (bytes.size() < prefix) {
    invalid(what, "file is truncated before the header length",
            std::to_string(bytes.size()) + " bytes");
  }
  const std::uint64_t header_len = load_le(u + 8, major == 1 ? 2 : 4);
  if (header_len > kMaxNpyHeaderBytes) {
    invalid(what, "header length exceeds " + std::to_string(kMaxNpyHeaderBytes) + " bytes",
            std::to_string(header_len));
  }
  if (header_len > bytes.size() - prefix) {
    invalid(what,
            "header is truncated (length field " + std::to_string(header_len) + " bytes, " +
                std::to_string(bytes.size() - prefix) + " bytes left)",
            quote(bytes.substr(prefix)));
  }
  const std::string_view header_text = bytes.substr(prefix, header_len);
  const Header header = HeaderParser(header_text, what).parse();
  const DtypeInfo& dt = parse_descr(header.descr, what);
  for (const std::int64_t d : header.shape) {
    if (d < 0) {
      invalid(what, "header shape has a negative dimension", npy_shape_string(header.shape));
    }
  }
  std::int64_t count = 0;
  if (!checked_product(header.shape, &count)) {
    invalid(what, "header shape element count overflows int64", npy_shape_string(header.shape));
  }
  std::uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(static_cast<std::uint64_t>(count), static_cast<std::uint64_t>(dt.size),
                             &expected_bytes)) {
    invalid(what, "header shape byte count overflows uint64", npy_shape_string(header.shape));
  }
  const std::size_t data_offset = prefix + header_len;
  const std::uint64_t data_len = bytes.size() - data_offset;
  const std::string requirement = "(header shape " + npy_shape_string(header.shape) + " of '" +
                                  std::string(dt.name) + "' needs " +
                                  std::to_string(expected_bytes) + " bytes)";
  if (data_len < expected_bytes) {
    invalid(what, "data is truncated " + requirement, std::to_string(data_len) + " bytes");
  }
  if (data_len > expected_bytes) {
    invalid(what, "data has trailing bytes " + requirement, std::to_string(data_len) + " bytes");
  }

  NpyArray a;
  a.dtype = dt.dtype;
  a.shape = header.shape;
  const auto n = static_cast<std::size_t>(count);
  const unsigned char* p = u + data_offset;
  if (dt.kind == 'f') {
    a.f64.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (dt.size == 8) {
        a.f64[i] = std::bit_cast<double>(load_le(p + 8 * i, 8));
      } else {
        // float -> double is exact (every float is a double).
        a.f64[i] = static_cast<double>(
            std::bit_cast<float>(static_cast<std::uint32_t>(load_le(p + 4 * i, 4))));
      }
    }
    if (header.fortran_order) a.f64 = fortran_to_c(a.f64, a.shape);
  } else {
    a.i64.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t v = load_le(p + static_cast<std::size_t>(dt.size) * i, dt.size);
      if (dt.kind == 'i') {
        a.i64[i] = sign_extend(v, dt.size);
      } else if (dt.kind == 'u') {
        a.i64[i] = static_cast<std::int64_t>(v);  // at most 32 bits
      } else {
        a.i64[i] = v != 0 ? 1 : 0;
      }
    }
    if (header.fortran_order) a.i64 = fortran_to_c(a.i64, a.shape);
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// File reading

std::string read_whole_file(const std::string& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(what + ": cannot open, got " + std::strerror(errno));
  std::string data;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      (void)::close(fd);
      throw IoError(what + ": cannot read, got " + std::strerror(err));
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  (void)::close(fd);
  return data;
}

// ---------------------------------------------------------------------------------------------
// Zip helpers

struct ZipDiscard {
  void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipDiscard>;

struct ZipFileClose {
  void operator()(zip_file_t* f) const noexcept { (void)zip_fclose(f); }
};
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileClose>;

std::string zip_code_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

// An empty zip archive: just the end-of-central-directory record. (libzip deletes the output of an
// archive without entries instead of writing this.)
std::string empty_zip() {
  std::string s = "PK\x05\x06";
  s.append(18, '\0');
  return s;
}

void check_npz_names(const NpzArrays& arrays) {
  std::set<std::string> names;
  for (const auto& [name, view] : arrays) {
    if (name.empty()) throw InternalError("write_npz: array name is empty, got ''");
    if (!names.insert(name).second) {
      throw InternalError("write_npz: array name appears twice, got " + quote(name));
    }
  }
}

// Adds the arrays as "<name>.npy" entries; `storage` keeps the bytes alive until zip_close.
void add_npz_entries(zip_t* za, const NpzArrays& arrays, bool compress,
                     std::vector<std::string>& storage, const std::string& what) {
  storage.reserve(arrays.size());
  for (const auto& [name, view] : arrays) {
    storage.push_back(npy_bytes(view));
    const std::string& data = storage.back();
    zip_source_t* src = zip_source_buffer(za, data.data(), data.size(), 0);
    if (src == nullptr) {
      throw InternalError(what + ": libzip cannot make a source, got " + zip_strerror(za));
    }
    const std::string entry = name + ".npy";
    const zip_int64_t idx = zip_file_add(za, entry.c_str(), src, ZIP_FL_ENC_GUESS);
    if (idx < 0) {
      zip_source_free(src);
      throw InternalError(what + ": libzip cannot add entry " + quote(entry) + ", got " +
                          zip_strerror(za));
    }
    const auto uidx = static_cast<zip_uint64_t>(idx);
    // 1980-01-01 00:00 (the DOS epoch), so that equal arrays give byte-identical files.
    constexpr zip_uint16_t kDosDate = (0U << 9) | (1U << 5) | 1U;
    if (zip_set_file_compression(za, uidx, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(za, uidx, 0, kDosDate, 0) != 0) {
      throw InternalError(what + ": libzip cannot set entry " + quote(entry) + ", got " +
                          zip_strerror(za));
    }
  }
}

struct EntryInfo {
  zip_uint64_t index;
  std::string key;
  std::string entry_name;
  std::uint64_t size;
};

std::map<std::string, NpyArray> parse_npz_archive(zip_t* za, const std::string& what,
                                                  std::uint64_t max_total_bytes) {
  const zip_int64_t n = zip_get_num_entries(za, 0);
  if (n < 0) invalid(what, "archive entry count is unreadable", std::to_string(n));
  if (n > kMaxNpzEntries) {
    invalid(what, "archive has more than " + std::to_string(kMaxNpzEntries) + " entries",
            std::to_string(n));
  }
  // Pass 1: every check that needs no decompression, on every entry, before decompressing any.
  std::vector<EntryInfo> entries;
  std::set<std::string> keys;
  std::uint64_t total = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    const auto idx = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, idx, 0, &st) != 0) {
      invalid(what, "archive entry " + std::to_string(i) + " is unreadable", zip_strerror(za));
    }
    constexpr zip_uint64_t kNeed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_METHOD;
    if ((st.valid & kNeed) != kNeed || st.name == nullptr) {
      invalid(what, "archive entry " + std::to_string(i) + " lacks a name, size or method",
              "valid flags " + std::to_string(st.valid));
    }
    const std::string name = st.name;
    const std::string entry_what = what + " entry " + quote(name);
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE) {
      invalid(entry_what, "encryption is not supported",
              "method " + std::to_string(st.encryption_method));
    }
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
      invalid(entry_what, "compression method is not store (0) or deflate (8)",
              std::to_string(st.comp_method));
    }
    constexpr std::string_view kSuffix = ".npy";
    if (name.size() <= kSuffix.size() ||
        std::string_view(name).substr(name.size() - kSuffix.size()) != kSuffix) {
      invalid(entry_what, "name is not '<array name>.npy'", quote(name));
    }
    std::string key = name.substr(0, name.size() - kSuffix.size());
    if (!keys.insert(key).second) invalid(entry_what, "name appears twice", quote(name));
    if (st.size > max_total_bytes - total) {
      invalid(entry_what,
              "declared uncompressed size exceeds the limit of " + std::to_string(max_total_bytes) +
                  " bytes for the whole archive (" + std::to_string(total) +
                  " bytes declared before it)",
              std::to_string(st.size) + " bytes");
    }
    total += st.size;
    entries.push_back({idx, std::move(key), name, st.size});
  }
  // Pass 2: decompress each entry, never more than its declared size plus one byte.
  std::map<std::string, NpyArray> out;
  for (const EntryInfo& e : entries) {
    const std::string entry_what = what + " entry " + quote(e.entry_name);
    ZipFilePtr zf(zip_fopen_index(za, e.index, 0));
    if (!zf) invalid(entry_what, "data cannot be opened", zip_strerror(za));
    std::string data(static_cast<std::size_t>(e.size), '\0');
    std::size_t got = 0;
    while (got < data.size()) {
      const zip_int64_t r = zip_fread(zf.get(), data.data() + got, data.size() - got);
      if (r < 0) invalid(entry_what, "data cannot be decompressed", zip_file_strerror(zf.get()));
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    if (got < data.size()) {
      invalid(entry_what,
              "data is shorter than the declared size of " + std::to_string(e.size) + " bytes",
              std::to_string(got) + " bytes");
    }
    char extra = 0;
    const zip_int64_t r = zip_fread(zf.get(), &extra, 1);
    if (r > 0) {
      invalid(entry_what,
              "data decompresses to more than the declared size of " + std::to_string(e.size) +
                  " bytes",
              "at least " + std::to_string(e.size + 1) + " bytes");
    }
    if (r < 0) invalid(entry_what, "data cannot be decompressed", zip_file_strerror(zf.get()));
    out.emplace(e.key, parse_npy_impl(data, entry_what));
  }
  return out;
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Public API

std::string_view npy_dtype_name(NpyDtype dtype) noexcept {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

std::int64_t NpyArray::size() const noexcept {
  std::uint64_t n = 1;
  for (const std::int64_t d : shape) n *= static_cast<std::uint64_t>(d);
  return static_cast<std::int64_t>(n);
}

namespace {
std::size_t view_size(std::size_t data_size, const std::vector<std::int64_t>& shape) {
  std::int64_t count = 0;
  if (!checked_product(shape, &count)) {
    throw InternalError("npy writer: shape has a negative dimension or overflows, got " +
                        npy_shape_string(shape));
  }
  if (static_cast<std::uint64_t>(count) != data_size) {
    throw InternalError("npy writer: data length does not match shape " + npy_shape_string(shape) +
                        ", got " + std::to_string(data_size));
  }
  return data_size;
}
}  // namespace

NpyArrayView::NpyArrayView(std::span<const double> data, std::vector<std::int64_t> shape,
                           NpyDtype as)
    : f64_(data.data()),
      size_(view_size(data.size(), shape)),
      shape_(std::move(shape)),
      dtype_(as) {
  if (as != NpyDtype::kFloat64 && as != NpyDtype::kFloat32) {
    throw InternalError("npy writer: double data can be written as f8 or f4, got " +
                        std::string(npy_dtype_name(as)));
  }
}

NpyArrayView::NpyArrayView(std::span<const float> data, std::vector<std::int64_t> shape)
    : f32_(data.data()),
      size_(view_size(data.size(), shape)),
      shape_(std::move(shape)),
      dtype_(NpyDtype::kFloat32) {}

NpyArrayView::NpyArrayView(std::span<const std::int64_t> data, std::vector<std::int64_t> shape)
    : i64_(data.data()),
      size_(view_size(data.size(), shape)),
      shape_(std::move(shape)),
      dtype_(NpyDtype::kInt64) {}

NpyArrayView::NpyArrayView(const NpyArray& array) {
  if (is_floating(array.dtype)) {
    *this = NpyArrayView(std::span<const double>(array.f64), array.shape, array.dtype);
  } else {
    *this = NpyArrayView(std::span<const std::int64_t>(array.i64), array.shape);
  }
}

std::string npy_shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  s += ")";
  return s;
}

void check_npy_shape(const NpyArray& array, const std::vector<std::int64_t>& expected,
                     const std::string& what) {
  if (array.shape.size() != expected.size()) {
    invalid(what,
            "header shape has " + std::to_string(array.shape.size()) + " dimensions, expected " +
                std::to_string(expected.size()),
            npy_shape_string(array.shape));
  }
  for (std::size_t k = 0; k < expected.size(); ++k) {
    if (expected[k] >= 0 && array.shape[k] != expected[k]) {
      invalid(what,
              "header shape dimension " + std::to_string(k) + " is " +
                  std::to_string(array.shape[k]) + ", expected " + std::to_string(expected[k]),
              npy_shape_string(array.shape));
    }
  }
}

std::string npy_bytes(const NpyArrayView& array) {
  const DtypeInfo& dt = info_of(array.dtype_);
  const std::string dict = "{'descr': '<" + std::string(dt.name) +
                           "', 'fortran_order': False, 'shape': " + npy_shape_string(array.shape_) +
                           ", }";
  // Version 1.0 has a 16-bit header length; larger headers (rank > ~6000) need version 2.0.
  std::size_t prefix = 10;
  std::size_t header_len = dict.size() + 1;
  header_len += (kArrayAlign - (prefix + header_len) % kArrayAlign) % kArrayAlign;
  if (header_len > 0xffff) {
    prefix = 12;
    header_len = dict.size() + 1;
    header_len += (kArrayAlign - (prefix + header_len) % kArrayAlign) % kArrayAlign;
  }
  std::string out;
  out.reserve(prefix + header_len + array.size_ * static_cast<std::size_t>(dt.size));
  out += kMagic;
  out.push_back(static_cast<char>(prefix == 10 ? 1 : 2));
  out.push_back('\0');
  store_le(out, header_len, prefix == 10 ? 2 : 4);
  out += dict;
  out.append(header_len - dict.size() - 1, ' ');
  out.push_back('\n');
  for (std::size_t i = 0; i < array.size_; ++i) {
    if (array.f64_ != nullptr && dt.size == 8) {
      store_le(out, std::bit_cast<std::uint64_t>(array.f64_[i]), 8);
    } else if (array.f64_ != nullptr) {
      store_le(out, std::bit_cast<std::uint32_t>(static_cast<float>(array.f64_[i])), 4);
    } else if (array.f32_ != nullptr) {
      store_le(out, std::bit_cast<std::uint32_t>(array.f32_[i]), 4);
    } else {
      store_le(out, static_cast<std::uint64_t>(array.i64_[i]), 8);
    }
  }
  return out;
}

NpyArray parse_npy(std::string_view bytes, const std::string& source) {
  return parse_npy_impl(bytes, "npy file " + source);
}

NpyArray read_npy(const std::string& path) {
  const std::string what = "npy file " + path;
  return parse_npy_impl(read_whole_file(path, what), what);
}

void write_npy(const std::string& path, const NpyArrayView& array) {
  write_file_atomic(path, npy_bytes(array));
}

std::string npz_bytes(const NpzArrays& arrays, bool compress) {
  check_npz_names(arrays);
  if (arrays.empty()) return empty_zip();
  const std::string what = "npz writer";
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (buf == nullptr) {
    const std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw InternalError(what + ": libzip cannot make a buffer, got " + msg);
  }
  zip_source_keep(buf);  // survives zip_close, so that its bytes can be read back
  const auto free_buf = std::unique_ptr<zip_source_t, void (*)(zip_source_t*)>(
      buf, [](zip_source_t* s) { zip_source_free(s); });
  ZipPtr za(zip_open_from_source(buf, ZIP_TRUNCATE, &err));
  if (!za) {
    const std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw InternalError(what + ": libzip cannot open a buffer, got " + msg);
  }
  zip_error_fini(&err);
  std::vector<std::string> storage;
  add_npz_entries(za.get(), arrays, compress, storage, what);
  if (zip_close(za.get()) != 0) {
    throw InternalError(what + ": libzip cannot write the archive, got " + zip_strerror(za.get()));
  }
  (void)za.release();
  std::string out;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_open(buf) != 0 || zip_source_stat(buf, &st) != 0 ||
      (st.valid & ZIP_STAT_SIZE) == 0) {
    throw InternalError(what + ": libzip cannot read back the buffer, got " +
                        zip_error_strerror(zip_source_error(buf)));
  }
  out.resize(static_cast<std::size_t>(st.size));
  std::size_t got = 0;
  while (got < out.size()) {
    const zip_int64_t r = zip_source_read(buf, out.data() + got, out.size() - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  (void)zip_source_close(buf);
  if (got != out.size()) {
    throw InternalError(what + ": libzip buffer read back short, got " + std::to_string(got) +
                        " of " + std::to_string(out.size()) + " bytes");
  }
  return out;
}

void write_npz(const std::string& path, const NpzArrays& arrays, bool compress) {
  check_npz_names(arrays);
  if (path == "-" || arrays.empty()) {
    write_file_atomic(path, npz_bytes(arrays, compress));
    return;
  }
  const std::string what = "npz file " + path;
  AtomicOutput out(path);
  int code = 0;
  ZipPtr za(zip_open(out.temp_path().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
  if (!za) {
    throw IoError(what + ": cannot open temporary file " + out.temp_path() + ", got " +
                  zip_code_text(code));
  }
  std::vector<std::string> storage;
  add_npz_entries(za.get(), arrays, compress, storage, what);
  if (zip_close(za.get()) != 0) {
    throw IoError(what + ": cannot write temporary file " + out.temp_path() + ", got " +
                  zip_strerror(za.get()));
  }
  (void)za.release();
  out.commit();
}

std::map<std::string, NpyArray> parse_npz(std::string_view bytes, const std::string& source,
                                          std::uint64_t max_total_bytes) {
  const std::string what = "npz file " + source;
  if (bytes.empty()) invalid(what, "file is empty", "0 bytes");
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) {
    const std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw InternalError(what + ": libzip cannot make a buffer, got " + msg);
  }
  ZipPtr za(zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!za) {
    zip_source_free(src);
    const std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    invalid(what, "archive is not a valid zip file", msg);
  }
  zip_error_fini(&err);
  return parse_npz_archive(za.get(), what, max_total_bytes);
}

std::map<std::string, NpyArray> read_npz(const std::string& path, std::uint64_t max_total_bytes) {
  const std::string what = "npz file " + path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(what + ": cannot open, got " + std::strerror(errno));
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) {
    const int err = errno;
    (void)::close(fd);
    throw IoError(what + ": cannot stat, got " + std::strerror(err));
  }
  if (!S_ISREG(sb.st_mode)) {
    (void)::close(fd);
    throw IoError(what + ": file is not a regular file, got mode " +
                  std::to_string(sb.st_mode & S_IFMT));
  }
  if (sb.st_size == 0) {
    (void)::close(fd);
    invalid(what, "file is empty", "0 bytes");
  }
  int code = 0;
  ZipPtr za(zip_fdopen(fd, ZIP_CHECKCONS, &code));
  if (!za) {
    (void)::close(fd);  // on failure libzip leaves fd open
    if (code == ZIP_ER_READ || code == ZIP_ER_SEEK || code == ZIP_ER_OPEN) {
      throw IoError(what + ": cannot read, got " + zip_code_text(code));
    }
    invalid(what, "archive is not a valid zip file", zip_code_text(code));
  }
  return parse_npz_archive(za.get(), what, max_total_bytes);
}

}  // namespace ntp
