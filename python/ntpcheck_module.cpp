/** @file ntpcheck_module.cpp
 * The Python module `ntpcheck` (pybind11): load and generate instances, analyze them, and verify
 * another implementation's weights or trajectory from NumPy arrays (python/README.md).
 *
 * Every input goes through the same C++ checks as the CLI (candidate_weights_from_array,
 * candidate_trajectory_from_arrays, parse_rational, parse_precision, ...), so the messages are the
 * CLI's. NumPy arrays are copied into an NpyArray exactly as if they had been read from a .npy file
 * (same dtype, C order, native byte order), so a float32 array stays float32 (its dtype decides the
 * candidate's epsilon) and an int or bool array reaches the library's dtype check. Errors become
 * ntpcheck.InvalidInput (a ValueError) or ntpcheck.Error (a RuntimeError) with the same one-line
 * message, an `exit_code` attribute (the CLI's) and, for InvalidInput, `problems` (every problem
 * found, as (path, message) pairs). The GIL is released during the computations.
 */
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ntp/analyze.hpp"
#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance.hpp"
#include "ntp/instance_io.hpp"
#include "ntp/npy.hpp"
#include "ntp/optimize.hpp"
#include "ntp/rational.hpp"
#include "ntp/scalar.hpp"
#include "ntp/train.hpp"
#include "ntp/verify.hpp"

namespace py = pybind11;

namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The exception classes, created in PYBIND11_MODULE (the module lives as long as the process).
PyObject* g_error = nullptr;          // ntpcheck.Error(RuntimeError)
PyObject* g_invalid_input = nullptr;  // ntpcheck.InvalidInput(ValueError, ntpcheck.Error)

/** An instance: the exact data, and its double conversion made on first use. */
class PyInstance {
 public:
  explicit PyInstance(ntp::InstanceData data)
      : data_(std::make_shared<const ntp::InstanceData>(std::move(data))) {}

  [[nodiscard]] const ntp::InstanceData& data() const { return *data_; }

  /** The instance correctly rounded to double (cached; the GIL serialises first use). */
  [[nodiscard]] const ntp::Instance<double>& in_double() const {
    if (!dbl_) dbl_ = std::make_shared<const ntp::Instance<double>>(ntp::to_scalar<double>(*data_));
    return *dbl_;
  }

  [[nodiscard]] const ntp::InstanceSummary& summary() const {
    if (!summary_) summary_ = std::make_shared<const ntp::InstanceSummary>(ntp::summarize(*data_));
    return *summary_;
  }

 private:
  std::shared_ptr<const ntp::InstanceData> data_;
  mutable std::shared_ptr<const ntp::Instance<double>> dbl_;
  mutable std::shared_ptr<const ntp::InstanceSummary> summary_;
};

/** JSON (a report) as Python objects: dict, list, str, int, float, bool, None. */
py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& e : j) out.append(to_python(e));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = to_python(v);
      return out;
    }
    case nlohmann::json::value_t::binary:
      break;
  }
  return py::none();
}

/** NumPy's short dtype code without byte order ("f8", "c16", "U3"), as the CLI names dtypes. */
std::string dtype_code(const py::dtype& dt) {
  return std::string(1, dt.kind()) + std::to_string(dt.itemsize());
}

template <class T>
void copy_values(const py::array& a, std::vector<double>* f64, std::vector<std::int64_t>* i64) {
  // forcecast only converts the memory order and the byte order here: the dtype already matches T.
  const auto c = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!c) throw py::error_already_set();
  const T* p = c.data();
  const auto n = static_cast<std::size_t>(c.size());
  if (f64 != nullptr) {
    f64->assign(p, p + n);
  } else {
    i64->resize(n);
    for (std::size_t i = 0; i < n; ++i) (*i64)[i] = static_cast<std::int64_t>(p[i]);
  }
}

/**
 * A NumPy array (or anything np.asarray accepts) as an NpyArray with the same dtype and values, as
 * if read from a .npy file: any memory order (copied to C order), either byte order. Dtypes the
 * .npy reader does not know (complex, float16, uint64, object, strings, ...) are refused here with
 * `refusal` + the dtype code, the library's wording for the other wrong dtypes of that array.
 */
