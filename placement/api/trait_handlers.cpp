// /traits, /resource_providers/{uuid}/traits, /resource_classes and
// /resource_providers/{uuid}/aggregates (handlers/trait.py, resource_class.py, aggregate.py).

#include <algorithm>
#include <cctype>

#include "placement/api/handlers.h"
#include "placement/api/json_checks.h"
#include "placement/api/json_schema.h"

namespace bwfloor::placement::handlers {

using json_checks::json;

namespace {

ApiError noProvider(const std::string& uuid) {
  return trappedNotFound("No resource provider with uuid " + uuid + " found");
}

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

json traitsBody(const Provider& p) {
  return {{"traits", p.traits}, {"resource_provider_generation", p.generation}};
}

json aggregatesBody(const RequestContext& ctx, const Provider& p) {
  json out = {{"aggregates", p.aggregates}};
  if (ctx.version.atLeast(19)) out["resource_provider_generation"] = p.generation;
  return out;
}

json resourceClassJson(const RequestContext& ctx, const std::string& name) {
  return {{"name", name},
          {"links", {{{"rel", "self"}, {"href", ctx.prefix + "/resource_classes/" + name}}}}};
}

// A list of strings as a set: aggregate uuids (schema: format uuid, uniqueItems) or trait names
// (schema: 1-255 characters; duplicates allowed, they collapse).
ApiResult<std::set<std::string>> stringSet(const json& v, const std::string& what, bool uuids) {
  if (!v.is_array()) return json_checks::invalid("'" + what + "' must be an array");
  std::set<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) {
      return json_checks::invalid("'" + what + "': " + item.dump() + " is not of type 'string'");
    }
    std::string s = item.get<std::string>();
    if (uuids) {
      auto u = json_checks::normalizeUuid(s);
      if (!u) return json_checks::invalid("'" + what + "': '" + s + "' is not a 'uuid'");
      s = *u;
    }
    if (!uuids && (s.empty() || s.size() > 255)) {
      return json_checks::invalid("'" + what + "': '" + s + "' is not 1 to 255 characters long");
    }
    if (!out.insert(s).second && uuids) {
      return json_checks::invalid("'" + what + "' has non-unique elements");
    }
  }
  return out;
}

}  // namespace

http::Response listTraits(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  if (auto st = json_checks::validateQuery(ctx, "trait.LIST_TRAIT_SCHEMA"); !st) {
    return errorResponse(ctx, st.error());
  }
  if (auto st = checkQueryKeys(ctx, {"name", "associated"}); !st) {
    return errorResponse(ctx, st.error());
  }
  std::function<bool(const std::string&)> keep = [](const std::string&) { return true; };
  for (const auto& name : queryValues(ctx, "name")) {
    if (name.rfind("in:", 0) == 0) {
      auto wanted = splitComma(name.substr(3));
      std::set<std::string> set(wanted.begin(), wanted.end());
      keep = [set](const std::string& t) { return set.count(t) > 0; };
    } else if (name.rfind("startswith:", 0) == 0) {
      std::string prefix = name.substr(11);
      keep = [prefix](const std::string& t) { return t.rfind(prefix, 0) == 0; };
    } else {
      return errorResponse(ctx, badRequest("Badly formatted name parameter. Expected name query "
                                           "string parameter in form: ?name=[in|startswith]:[name1,"
                                           "name2|prefix]. Got: \"" +
                                           name + "\""));
    }
  }
  std::optional<bool> associated;
  for (const auto& a : queryValues(ctx, "associated")) {
    std::string lower = a;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true") {
      associated = true;
    } else if (lower == "false") {
      associated = false;
    } else {
      return errorResponse(ctx, badRequest("The query parameter \"associated\" only accepts "
                                           "\"true\" or \"false\""));
    }
  }
  return jsonResponse(ctx, 200, {{"traits", model.listTraits(keep, associated)}},
                      std::time(nullptr));
}

http::Response getTrait(PlacementModel& model, RequestContext& ctx) {
  if (!model.traitExists(ctx.param(0))) {
    return errorResponse(ctx, notFound("No such trait(s): " + ctx.param(0) + "."));
  }
  http::Response resp = emptyResponse(ctx, 204);
  if (ctx.version.atLeast(15)) {  // handlers/trait.py: the trait's created_at
    resp.headers.set("last-modified", httpDate(std::time(nullptr)));
    resp.headers.set("cache-control", "no-cache");
  }
  return resp;
}

