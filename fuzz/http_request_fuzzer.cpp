// http_request_fuzzer: raw HTTP request bytes, as a client sends them to bwfloor-server.
//
// Feeds: the input is split at the line "\n--next-request--\n" into requests (most seeds hold
// one); each is parsed with http::parseRequest (the server's own parser and limits)
// and, when it parses, handled by placement::ServerRoutes (/placement, /, /v1) over an in-memory
// PlacementModel and PortsService, with auth_strategy noauth2, or token when the request's
// X-Auth-Token starts with "tok-" (fuzz/http_world.h: the tokens, and a fixture with fixed uuids
// that the seed corpus names). A POST /v1/servers or a long-poll that answers later is
// not waited for; the ports service's expireWaiters() runs after each input, as the server's
// ticker does. The world is rebuilt every BWFLOOR_FUZZ_RESET_EVERY inputs (default 1: every input
// starts from the fixture, so a crash file reproduces on its own; with N > 1 the inputs since the
// last rebuild are kept, joined, in BWFLOOR_FUZZ_HISTORY, default ./http_request_fuzzer.history).
//
// Asserts (abort with a message): every answer, now or later, has a status in 100..599 and, when
// its content-type is application/json and it has a body, a body that parses as JSON; after every
// request the invariants of fuzz/model_invariants.h hold (usage = sum of allocations, capacity
// where usage rose, derived fields, store = memory), and after an input with a /v1 request the
// /v1 store holds the objects the service serves. In token mode, an agent's token changes
// nothing outside its host, and a reader's or an unknown token changes nothing at all.
// An exception escaping the routes is a 500 for the server (http/server.h); it aborts here only
// with BWFLOOR_FUZZ_STRICT=1, which also aborts on any 500. BWFLOOR_FUZZ_VERBOSE=1 prints every
// request and answer (for writing seeds).

#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/logging.h"
#include "fuzz/http_world.h"
#include "fuzz/model_invariants.h"
#include "http/server.h"

