#include "placement/api/json_schema.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace bwfloor::placement::schema {
namespace {

using python::Value;

const char* const kSchemasJson =
#include "placement/api/schemas/placement_schemas.inc"
    ;

// One jsonschema ValidationError: paths are relative to where its keyword was evaluated, as
// jsonschema keeps them (descend() prepends while errors bubble up; context errors keep theirs).
struct Error {
  std::string message;
  std::string keyword;
  std::deque<Value> path;        // instance path: keys (strings) and indices
  std::deque<Value> schemaPath;  // ends with the keyword
  Value instance;
  Value schema;  // the (sub)schema holding the keyword
  std::vector<Error> context;
};

bool isType(const Value& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return d == static_cast<double>(static_cast<long long>(d));
  }
  throw std::logic_error("unknown JSON schema type " + type);
}

std::vector<std::string> typesOf(const Value& t) {
  if (t.is_string()) return {t.get<std::string>()};
  std::vector<std::string> out;
  for (const auto& e : t) out.push_back(e.get<std::string>());
  return out;
}

// A JSON integer as Python sees it (any size nlohmann holds).
__int128 wide(const Value& v) {
  return v.is_number_unsigned() ? static_cast<__int128>(v.get<uint64_t>())
                                : static_cast<__int128>(v.get<int64_t>());
}

// Python's == between JSON values (1 == 1.0; True is not 1, as jsonschema's unbool() keeps it).
bool pyEqual(const Value& a, const Value& b) {
  if (a.is_boolean() || b.is_boolean()) return a.is_boolean() && b.is_boolean() && a == b;
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
    return wide(a) == wide(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!pyEqual(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !pyEqual(*it, *other)) return false;
    }
    return true;
  }
  return a == b;
}

// Python's `a < b` for two JSON numbers.
bool pyLess(const Value& a, const Value& b) {
  if (a.is_number_float() || b.is_number_float()) return a.get<double>() < b.get<double>();
  return wide(a) < wide(b);
}

// re.search(pattern, text). Python's `$` also matches before one final newline.
bool search(const std::string& pattern, const std::string& text) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const std::regex>> cache;
  std::shared_ptr<const std::regex> re;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto& slot = cache[pattern];
    if (!slot) slot = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
    re = slot;
  }
  if (std::regex_search(text, *re)) return true;
  return !text.empty() && text.back() == '\n' &&
         std::regex_search(text.substr(0, text.size() - 1), *re);
}

// Placement's own "uuid" format check (util.py registers oslo's uuidutils.is_uuid_like over
// jsonschema's): without "urn:", "uuid:", outer braces and dashes, 32 hex digits.
bool isUuid(const std::string& text) {
  std::string hex = text;
  for (const std::string drop : {"urn:", "uuid:"}) {
    for (size_t at; (at = hex.find(drop)) != std::string::npos;) hex.erase(at, drop.size());
  }
  while (!hex.empty() && (hex.front() == '{' || hex.front() == '}')) hex.erase(0, 1);
  while (!hex.empty() && (hex.back() == '{' || hex.back() == '}')) hex.pop_back();
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  return hex.size() == 32 &&
         std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c); });
}

bool isUnique(const Value& array) {
  for (size_t i = 0; i < array.size(); ++i) {
    for (size_t j = i + 1; j < array.size(); ++j) {
      if (pyEqual(array[i], array[j])) return false;
    }
  }
  return true;
}

std::string sortedReprs(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + python::reprString(item);
  return out;
}