http::Response putTrait(PlacementModel& model, RequestContext& ctx) {
  auto created = model.createTrait(ctx.param(0));
  if (!created) return errorResponse(ctx, created.error());
  http::Response resp = emptyResponse(ctx, *created ? 201 : 204);
  resp.headers.set("location", absoluteUrl(ctx, ctx.prefix + "/traits/" + ctx.param(0)));
  if (ctx.version.atLeast(15)) {
    resp.headers.set("last-modified", httpDate(std::time(nullptr)));
    resp.headers.set("cache-control", "no-cache");
  }
  return resp;
}

http::Response deleteTrait(PlacementModel& model, RequestContext& ctx) {
  if (auto st = model.deleteTrait(ctx.param(0)); !st) return errorResponse(ctx, st.error());
  return emptyResponse(ctx, 204);
}

http::Response getProviderTraits(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto p = model.getProvider(ctx.param(0));
  if (!p) {  // handlers/trait.py wraps the objects' NotFound
    const std::string missing = "No resource provider with uuid " + ctx.param(0) + " found";
    return errorResponse(ctx, notFound(missing + ": " + missing));
  }
  return jsonResponse(ctx, 200, traitsBody(*p), p->updatedAt);
}

http::Response putProviderTraits(PlacementModel& model, RequestContext& ctx) {
  auto body = json_checks::parseBody(ctx, "trait.SET_TRAITS_FOR_RP_SCHEMA");
  if (!body) return errorResponse(ctx, body.error());
  const json& b = *body;
  if (!b.is_object()) return errorResponse(ctx, json_checks::invalid("the body must be an object"));
  if (auto st = json_checks::onlyKeys(b, {"traits", "resource_provider_generation"}, "the body");
      !st) {
    return errorResponse(ctx, st.error());
  }
  if (auto st = json_checks::requireKeys(b, {"traits", "resource_provider_generation"}, "the body");
      !st) {
    return errorResponse(ctx, st.error());
  }
  auto gen = json_checks::getInt(b, "resource_provider_generation", 0, INT64_MAX);
  if (!gen) return errorResponse(ctx, gen.error());
  auto traits = stringSet(b["traits"], "traits", false);
  if (!traits) return errorResponse(ctx, traits.error());
  auto current = model.getProvider(ctx.param(0));
  if (!current) return errorResponse(ctx, noProvider(ctx.param(0)));
  // Placement checks the generation before the trait names (handlers/trait.py).
  if (current->generation != *gen) {
    return errorResponse(ctx, conflict("Resource provider's generation already changed. Please "
                                       "update the generation and try again.",
                                       kConcurrentUpdate));
  }
  auto p = model.setTraits(ctx.param(0), *gen, *traits);
  if (!p) return errorResponse(ctx, p.error());
  return jsonResponse(ctx, 200, traitsBody(*p), p->updatedAt);
}

http::Response deleteProviderTraits(PlacementModel& model, RequestContext& ctx) {
  if (auto st = model.deleteProviderTraits(ctx.param(0)); !st) {
    return errorResponse(ctx, st.error());
  }
  return emptyResponse(ctx, 204);
}

http::Response listResourceClasses(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  json list = json::array();
  for (const auto& name : model.listResourceClasses()) list.push_back(resourceClassJson(ctx, name));
  return jsonResponse(ctx, 200, {{"resource_classes", list}}, std::time(nullptr));
}

http::Response getResourceClass(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  if (!model.resourceClassExists(ctx.param(0))) {
    return errorResponse(ctx, trappedNotFound("No such resource class " + ctx.param(0) + "."));
  }
  return jsonResponse(ctx, 200, resourceClassJson(ctx, ctx.param(0)), std::time(nullptr));
}

http::Response createResourceClass(PlacementModel& model, RequestContext& ctx) {
  auto body = json_checks::parseBody(ctx, "resource_class.POST_RC_SCHEMA_V1_2");
  if (!body) return errorResponse(ctx, body.error());
  if (!body->is_object()) {
    return errorResponse(ctx, json_checks::invalid("the body must be an object"));
  }
  if (auto st = json_checks::onlyKeys(*body, {"name"}, "the body"); !st) {
    return errorResponse(ctx, st.error());
  }
  auto name = json_checks::getString(*body, "name", 1, 255);
  if (!name) return errorResponse(ctx, name.error());
  auto created = model.createResourceClass(*name, true);
  if (!created) return errorResponse(ctx, created.error());
  http::Response resp = emptyResponse(ctx, 201);
  resp.headers.set("location", absoluteUrl(ctx, ctx.prefix + "/resource_classes/" + *name));
  return resp;
}