namespace {

using bwfloor::fuzz::HttpWorld;
namespace http = bwfloor::http;

constexpr std::string_view kSeparator = "\n--next-request--\n";

struct Settings {
  size_t resetEvery = 1;
  bool strict = false;
  bool verbose = false;
  std::string history;  // BWFLOOR_FUZZ_HISTORY, with resetEvery > 1
};

const Settings& settings() {
  static const Settings s = [] {
    Settings out;
    if (const char* v = std::getenv("BWFLOOR_FUZZ_RESET_EVERY")) {
      out.resetEvery = std::max<size_t>(1, std::strtoul(v, nullptr, 10));
    }
    out.strict = std::getenv("BWFLOOR_FUZZ_STRICT") != nullptr &&
                 std::string_view(std::getenv("BWFLOOR_FUZZ_STRICT")) == "1";
    out.verbose = std::getenv("BWFLOOR_FUZZ_VERBOSE") != nullptr &&
                  std::string_view(std::getenv("BWFLOOR_FUZZ_VERBOSE")) == "1";
    if (const char* v = std::getenv("BWFLOOR_FUZZ_HISTORY")) out.history = v;
    if (out.history.empty()) out.history = "http_request_fuzzer.history";
    return out;
  }();
  return s;
}

[[noreturn]] void fail(const std::string& what, const std::string& request) {
  std::fprintf(stderr, "\nhttp_request_fuzzer: %s\nrequest (first 512 bytes): %.512s\n",
               what.c_str(), request.c_str());
  std::abort();
}

std::string firstLine(std::string_view bytes) {
  return std::string(bytes.substr(0, std::min(bytes.find('\n'), bytes.size())));
}

// Checks one answer; runs on the harness thread or, for a late answer, on the ports service's.
void checkResponse(const http::Response& resp, const std::string& request) {
  if (settings().verbose) {
    std::fprintf(stderr, "  %s -> %d %.300s\n", request.c_str(), resp.status, resp.body.c_str());
  }
  if (resp.status < 100 || resp.status > 599) {
    fail("status " + std::to_string(resp.status) + " is not 100..599", request);
  }
  const std::string* type = resp.headers.find("content-type");
  if (type != nullptr && type->rfind("application/json", 0) == 0 && !resp.body.empty() &&
      !nlohmann::json::accept(resp.body)) {
    fail("a " + std::to_string(resp.status) +
             " answer says application/json but its body is not JSON: " + resp.body.substr(0, 512),
         request);
  }
  if (settings().strict && resp.status == 500) {
    fail("500 (BWFLOOR_FUZZ_STRICT=1): " + resp.body.substr(0, 512), request);
  }
}

// What a credential may not change, as a value to compare before and after its request: for an
// agent's token everything outside its host (provider generations and usage outside the trees
// rooted at it, ports, servers and agents of other hosts, every network and policy); for a
// reader's or an unknown token, everything. Heartbeat times are runtime, not state.
// The ports and servers on `host` (by id): those the agent may change, also off its host (a
// failed report unbinds a port, whose host is then "").
std::set<std::string> ownedBy(HttpWorld& w, const std::string& host) {
  std::set<std::string> ids;
  if (host.empty()) return ids;
  using bwfloor::ports::Kind;
  for (const auto& port : w.ports().list(Kind::kPort)) {
    if (port.value("binding_host", "") == host) ids.insert(port.value("id", ""));
  }
  for (const auto& server : w.ports().list(Kind::kServer)) {
    if (server.value("host", "") == host) ids.insert(server.value("id", ""));
  }
  return ids;
}

nlohmann::json footprint(HttpWorld& w, const std::string& host, const std::set<std::string>& own) {
  using nlohmann::json;
  json out = json::object();
  w.model().withReadLock([&](const bwfloor::placement::PlacementModel& m) {
    const auto& providers = m.providersUnlocked();
    for (const auto& [uuid, p] : providers) {
      auto root = providers.find(p.rootUuid);
      if (!host.empty() && root != providers.end() && root->second.name == host) continue;
      out["providers"][uuid] = p.generation;
      if (auto used = m.usageUnlocked().find(uuid); used != m.usageUnlocked().end()) {
        out["usage"][uuid] = used->second;
      }
    }
  });
  using bwfloor::ports::Kind;
  for (Kind kind : {Kind::kPort, Kind::kServer}) {
    for (const auto& obj : w.ports().list(kind)) {
      if (own.count(obj.value("id", "")) == 0) out[std::string(toString(kind))].push_back(obj);
    }
  }
  for (json agent : w.ports().list(Kind::kAgent)) {
    if (!host.empty() && agent.value("host", "") == host) continue;
    agent.erase("heartbeat_at");
    agent.erase("alive");
    out["agents"].push_back(agent);
  }
  out["networks"] = w.ports().list(Kind::kNetwork);
  out["policies"] = w.ports().list(Kind::kPolicy);
  return out;
}

// The host a token-mode credential may act for: "" for an admin (anything goes), the agent's
// host, or "" with `nothing` set for a reader or an unknown token (nothing may change).
struct Credential {
  bool admin = false;
  std::string host;
};
Credential credentialOf(const std::string& token) {
  namespace f = bwfloor::fuzz;
  if (token == f::kAdminToken) return {true, ""};
  if (token == f::kAgentToken0) return {false, "compute0"};
  if (token == f::kAgentToken1) return {false, "compute1"};
  return {false, ""};
}

// Handles one request; returns whether it went to /v1 (whose store is then checked).
bool handleOne(HttpWorld& w, std::string_view bytes) {
  http::ParsedRequest parsed = http::parseRequest(bytes, http::ServerOptions{});
  const std::string label = firstLine(bytes);
  if (parsed.error) checkResponse(*parsed.error, label);
  if (!parsed.request) return false;
  const bool v1 = parsed.request->path.rfind("/v1", 0) == 0;
  const bwfloor::fuzz::UsageMap before = bwfloor::fuzz::usageSnapshot(w.model());
  const std::string* token = parsed.request->headers.find("x-auth-token");
  const bool tokenMode = token != nullptr && token->rfind(bwfloor::fuzz::kTokenPrefix, 0) == 0;
  const Credential credential = tokenMode ? credentialOf(*token) : Credential{true, ""};
  const std::set<std::string> own = ownedBy(w, credential.host);
  const nlohmann::json untouchable =
      credential.admin ? nlohmann::json() : footprint(w, credential.host, own);
  auto answered = std::make_shared<std::atomic<bool>>(false);
  try {
    auto& routes = tokenMode ? w.tokenRoutes() : w.routes();
    routes.handle(std::move(*parsed.request), [answered, label](const http::Response& resp) {
      if (answered->exchange(true)) fail("answered twice", label);
      checkResponse(resp, label);
    });
  } catch (const std::exception& e) {
    // HttpServer answers this with a 500 naming the request id; that is not a finding unless
    // strict (an exception is still a handler that failed to answer with a status of its own).
    if (settings().strict) fail(std::string("exception escaped the routes: ") + e.what(), label);
  }
  const std::string broken = bwfloor::fuzz::checkPlacement(w.model(), w.store(), before);
  if (!broken.empty()) fail("invariant violated: " + broken, label);
  if (!credential.admin && footprint(w, credential.host, own) != untouchable) {
    fail(credential.host.empty()
             ? "a reader's or an unknown token changed state"
             : "the agent token of " + credential.host + " changed state outside its host",
         label);
  }
  return v1;
}

void checkPortsStore(HttpWorld& w, const std::string& label) {
  const std::string broken = bwfloor::fuzz::checkPorts(w.ports(), w.docs());
  if (!broken.empty()) fail("invariant violated: " + broken, label);
}

// With a world kept across inputs, the inputs since it was built, joined with the separator: one
// input that replays them on a fresh world (best effort: deadlines and uuids differ).
class History {
 public:
  void restart() {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::fopen(settings().history.c_str(), "wb");
    first_ = true;
  }
  void add(const uint8_t* data, size_t size) {
    if (file_ == nullptr) return;
    if (!first_) std::fwrite(kSeparator.data(), 1, kSeparator.size(), file_);
    std::fwrite(data, 1, size, file_);
    std::fflush(file_);
    first_ = false;
  }

