#pragma once
// Small JSON-schema-like checks for request bodies. Each failure is a 400 whose detail starts
// "JSON does not validate:" (as Placement's jsonschema errors do) and names the field.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "placement/api/request_context.h"

namespace bwfloor::placement::json_checks {

using nlohmann::json;

ApiError invalid(const std::string& why);
// Content-Type must be application/json (415) and the body must parse (400).
ApiResult<json> parseBody(const RequestContext& ctx);
// Only the media type (util.require_content, which runs before the handler's own checks).
ApiStatus requireJsonContent(const RequestContext& ctx);
// Placement's util.extract_json after the media-type check: the body must parse, then validate
// against Placement's schema `schemaName` ("inventory.POST_INVENTORY_SCHEMA"); the 400 reads as
// jsonschema's error does.
ApiResult<json> parseBody(const RequestContext& ctx, std::string_view schemaName);
// util.validate_query_params: the query string as a dict (the last value of a repeated key)
// against Placement's schema; "Invalid query string parameters: ..." when it does not validate.
ApiStatus validateQuery(const RequestContext& ctx, std::string_view schemaName);
// JSON text from a request: a 400 when it nests deeper than kMaxJsonDepth or is not JSON.
ApiResult<json> parseJsonText(std::string_view text);
ApiStatus requireObject(const json& value, const std::string& where);
ApiStatus onlyKeys(const json& obj, std::initializer_list<const char*> allowed,
                   const std::string& where);
ApiStatus requireKeys(const json& obj, std::initializer_list<const char*> required,
                      const std::string& where);
ApiResult<int64_t> getInt(const json& obj, const char* key, int64_t minValue, int64_t maxValue,
                          std::optional<int64_t> fallback = std::nullopt);
ApiResult<std::string> getString(const json& obj, const char* key, size_t minLen, size_t maxLen);
// Canonical lower-case dashed uuid; accepts undashed hex as Placement does.
std::optional<std::string> normalizeUuid(const std::string& text);
ApiResult<std::string> getUuid(const json& obj, const char* key);
std::string typeName(const json& value);

}  // namespace bwfloor::placement::json_checks