http::Response putResourceClass(PlacementModel& model, RequestContext& ctx) {
  if (ctx.version.atLeast(7)) {  // bodiless create-or-verify
    // Placement checks the name by validating the text '{"name": "<name>"}' against the PUT
    // schema, so a quote in the name is "Malformed JSON" (handlers/resource_class.py).
    const std::string text = "{\"name\": \"" + ctx.param(0) + "\"}";
    auto asBody = json_checks::parseJsonText(text);
    if (!asBody) return errorResponse(ctx, asBody.error());
    if (auto error = schema::validate(python::Value::parse(text),
                                      schema::named("resource_class.PUT_RC_SCHEMA_V1_2"))) {
      return errorResponse(ctx, json_checks::invalid(*error));
    }
    auto created = model.createResourceClass(ctx.param(0), false);
    if (!created) return errorResponse(ctx, created.error());
    http::Response resp = emptyResponse(ctx, *created ? 201 : 204);
    resp.headers.set("location",
                     absoluteUrl(ctx, ctx.prefix + "/resource_classes/" + ctx.param(0)));
    return resp;
  }
  auto body = json_checks::parseBody(ctx, "resource_class.PUT_RC_SCHEMA_V1_2");
  if (!body) return errorResponse(ctx, body.error());
  if (!body->is_object()) {
    return errorResponse(ctx, json_checks::invalid("the body must be an object"));
  }
  auto name = json_checks::getString(*body, "name", 1, 255);
  if (!name) return errorResponse(ctx, name.error());
  if (auto st = model.renameResourceClass(ctx.param(0), *name); !st) {
    return errorResponse(ctx, st.error());
  }
  return jsonResponse(ctx, 200, resourceClassJson(ctx, *name), std::time(nullptr));
}

http::Response deleteResourceClass(PlacementModel& model, RequestContext& ctx) {
  if (auto st = model.deleteResourceClass(ctx.param(0)); !st) {
    return errorResponse(ctx, st.error());
  }
  return emptyResponse(ctx, 204);
}

http::Response getAggregates(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto p = model.getProvider(ctx.param(0));
  if (!p) return errorResponse(ctx, noProvider(ctx.param(0)));
  return jsonResponse(ctx, 200, aggregatesBody(ctx, *p), std::time(nullptr));
}

// Placement looks the provider up (404) before it reads the body (400).
http::Response putAggregates(PlacementModel& model, RequestContext& ctx) {
  if (auto st = json_checks::requireJsonContent(ctx); !st) return errorResponse(ctx, st.error());
  if (!model.getProvider(ctx.param(0))) return errorResponse(ctx, noProvider(ctx.param(0)));
  auto body =
      json_checks::parseBody(ctx, ctx.version.atLeast(19) ? "aggregate.PUT_AGGREGATES_SCHEMA_V1_19"
                                                          : "aggregate.PUT_AGGREGATES_SCHEMA_V1_1");
  if (!body) return errorResponse(ctx, body.error());
  const json& b = *body;
  std::optional<int64_t> gen;
  json list;
  if (ctx.version.atLeast(19)) {
    if (!b.is_object()) {
      return errorResponse(ctx, json_checks::invalid("the body must be an object"));
    }
    if (auto st =
            json_checks::onlyKeys(b, {"aggregates", "resource_provider_generation"}, "the body");
        !st) {
      return errorResponse(ctx, st.error());
    }
    if (auto st =
            json_checks::requireKeys(b, {"aggregates", "resource_provider_generation"}, "the body");
        !st) {
      return errorResponse(ctx, st.error());
    }
    auto g = json_checks::getInt(b, "resource_provider_generation", 0, INT64_MAX);
    if (!g) return errorResponse(ctx, g.error());
    gen = *g;
    list = b["aggregates"];
  } else {
    list = b;
  }
  auto aggs = stringSet(list, "aggregates", true);
  if (!aggs) return errorResponse(ctx, aggs.error());
  auto p = model.setAggregates(ctx.param(0), gen, *aggs);
  if (!p) return errorResponse(ctx, p.error());
  // Placement answers with the list as the request gave it (the schema makes it unique).
  json out = aggregatesBody(ctx, *p);
  out["aggregates"] = list;
  return jsonResponse(ctx, 200, out, std::time(nullptr));
}

}  // namespace bwfloor::placement::handlers