ntp::NpyArray to_npy_array(const py::handle& obj, const std::string& refusal) {
  py::array a = py::array::ensure(obj);
  if (!a) {
    PyErr_Clear();
    throw ntp::InvalidInput(refusal + "an object NumPy cannot convert to an array (" +
                            std::string(py::str(py::type::handle_of(obj).attr("__name__"))) + ")");
  }
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  ntp::NpyArray out;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) out.shape.push_back(a.shape(i));
  std::vector<double>* f = &out.f64;
  std::vector<std::int64_t>* n = &out.i64;
  if (kind == 'f' && size == 8) {
    out.dtype = ntp::NpyDtype::kFloat64;
    copy_values<double>(a, f, nullptr);
  } else if (kind == 'f' && size == 4) {
    out.dtype = ntp::NpyDtype::kFloat32;
    copy_values<float>(a, f, nullptr);
  } else if (kind == 'i' && size == 8) {
    out.dtype = ntp::NpyDtype::kInt64;
    copy_values<std::int64_t>(a, nullptr, n);
  } else if (kind == 'u' && size == 8) {
    // Not a .npy dtype the reader knows, but an integer all the same (e.g. np.uint64 steps):
    // as int64 (values beyond 2^63 - 1, far beyond any limit, saturate).
    out.dtype = ntp::NpyDtype::kInt64;
    const auto c = py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!c) throw py::error_already_set();
    out.i64.resize(static_cast<std::size_t>(c.size()));
    for (py::ssize_t i = 0; i < c.size(); ++i) {
      const std::uint64_t v = c.data()[i];
      out.i64[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(
          std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
    }
  } else if (kind == 'i' && size == 4) {
    out.dtype = ntp::NpyDtype::kInt32;
    copy_values<std::int32_t>(a, nullptr, n);
  } else if (kind == 'i' && size == 2) {
    out.dtype = ntp::NpyDtype::kInt16;
    copy_values<std::int16_t>(a, nullptr, n);
  } else if (kind == 'i' && size == 1) {
    out.dtype = ntp::NpyDtype::kInt8;
    copy_values<std::int8_t>(a, nullptr, n);
  } else if (kind == 'u' && size == 4) {
    out.dtype = ntp::NpyDtype::kUInt32;
    copy_values<std::uint32_t>(a, nullptr, n);
  } else if (kind == 'u' && size == 2) {
    out.dtype = ntp::NpyDtype::kUInt16;
    copy_values<std::uint16_t>(a, nullptr, n);
  } else if (kind == 'u' && size == 1) {
    out.dtype = ntp::NpyDtype::kUInt8;
    copy_values<std::uint8_t>(a, nullptr, n);
  } else if (kind == 'b' && size == 1) {
    out.dtype = ntp::NpyDtype::kBool;
    copy_values<bool>(a, nullptr, n);
  } else {
    throw ntp::InvalidInput(refusal + dtype_code(dt));
  }
  return out;
}

/** A NumPy array is given, or None. */
bool given(const py::object& o) { return !o.is_none(); }

