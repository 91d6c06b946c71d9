#include "placement/api/json_checks.h"

#include <algorithm>
#include <cctype>

#include "core/json_depth.h"
#include "http/message.h"
#include "placement/api/json_schema.h"

namespace bwfloor::placement::json_checks {

ApiError invalid(const std::string& why) { return badRequest("JSON does not validate: " + why); }

std::string typeName(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "boolean";
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  if (value.is_string()) return "string";
  if (value.is_array()) return "array";
  return "object";
}

namespace {

// The media type of a Content-Type value, without parameters or spaces, as webob's
// req.content_type gives it ("application/json; charset=UTF-8" -> "application/json").
std::string mediaType(const std::string& value) {
  std::string type = value.substr(0, value.find(';'));
  type.erase(0, type.find_first_not_of(" \t"));
  type.erase(type.find_last_not_of(" \t") + 1);
  return type;
}

}  // namespace

ApiStatus requireJsonContent(const RequestContext& ctx) {
  const std::string* header = ctx.req.headers.find("content-type");
  std::string type = header ? mediaType(*header) : std::string();
  if (!http::iequals(type, "application/json")) {
    return ApiError{Errc::kUnsupportedMediaType,
                    "The media type " + (type.empty() ? std::string("None") : type) +
                        " is not supported, use application/json",
                    "placement.undefined_code"};
  }
  return ApiStatus::ok();
}

ApiResult<json> parseBody(const RequestContext& ctx) {
  RETURN_IF_ERROR(requireJsonContent(ctx));
  return parseJsonText(ctx.req.body);
}

ApiResult<json> parseBody(const RequestContext& ctx, std::string_view schemaName) {
  ASSIGN_OR_RETURN(json body, parseBody(ctx));
  const auto instance = python::Value::parse(ctx.req.body, nullptr, false);
  if (auto error = schema::validate(instance, schema::named(schemaName))) {
    return invalid(*error);
  }
  return body;
}

ApiStatus validateQuery(const RequestContext& ctx, std::string_view schemaName) {
  python::Value params = python::Value::object();
  for (const auto& [key, value] : ctx.query) params[key] = value;
  if (auto error = schema::validate(params, schema::named(schemaName))) {
    return badRequest("Invalid query string parameters: " + *error);
  }
  return ApiStatus::ok();
}

ApiResult<json> parseJsonText(std::string_view text) {
  if (jsonTooDeep(text)) {
    return badRequest("Malformed JSON: the request body nests deeper than " +
                      std::to_string(kMaxJsonDepth) + " levels");
  }
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) {
    return badRequest("Malformed JSON: the request body is not valid JSON");
  }
  return body;
}

ApiStatus requireObject(const json& value, const std::string& where) {
  if (!value.is_object()) return invalid(where + " must be an object, not " + typeName(value));
  return ApiStatus::ok();
}

ApiStatus onlyKeys(const json& obj, std::initializer_list<const char*> allowed,
                   const std::string& where) {
  for (const auto& item : obj.items()) {
    const std::string& key = item.key();
    bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; });
    if (!ok) {
      return invalid("Additional properties are not allowed ('" + key + "' was unexpected) in " +
                     where);
    }
  }
  return ApiStatus::ok();
}

ApiStatus requireKeys(const json& obj, std::initializer_list<const char*> required,
                      const std::string& where) {
  for (const char* key : required) {
    if (!obj.contains(key))
      return invalid("'" + std::string(key) + "' is a required property in " + where);
  }
  return ApiStatus::ok();
}

ApiResult<int64_t> getInt(const json& obj, const char* key, int64_t minValue, int64_t maxValue,
                          std::optional<int64_t> fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (fallback) return *fallback;
    return invalid("'" + std::string(key) + "' is a required property");
  }
  if (!it->is_number_integer()) {
    return invalid("'" + std::string(key) + "': " + it->dump() + " is not of type 'integer'");
  }
  int64_t v = it->get<int64_t>();
  if (v < minValue) {
    return invalid("'" + std::string(key) + "': " + std::to_string(v) +
                   " is less than the minimum of " + std::to_string(minValue));
  }
  if (v > maxValue) {
    return invalid("'" + std::string(key) + "': " + std::to_string(v) +
                   " is greater than the maximum of " + std::to_string(maxValue));
  }
  return v;
}

ApiResult<std::string> getString(const json& obj, const char* key, size_t minLen, size_t maxLen) {
  auto it = obj.find(key);
  if (it == obj.end()) return invalid("'" + std::string(key) + "' is a required property");
  if (!it->is_string()) {
    return invalid("'" + std::string(key) + "': " + it->dump() + " is not of type 'string'");
  }
  std::string v = it->get<std::string>();
  if (v.size() < minLen) return invalid("'" + std::string(key) + "': '" + v + "' is too short");
  if (v.size() > maxLen) return invalid("'" + std::string(key) + "': '" + v + "' is too long");
  return v;
}

std::optional<std::string> normalizeUuid(const std::string& text) {
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 32) return std::nullopt;
  if (text.size() == 36 &&
      (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')) {
    return std::nullopt;
  }
  if (text.size() != 36 && text.size() != 32) return std::nullopt;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

ApiResult<std::string> getUuid(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return invalid("'" + std::string(key) + "' is a required property");
  if (!it->is_string()) {
    return invalid("'" + std::string(key) + "': " + it->dump() + " is not of type 'string'");
  }
  auto uuid = normalizeUuid(it->get<std::string>());
  if (!uuid) return invalid("'" + std::string(key) + "': " + it->dump() + " is not a 'uuid'");
  return *uuid;
}

}  // namespace bwfloor::placement::json_checks