class Validator {
 public:
  std::vector<Error> iterErrors(const Value& instance, const Value& schema) {
    std::vector<Error> errors;
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) {
        errors.push_back({"False schema does not allow " + python::repr(instance),
                          "false",
                          {},
                          {},
                          instance,
                          schema,
                          {}});
      }
      return errors;
    }
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      std::vector<Error> found = keyword(it.key(), *it, instance, schema);
      for (Error& e : found) {
        if (e.keyword.empty()) {  // made by this keyword; a descendant's error keeps its own
          e.keyword = it.key();
          e.instance = instance;
          e.schema = schema;
        }
        e.schemaPath.push_front(it.key());
        errors.push_back(std::move(e));
      }
    }
    return errors;
  }

 private:
  // validator.descend(): the child's errors with `path` / `schemaPath` prepended.
  std::vector<Error> descend(const Value& instance, const Value& schema, const Value* path,
                             const Value* schemaPath) {
    std::vector<Error> errors = iterErrors(instance, schema);
    for (Error& e : errors) {
      if (path) e.path.push_front(*path);
      if (schemaPath) e.schemaPath.push_front(*schemaPath);
    }
    return errors;
  }

  static Error make(std::string message) {
    Error e;
    e.message = std::move(message);
    return e;
  }

  std::vector<Error> keyword(const std::string& k, const Value& v, const Value& instance,
                             const Value& schema) {
    std::vector<Error> out;
    auto r = [&] { return python::repr(instance); };  // only when an error needs it
    auto append = [&](std::vector<Error> more) {
      for (Error& e : more) out.push_back(std::move(e));
    };
    if (k == "type") {
      const auto types = typesOf(v);
      if (std::none_of(types.begin(), types.end(),
                       [&](const auto& t) { return isType(instance, t); })) {
        std::string reprs;
        for (const auto& t : types) reprs += (reprs.empty() ? "" : ", ") + python::reprString(t);
        out.push_back(make(r() + " is not of type " + reprs));
      }
    } else if (k == "properties") {
      if (!instance.is_object()) return out;
      for (auto p = v.begin(); p != v.end(); ++p) {
        auto found = instance.find(p.key());
        if (found == instance.end()) continue;
        const Value key = p.key();
        append(descend(*found, *p, &key, &key));
      }
    } else if (k == "patternProperties") {
      if (!instance.is_object()) return out;
      for (auto p = v.begin(); p != v.end(); ++p) {
        const Value pattern = p.key();
        for (auto i = instance.begin(); i != instance.end(); ++i) {
          if (!search(p.key(), i.key())) continue;
          const Value key = i.key();
          append(descend(*i, *p, &key, &pattern));
        }
      }
    } else if (k == "additionalProperties") {
      if (!instance.is_object()) return out;
      std::vector<std::string> extras = additional(instance, schema);
      if (v.is_object()) {
        for (const auto& extra : extras) {
          const Value key = extra;
          append(descend(instance[extra], v, &key, nullptr));
        }
      } else if (v.is_boolean() && !v.get<bool>() && !extras.empty()) {
        if (schema.contains("patternProperties")) {
          std::vector<std::string> patterns;
          for (auto p = schema["patternProperties"].begin(); p != schema["patternProperties"].end();
               ++p) {
            patterns.push_back(p.key());
          }
          out.push_back(make(sortedReprs(extras) + (extras.size() == 1 ? " does" : " do") +
                             " not match any of the regexes: " + sortedReprs(patterns)));
        } else {
          out.push_back(make("Additional properties are not allowed (" + sortedReprs(extras) +
                             (extras.size() == 1 ? " was" : " were") + " unexpected)"));
        }
      }
    } else if (k == "required") {
      if (!instance.is_object()) return out;
      for (const auto& name : v) {
        if (!instance.contains(name.get<std::string>())) {
          out.push_back(make(python::repr(name) + " is a required property"));
        }
      }
    } else if (k == "minimum" || k == "maximum") {
      if (!instance.is_number()) return out;
      if (k == "minimum" && pyLess(instance, v)) {
        out.push_back(make(r() + " is less than the minimum of " + python::repr(v)));
      } else if (k == "maximum" && pyLess(v, instance)) {
        out.push_back(make(r() + " is greater than the maximum of " + python::repr(v)));
      }
    } else if (k == "minLength" || k == "maxLength") {
      if (!instance.is_string()) return out;
      const size_t len = python::length(instance.get_ref<const std::string&>());
      const auto limit = v.get<size_t>();
      if (k == "minLength" && len < limit) out.push_back(make(r() + " is too short"));
      if (k == "maxLength" && len > limit) out.push_back(make(r() + " is too long"));
    } else if (k == "pattern") {
      if (instance.is_string() && !search(v.get<std::string>(), instance.get<std::string>())) {
        out.push_back(make(r() + " does not match " + python::repr(v)));
      }
    } else if (k == "enum") {
      if (std::none_of(v.begin(), v.end(), [&](const Value& e) { return pyEqual(instance, e); })) {
        out.push_back(make(r() + " is not one of " + python::repr(v)));
      }
    } else if (k == "items") {
      if (!instance.is_array()) return out;
      for (size_t i = 0; i < instance.size(); ++i) {
        const Value index = i;
        append(descend(instance[i], v, &index, nullptr));
      }
    } else if (k == "minItems") {
      if (instance.is_array() && instance.size() < v.get<size_t>())
        out.push_back(make(r() + " is too short"));
    } else if (k == "uniqueItems") {
      if (v.get<bool>() && instance.is_array() && !isUnique(instance)) {
        out.push_back(make(r() + " has non-unique elements"));
      }
    } else if (k == "minProperties") {
      if (instance.is_object() && instance.size() < v.get<size_t>()) {
        out.push_back(make(r() + " does not have enough properties"));
      }
    } else if (k == "format") {
      if (v != "uuid") throw std::logic_error("unsupported JSON schema format " + v.dump());
      if (instance.is_string() && !isUuid(instance.get<std::string>())) {
        out.push_back(make(r() + " is not a 'uuid'"));
      }
    } else if (k == "anyOf") {
      std::vector<Error> all;
      for (size_t i = 0; i < v.size(); ++i) {
        const Value index = i;
        std::vector<Error> errs = descend(instance, v[i], nullptr, &index);
        if (errs.empty()) return out;
        for (Error& e : errs) all.push_back(std::move(e));
      }
      Error e = make(r() + " is not valid under any of the given schemas");
      e.context = std::move(all);
      out.push_back(std::move(e));
    } else if (k == "description" || k == "$schema") {
      // annotations
    } else {
      throw std::logic_error("unsupported JSON schema keyword " + k);
    }
    return out;
  }

  // jsonschema's find_additional_properties: keys neither in properties nor matching any of the
  // patternProperties.
  static std::vector<std::string> additional(const Value& instance, const Value& schema) {
    std::vector<std::string> extras;
    const Value* properties = schema.contains("properties") ? &schema["properties"] : nullptr;
    for (auto i = instance.begin(); i != instance.end(); ++i) {
      if (properties && properties->contains(i.key())) continue;
      bool matched = false;
      if (schema.contains("patternProperties")) {
        for (auto p = schema["patternProperties"].begin(); p != schema["patternProperties"].end();
             ++p) {
          matched = matched || search(p.key(), i.key());
        }
      }
      if (!matched) extras.push_back(i.key());
    }
    return extras;
  }
};

