#pragma once
/** @file errors.hpp
 * The error hierarchy of ntpcheck. Errors say that something could not run ("did it run"); findings
 * about the mathematics are verdicts, never exceptions. Messages follow
 * "<what>: <field> <problem>, got <value>" and are one line each.
 */
#include <stdexcept>
#include <string>
#include <vector>

namespace ntp {

/** Documented process exit codes (design.md): the CLI maps results and errors onto these. */
enum class ExitCode : int {
  kAllHold = 0,
  kViolated = 1,
  kInconclusive = 2,
  kInvalidInput = 3,
  kInternalError = 4,
};

/** Base of all ntpcheck errors. */
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  [[nodiscard]] virtual ExitCode exit_code() const noexcept { return ExitCode::kInternalError; }
};

/** One defect of an input, located by its JSON path (e.g. "contexts[3].probabilities[1]"). */
struct Problem {
  std::string path;
  std::string message;  ///< "<problem>, got <value>"
};

/**
 * Bad input: a file, an argument or a value that does not meet the documented format. Carries every
 * problem found (validation does not stop at the first); what() is the first one on one line.
 */
class InvalidInput : public Error {
 public:
  explicit InvalidInput(std::string what_and_where)
      : Error(what_and_where), problems_{{"", std::move(what_and_where)}} {}
  InvalidInput(const std::string& what, std::vector<Problem> problems)
      : Error(format(what, problems)), problems_(std::move(problems)) {}
  [[nodiscard]] ExitCode exit_code() const noexcept override { return ExitCode::kInvalidInput; }
  [[nodiscard]] const std::vector<Problem>& problems() const noexcept { return problems_; }

 private:
  static std::string format(const std::string& what, const std::vector<Problem>& problems) {
    std::string s = what;
    if (!problems.empty()) {
      s += ": " + (problems.front().path.empty() ? "" : problems.front().path + " ") +
           problems.front().message;
      if (problems.size() > 1) {
        s += " (and " + std::to_string(problems.size() - 1) + " more problem" +
             (problems.size() > 2 ? "s" : "") + ")";
      }
    }
    return s;
  }
  std::vector<Problem> problems_;
};

/** A failure of ntpcheck itself or of a library it calls (a bug, an I/O failure, a solver failure).
 */
class InternalError : public Error {
 public:
  using Error::Error;
};

/** An input or output file could not be read or written (treated as invalid input: exit 3). */
class IoError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const noexcept override { return ExitCode::kInvalidInput; }
};

}  // namespace ntp
