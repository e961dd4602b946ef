#pragma once
/** @file instance_io.hpp
 * The instance file, schema "ntp-instance" version 1 (docs/formats.md):
 *
 *     {"format": "ntp-instance", "version": 1, "vocab_size": V, "embedding_dim": d,
 *      "contexts": [ {"embedding": [d numbers], "weight": w,
 *                     "next_tokens": [ids], "probabilities": [same length]}, ... ],
 *      "name": "...", "description": "...", "extra": {...}}
 *
 * A context may give "counts" instead of "weight"/"probabilities". Numbers may be JSON numbers
 * (read as the exact double they denote) or strings holding a decimal or a rational.
 */
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "ntp/instance.hpp"

namespace ntp {

/** Parses and validates an instance from JSON text; `source` names the file in messages. */
InstanceData read_instance_json(const std::string& text, const std::string& source);

/** Reads an instance file ("-" is standard input). */
InstanceData read_instance_file(const std::string& path);

/** The instance as JSON (lossless: exact doubles as numbers, other rationals as strings). */
nlohmann::json instance_to_json(const InstanceData& data);

/** A number as JSON: a JSON number when it is exactly a double, else its exact string. */
nlohmann::json rational_to_json(const Rational& q);

}  // namespace ntp