/** repr(value) on one line, at most 60 characters (messages are one line). */
std::string shown_value(const py::handle& value) {
  std::string s = py::repr(value).cast<std::string>();
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

/**
 * A step size as an exact positive rational, with the CLI's --eta rules: a str is parsed exactly
 * ("0.01" is 1/100, "1/3"); an int or fractions.Fraction is taken exactly (numerator/denominator);
 * a float (or numpy.float32/float64) is the exact dyadic rational it holds.
 */
ntp::Rational positive_rational(const py::object& value, const std::string& field) {
  const auto bad = [&](const std::string& shown) {
    return ntp::InvalidInput("invalid option: " + field + " must be a positive number, got " +
                             shown);
  };
  if (py::isinstance<py::str>(value)) {
    const auto text = value.cast<std::string>();
    const auto q = ntp::parse_rational(text);
    if (!q || *q <= 0) throw bad("\"" + text + "\"");
    return *q;
  }
  if (py::isinstance<py::bool_>(value)) throw bad(shown_value(value));
  if (py::hasattr(value, "numerator") && py::hasattr(value, "denominator") &&
      py::isinstance<py::int_>(value.attr("numerator")) &&
      py::isinstance<py::int_>(value.attr("denominator"))) {
    const std::string text = py::str(value.attr("numerator")).cast<std::string>() + "/" +
                             py::str(value.attr("denominator")).cast<std::string>();
    const auto q = ntp::parse_rational(text);
    if (!q || *q <= 0) throw bad(shown_value(value));
    return *q;
  }
  if (PyFloat_Check(value.ptr()) || py::hasattr(value, "__float__")) {
    double x = 0;
    try {
      x = value.cast<double>();        // numpy.float32 widens exactly
    } catch (const py::cast_error&) {  // e.g. an array of several values
      throw bad(shown_value(value));
    }
    if (!std::isfinite(x) || !(x > 0)) throw bad(py::repr(py::float_(x)).cast<std::string>());
    return ntp::rational_from_double(x);  // every double is a dyadic rational: exact
  }
  throw bad(shown_value(value));
}

py::array_t<double> matrix_to_numpy(const Eigen::MatrixXd& M) {
  py::array_t<double> out({static_cast<py::ssize_t>(M.rows()), static_cast<py::ssize_t>(M.cols())});
  Eigen::Map<RowMajor>(out.mutable_data(), M.rows(), M.cols()) = M;
  return out;
}

// --- module functions -------------------------------------------------------------------------

PyInstance load(const std::string& arg) {
  py::gil_scoped_release release;
  return PyInstance(ntp::load_instance(arg));
}

PyInstance from_json(const std::string& text) {
  py::gil_scoped_release release;
  return PyInstance(ntp::read_instance_json(text, "<string>"));
}

PyInstance generate(const std::string& family, const py::object& seed,
                    std::optional<std::int64_t> V, std::optional<std::int64_t> d,
                    std::optional<std::int64_t> m, std::optional<std::int64_t> support_size,
                    double alpha) {
  ntp::GeneratorOptions g;
  g.family = family;
  // The CLI's seed rules (an integer in [0, 2^64)), whatever Python object is given.
  g.seed = ntp::parse_seed(py::str(seed).cast<std::string>(), "--seed");
  g.vocab_size = V.value_or(-1);
  g.embedding_dim = d.value_or(-1);
  g.num_contexts = m.value_or(-1);
  g.support_size = support_size.value_or(-1);
  g.dirichlet_alpha = alpha;
  py::gil_scoped_release release;
  return PyInstance(ntp::generate(g));
}

py::dict analyze(const PyInstance& inst, const std::string& precision, double excess) {
  ntp::AnalyzeOptions opt;
  opt.precision = ntp::parse_precision(precision, "--precision");
  if (!(excess > 0) || !std::isfinite(excess)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", excess);  // as the CLI prints it
    throw ntp::InvalidInput("invalid option: --excess must be finite and > 0, got " +
                            std::string(buf));
  }
  opt.attainment.epsilon = excess;
  ntp::AnalyzeResult res;
  {
    py::gil_scoped_release release;
    res = ntp::analyze(inst.data(), opt);
  }
  return to_python(res.report);
}

py::dict result_dict(const ntp::VerifyResult& r) {
  py::dict out;
  out["verdict"] = r.report.value("verdict", std::string());
  out["passed"] = r.exit == ntp::ExitCode::kAllHold;
  out["exit_code"] = static_cast<int>(r.exit);
  if (r.report.contains("trajectory")) {
    out["first_failing_step"] = to_python(r.report["trajectory"]["first_failing_step"]);
  }
  try {
    out["summary"] = ntp::format_verify(r.report);
  } catch (const std::exception& e) {
    // The verdict stands; only its text could not be made.
    out["summary"] = std::string("(no summary: format_verify failed: ") + e.what() + ")";
  }
  out["report"] = to_python(r.report);
  return out;
}

std::optional<Eigen::MatrixXd> initial_weights(const py::object& W0,
                                               const ntp::InstanceData& data) {
  if (!given(W0)) return std::nullopt;
  const ntp::NpyArray a = to_npy_array(W0, "array W0: dtype must be float32 or float64, got ");
  return ntp::candidate_weights_from_array(a, data.vocab_size, data.embedding_dim, "array W0").W;
}

py::dict verify_weights(const PyInstance& inst, const py::object& W, const py::object& W0,
                        std::optional<std::int64_t> steps_taken,
                        std::optional<double> reported_loss, const std::string& truth,
                        bool reference_objects, const std::string& optimizer) {
  const ntp::InstanceData& data = inst.data();
  ntp::VerifyOptions opt;
  // Adam scales each entry, so 1^T (W - W0) = 0 and the row span hold for GD and NGD only.
  opt.gd_invariants = ntp::parse_optimizer(optimizer) != ntp::OptimizerKind::kAdam;
  opt.truth = ntp::parse_precision(truth, "--truth");
  opt.reference_objects = reference_objects;
  if (steps_taken) {
    if (*steps_taken < 0 || *steps_taken > ntp::kMaxVerifySteps) {
      throw ntp::InvalidInput("invalid option: --steps-taken must be in [0, " +
                              std::to_string(ntp::kMaxVerifySteps) + "], got " +
                              std::to_string(*steps_taken));
    }
    opt.steps_taken = *steps_taken;
  }
  if (reported_loss) opt.reported_loss = *reported_loss;
  const ntp::NpyArray a = to_npy_array(W, "array W: dtype must be float32 or float64, got ");
  const ntp::CandidateWeights cand =
      ntp::candidate_weights_from_array(a, data.vocab_size, data.embedding_dim, "array W");
  const std::optional<Eigen::MatrixXd> w0 = initial_weights(W0, data);
  ntp::VerifyResult r;
  {
    py::gil_scoped_release release;
    r = ntp::verify_weights(data, cand, w0 ? &*w0 : nullptr, opt);
  }
  return result_dict(r);
}

py::dict verify_trajectory(const PyInstance& inst, const py::object& steps, const py::object& W,
                           const std::string& optimizer, const py::object& eta,
                           const py::object& W0, const py::object& loss, const std::string& truth,
                           std::optional<double> factor, std::optional<double> tolerance,
                           bool reference_objects, double max_seconds) {
  const ntp::InstanceData& data = inst.data();
  if (!(max_seconds >= 0) || !std::isfinite(max_seconds)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", max_seconds);  // as the CLI prints it
    throw ntp::InvalidInput(
        "invalid option: --max-seconds must be a non-negative number (0: no limit), got " +
        std::string(buf));
  }
  ntp::OptimizerOptions opt;
  opt.kind = ntp::parse_optimizer(optimizer);
  opt.eta =
      given(eta) ? positive_rational(eta, "--eta") : ntp::default_eta(opt.kind, inst.summary());
  ntp::VerifyOptions vopt;
  vopt.truth = ntp::parse_precision(truth, "--truth");
  vopt.reference_objects = reference_objects;
  // Checked by the library (check_options), with the CLI's messages.
  if (factor) vopt.factor = *factor;
  if (tolerance) vopt.tolerance = *tolerance;
  const std::string what = "trajectory";
  std::map<std::string, ntp::NpyArray> arrays;
  arrays.emplace("step",
                 to_npy_array(steps, what + ": array step must have an integer dtype, got "));
  arrays.emplace("W", to_npy_array(W, what + ": array W must be float32 or float64, got "));
  if (given(loss)) {
    arrays.emplace("loss",
                   to_npy_array(loss, what + ": array loss must be float32 or float64, got "));
  }
  const ntp::CandidateTrajectory cand =
      ntp::candidate_trajectory_from_arrays(arrays, data.vocab_size, data.embedding_dim, what);
  arrays.clear();
  const std::optional<Eigen::MatrixXd> w0 = initial_weights(W0, data);
  // The replay may take minutes: it stops at max_seconds (VerifyOptions::max_seconds, the CLI's
  // --max-seconds: later checkpoints are not compared, the report is partial) or at Ctrl-C,
  // checked here with the GIL taken back at most every 0.1 s.
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_check = Clock::now();
  bool interrupted = false;
  const ntp::ProgressFn progress = [&](std::int64_t, std::int64_t) {
    if (interrupted) return false;  // both replays stop (a signal is reported once)
    const Clock::time_point now = Clock::now();
    if (now - last_check >= std::chrono::milliseconds(100)) {
      last_check = now;
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {  // the exception (KeyboardInterrupt) stays set
        interrupted = true;
        return false;
      }
    }
    return true;
  };
  vopt.max_seconds = max_seconds;  // the truth replay gets the budget, double follows it
  ntp::VerifyResult r;
  {
    py::gil_scoped_release release;
    r = ntp::verify_trajectory(data, cand, opt, w0 ? &*w0 : nullptr, vopt, progress);
  }
  if (interrupted) throw py::error_already_set();
  return result_dict(r);
}

py::dict loss(const PyInstance& inst, const py::object& W) {
  const ntp::InstanceData& data = inst.data();
  const ntp::NpyArray a = to_npy_array(W, "array W: dtype must be float32 or float64, got ");
  const ntp::CandidateWeights cand =
      ntp::candidate_weights_from_array(a, data.vocab_size, data.embedding_dim, "array W");
  const ntp::Instance<double>& in = inst.in_double();
  ntp::LossValue<double> v;
  Eigen::MatrixXd G(in.V, in.d);
  {
    py::gil_scoped_release release;
    ntp::LossWorkspace<double> ws(in);
    v = ntp::loss_and_gradient(in, cand.W, ws, &G);
  }
  py::dict out;
  out["ce"] = v.ce;
  out["excess"] = v.excess;
  out["min_gap"] = v.min_gap;
  out["has_out_of_support"] = v.has_out_of_support;
  out["grad"] = matrix_to_numpy(G);
  return out;
}

py::dict summary_dict(const PyInstance& inst) {
  const ntp::InstanceSummary& s = inst.summary();
  py::dict j;
  j["name"] = inst.data().name;
  j["V"] = s.V;
  j["d"] = s.d;
  j["m"] = s.m;
  j["support_min"] = s.support_min;
  j["support_max"] = s.support_max;
  j["support_mean"] = s.support_mean;
  j["tokens_in_no_support"] = s.tokens_in_no_support;
  j["all_one_hot"] = s.all_one_hot;
  j["entropy"] = s.entropy;
  j["smoothness_L"] = s.smoothness_L;
  j["smoothness_L_crude"] = s.smoothness_L_crude;
  j["default_gd_eta"] = ntp::default_gd_eta(s);
  j["embedding_rank"] = s.embedding_rank;
  j["max_embedding_norm"] = s.max_embedding_norm;
  return j;
}

void raise(PyObject* cls, const ntp::Error& e, py::object problems) {
  py::object exc = py::reinterpret_borrow<py::object>(cls)(py::str(e.what()));
  exc.attr("exit_code") = static_cast<int>(e.exit_code());
  exc.attr("problems") = std::move(problems);
  PyErr_SetObject(cls, exc.ptr());
}

}  // namespace