// jsonschema's relevance(): shallow errors first, anyOf/oneOf weak, then errors whose instance
// does not even have the schema's type.
std::tuple<int, bool, bool, bool> relevance(const Error& e) {
  bool matchesType = false;
  if (e.schema.is_object() && e.schema.contains("type")) {
    const auto types = typesOf(e.schema["type"]);
    matchesType = std::any_of(types.begin(), types.end(),
                              [&](const auto& t) { return isType(e.instance, t); });
  }
  return {-static_cast<int>(e.path.size()), e.keyword != "anyOf" && e.keyword != "oneOf", false,
          !matchesType};
}

const Error* bestMatch(const std::vector<Error>& errors) {
  if (errors.empty()) return nullptr;
  const Error* best = &errors.front();
  for (const Error& e : errors) {
    if (relevance(e) > relevance(*best)) best = &e;  // max(): the first of equals
  }
  while (!best->context.empty()) {
    std::vector<const Error*> sorted;
    for (const Error& e : best->context) sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Error* a, const Error* b) { return relevance(*a) < relevance(*b); });
    if (sorted.size() >= 2 && relevance(*sorted[0]) == relevance(*sorted[1])) return best;
    best = sorted[0];
  }
  return best;
}

std::string formatAsIndex(const std::string& container, const std::deque<Value>& indices) {
  if (indices.empty()) return container;
  std::string out = container;
  for (const Value& index : indices) out += "[" + python::repr(index) + "]";
  return out;
}

// pformat() indented as jsonschema's dedent()/indent() leave it: 4 spaces on every line.
std::string indented(const Value& value) {
  std::string text = python::pformat(value, 72);
  std::string out = "    ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

std::string describe(const Error& e) {
  std::deque<Value> schemaPath = e.schemaPath;
  if (!schemaPath.empty()) schemaPath.pop_back();
  std::string text = e.message + "\n\nFailed validating " + python::reprString(e.keyword) + " in " +
                     formatAsIndex("schema", schemaPath) + ":\n" + indented(e.schema) + "\n\nOn " +
                     formatAsIndex("instance", e.path) + ":\n" + indented(e.instance);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
  return text;
}

}  // namespace

const python::Value& named(std::string_view name) {
  static const Value all = Value::parse(kSchemasJson);
  return all.at(std::string(name));
}

std::optional<std::string> validate(const python::Value& instance, const python::Value& schema) {
  Validator validator;
  const std::vector<Error> errors = validator.iterErrors(instance, schema);
  const Error* best = bestMatch(errors);
  if (!best) return std::nullopt;
  return describe(*best);
}

}  // namespace bwfloor::placement::schema