 private:
  std::FILE* file_ = nullptr;
  bool first_ = true;
};

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's name
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  bwfloor::LogOptions quiet;  // the handlers log every refused request at warn or error
  quiet.level = spdlog::level::off;
  quiet.sinkForTest = std::make_shared<spdlog::sinks::null_sink_mt>();
  bwfloor::initLogging(quiet);
  return 0;
}

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's name
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Every input on a fresh world (the default): built and freed inside the call, so that a crash
  // file reproduces alone and libFuzzer's malloc/free balance stays a leak signal. With
  // BWFLOOR_FUZZ_RESET_EVERY=N the world lives for N inputs, written to the history file.
  static std::unique_ptr<HttpWorld> kept;
  static History history;
  static size_t inputs = 0;
  std::unique_ptr<HttpWorld> fresh;
  if (settings().resetEvery == 1) {
    fresh = HttpWorld::make();
  } else if (!kept || inputs % settings().resetEvery == 0) {
    kept.reset();
    kept = HttpWorld::make();
    history.restart();
  }
  ++inputs;
  if (!fresh) history.add(data, size);
  HttpWorld& w = fresh ? *fresh : *kept;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  bool v1 = false;
  std::string label;
  while (!rest.empty()) {
    const size_t cut = rest.find(kSeparator);
    label = firstLine(rest);
    v1 = handleOne(w, rest.substr(0, cut)) || v1;
    rest =
        cut == std::string_view::npos ? std::string_view() : rest.substr(cut + kSeparator.size());
  }
  w.ports().expireWaiters();  // as the server's ticker: may settle a create, answer a long-poll
  if (v1) checkPortsStore(w, label);
  return 0;
}