PYBIND11_MODULE(ntpcheck, mod) {
  mod.doc() =
      "ntpcheck: check linear next-token-prediction training against the theory "
      "(Thrampoulidis, NeurIPS 2024).\n\n"
      "Instances: load(), generate(), from_json() -> Instance. Certified objects: analyze(). "
      "Regression checks of another implementation: verify_weights(), verify_trajectory().\n"
      "Errors: ntpcheck.InvalidInput (a ValueError) for bad input, ntpcheck.Error (a "
      "RuntimeError) for the rest; both carry the CLI's one-line message and exit_code.";

  g_error = PyErr_NewException("ntpcheck.Error", PyExc_RuntimeError, nullptr);
  {
    py::tuple bases = py::make_tuple(py::handle(PyExc_ValueError), py::handle(g_error));
    g_invalid_input = PyErr_NewException("ntpcheck.InvalidInput", bases.ptr(), nullptr);
  }
  if (g_error == nullptr || g_invalid_input == nullptr) throw py::error_already_set();
  mod.attr("Error") = py::handle(g_error);
  mod.attr("InvalidInput") = py::handle(g_invalid_input);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ntp::InvalidInput& e) {
      py::list problems;
      for (const ntp::Problem& q : e.problems()) problems.append(py::make_tuple(q.path, q.message));
      raise(g_invalid_input, e, std::move(problems));
    } catch (const ntp::Error& e) {
      raise(g_error, e, py::list());
    }
  });

  mod.attr("__version__") = NTPCHECK_VERSION;
  mod.attr("MAX_VERIFY_STEPS") = ntp::kMaxVerifySteps;

  py::class_<PyInstance>(mod, "Instance",
                         "An exact NTP instance (theory.md §1): contexts j = 1..m with embeddings "
                         "h_j in R^d, weights pi_j and next-token distributions p_j over V tokens. "
                         "Array properties are new float64 NumPy arrays, each value the nearest "
                         "double to the exact rational.")
      .def_property_readonly(
          "V", [](const PyInstance& i) { return i.data().vocab_size; }, "vocabulary size")
      .def_property_readonly(
          "d", [](const PyInstance& i) { return i.data().embedding_dim; }, "embedding dimension")
      .def_property_readonly(
          "m", [](const PyInstance& i) { return i.data().num_contexts(); }, "number of contexts")
      .def_property_readonly(
          "name", [](const PyInstance& i) { return i.data().name; }, "the instance's name")
      .def_property_readonly(
          "description", [](const PyInstance& i) { return i.data().description; },
          "the instance's description")
      .def_property_readonly(
          "entropy", [](const PyInstance& i) { return i.summary().entropy; },
          "H = -sum_j pi_j sum_z p_jz log p_jz (double)")
      .def_property_readonly(
          "H", [](const PyInstance& i) { return matrix_to_numpy(i.in_double().Hbar); },
          "the embeddings Hbar = [h_1 .. h_m], d x m float64")
      .def_property_readonly(
          "pi",
          [](const PyInstance& i) {
            const auto& pi = i.in_double().pi;
            py::array_t<double> out(static_cast<py::ssize_t>(pi.size()));
            std::memcpy(out.mutable_data(), pi.data(), sizeof(double) * pi.size());
            return out;
          },
          "context weights pi (m), summing to 1")
      .def_property_readonly(
          "P",
          [](const PyInstance& i) {
            const ntp::Instance<double>& in = i.in_double();
            py::array_t<double> out(
                {static_cast<py::ssize_t>(in.m), static_cast<py::ssize_t>(in.V)});
            auto P = Eigen::Map<RowMajor>(out.mutable_data(), in.m, in.V);
            P.setZero();
            for (std::int64_t j = 0; j < in.m; ++j) {
              for (std::int64_t e = in.offset[j]; e < in.offset[j + 1]; ++e)
                P(j, in.token[e]) = in.prob[e];
            }
            return out;
          },
          "dense next-token probabilities P (m x V): row j is p_j")
      .def_property_readonly(
          "supports",
          [](const PyInstance& i) {
            const ntp::Instance<double>& in = i.in_double();
            std::vector<std::vector<std::int64_t>> s(static_cast<std::size_t>(in.m));
            for (std::int64_t j = 0; j < in.m; ++j) {
              for (std::int64_t e = in.offset[j]; e < in.offset[j + 1]; ++e)
                s[j].push_back(in.token[e]);
            }
            return s;
          },
          "the supports S_j (0-based token ids, ascending), one list per context")
      .def(
          "to_json", [](const PyInstance& i) { return ntp::instance_to_json(i.data()).dump(1); },
          "The instance file text (format ntp-instance, lossless).")
      .def("summary", &summary_dict,
           "The summary of `ntpcheck info`: sizes, support statistics, H, the smoothness constant "
           "L = (1/2) lambda_max(sum_j pi_j h_j h_j^T), the default GD step 1/(2L), the rank.")
      .def("__repr__", [](const PyInstance& i) {
        return "<ntpcheck.Instance name='" + i.data().name +
               "' V=" + std::to_string(i.data().vocab_size) +
               " d=" + std::to_string(i.data().embedding_dim) +
               " m=" + std::to_string(i.data().num_contexts()) + ">";
      });

  mod.def("load", &load, py::arg("arg"),
          "load(arg) -> Instance\n\n"
          "The instance `arg` names: an instance file (docs/formats.md), or '@FAMILY[:SEED]' for a "
          "generated one (e.g. '@paper-main', '@paper-toy:7'). Raises InvalidInput (malformed "
          "file, unknown family, bad seed) or Error (unreadable file; exit_code 3).");
  mod.def("from_json", &from_json, py::arg("text"),
          "from_json(text) -> Instance\n\nParses and validates instance file text.");
  mod.def("generate", &generate, py::arg("family"), py::arg("seed") = 1, py::arg("V") = py::none(),
          py::arg("d") = py::none(), py::arg("m") = py::none(),
          py::arg("support_size") = py::none(), py::arg("alpha") = 1.0,
          "generate(family, seed=1, V=None, d=None, m=None, support_size=None, alpha=1.0) -> "
          "Instance\n\n"
          "A seeded instance of a generator family (`ntpcheck generate --help`): "
          "overparameterized, one-hot, paper-toy, paper-main, incompatible, inseparable, "
          "underparameterized. None means the family's default; alpha is the Dirichlet "
          "concentration of the probabilities. Bit-identical on every platform.");
  mod.def("analyze", &analyze, py::arg("inst"), py::arg("precision") = "double",
          py::arg("excess") = 1e-6,
          "analyze(inst, precision='double', excess=1e-6) -> dict\n\n"
          "The certified objects of `ntpcheck analyze --json` (the stable 'ntp-analysis' report, "
          "docs/formats.md): H, dim F, compatibility (C) and separability (6) with certificates, "
          "W* (enclosure), W^mm (exact), bound (9). report['status'] is 'decided', "
          "'inconclusive' or 'claim_violated'. Seconds on paper-main; the GIL is released.");
  mod.def("verify_weights", &verify_weights, py::arg("inst"), py::arg("W"),
          py::arg("W0") = py::none(), py::arg("steps_taken") = py::none(),
          py::arg("reported_loss") = py::none(), py::arg("truth") = "dd",
          py::arg("reference_objects") = true, py::arg("optimizer") = "gd",
          "verify_weights(inst, W, W0=None, steps_taken=None, reported_loss=None, truth='dd', "
          "reference_objects=True, optimizer='gd') -> dict\n\n"
          "The point check of `ntpcheck verify --weights` for one candidate W (V x d, float32 or "
          "float64; its dtype sets the candidate's epsilon): CE and CE - H in the truth precision, "
          "||P_F(W) - W*||, cos(P_perp W, W^mm) (when reference_objects), the column-sum and "
          "row-span invariants of W - W0 (W0: the initialisation, zero when None), per-context "
          "log-odds errors, and the reported loss when given. steps_taken scales the invariant "
          "bounds (None: 10^4 assumed); optimizer='adam' marks the invariants not applicable "
          "(Adam scales each entry). Returns {'verdict': 'holds' | 'violated' | 'inconclusive', "
          "'passed', 'exit_code' (0/1/2 as the CLI), 'summary' (text), 'report' (the "
          "'ntp-verify' report)}.");
  mod.def("verify_trajectory", &verify_trajectory, py::arg("inst"), py::arg("steps"), py::arg("W"),
          py::arg("optimizer") = "gd", py::arg("eta") = py::none(), py::arg("W0") = py::none(),
          py::arg("loss") = py::none(), py::arg("truth") = "dd", py::arg("factor") = py::none(),
          py::arg("tolerance") = py::none(), py::arg("reference_objects") = true,
          py::arg("max_seconds") = 0.0,
          "verify_trajectory(inst, steps, W, optimizer='gd', eta=None, W0=None, loss=None, "
          "truth='dd', factor=None, tolerance=None, reference_objects=True, max_seconds=0) -> "
          "dict\n\n"
          "The differential check of `ntpcheck verify --trajectory`: replays the optimizer "
          "('gd', 'ngd' or 'adam'; Adam with betas 0.9, 0.99 and epsilon 1e-8) from W0 (zero when "
          "None) in double and in `truth`, and at every checkpoint k of the candidate requires\n"
          "    e_c(k) <= factor (u_c/u_d) e_d(k) + tolerance u_c (k + 1)\n"
          "(src/ntp/verify.hpp). steps: integer array [K], strictly increasing; W: float32 or "
          "float64 array [K, V, d] (float32 keeps u_c = 2^-24), any memory order; loss: the "
          "candidate's CE per checkpoint (optional). eta: a float (taken exactly: every double is "
          "a dyadic rational), an int, or a string such as '1/2' or '0.01' (exact); None: the "
          "default of `ntpcheck train` (1/(2L) for GD, 0.01 for NGD and Adam). factor and "
          "tolerance: None for the defaults (16 and 16). reference_objects: also compute W* and "
          "W^mm for the point check of the last checkpoint (seconds on paper-main). Returns the "
          "dict of verify_weights plus 'first_failing_step' (None when every checkpoint passes); "
          "report['trajectory'] has the per-checkpoint errors, the first failure and its worst "
          "entry. max_seconds > 0 stops the replay after that time (later checkpoints are not "
          "compared: report['partial'], verdict 'inconclusive' unless a compared one failed). The "
          "GIL is released during the replay; Ctrl-C interrupts it (KeyboardInterrupt).");
  mod.def("loss", &loss, py::arg("inst"), py::arg("W"),
          "loss(inst, W) -> dict\n\n"
          "The reference loss kernel in double at W (V x d): {'ce', 'excess' (CE - H in KL form), "
          "'min_gap', 'has_out_of_support', 'grad' (V x d float64)}.");
  mod.def(
      "log_grid",
      [](std::int64_t steps, int points_per_decade) {
        if (steps < 0 || steps > ntp::kMaxVerifySteps) {
          throw ntp::InvalidInput("invalid option: --steps must be in [0, " +
                                  std::to_string(ntp::kMaxVerifySteps) + "], got " +
                                  std::to_string(steps));
        }
        if (points_per_decade < 0 || points_per_decade > 1000) {
          throw ntp::InvalidInput("invalid option: --points-per-decade must be in [0, 1000], got " +
                                  std::to_string(points_per_decade));
        }
        const std::vector<std::int64_t> g = ntp::log_grid(steps, points_per_decade);
        py::array_t<std::int64_t> out(static_cast<py::ssize_t>(g.size()));
        std::memcpy(out.mutable_data(), g.data(), sizeof(std::int64_t) * g.size());
        return out;
      },
      py::arg("steps"), py::arg("points_per_decade") = 10,
      "log_grid(steps, points_per_decade=10) -> int64 array\n\n"
      "The record grid of `ntpcheck train`: 0..min(10, steps), then points_per_decade per decade, "
      "and steps.");
  mod.def(
      "default_eta",
      [](const PyInstance& inst, const std::string& optimizer) {
        return ntp::rational_to_double(
            ntp::default_eta(ntp::parse_optimizer(optimizer), inst.summary()));
      },
      py::arg("inst"), py::arg("optimizer") = "gd",
      "default_eta(inst, optimizer='gd') -> float\n\n"
      "The default step of `ntpcheck train`: 1/(2L) for GD (the setting of [T Thm 2]), 0.01 for "
      "NGD and Adam.");
}
