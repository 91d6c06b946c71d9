#include "cli/commands.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "http/client.h"

namespace bwfloor::cli {
namespace {

// `bwfloorctl status`: asks the server for its Placement version document.
int runStatus(const GlobalOptions& options) {
  auto url = http::parseUrl(options.server);
  if (!url) {
    std::cerr << "bwfloorctl: --server: " << url.error().message() << "\n";
    return 2;
  }
  http::HttpClient client(*url, std::chrono::seconds(10));
  auto resp = client.send("GET", "/placement/");
  if (!resp) {
    std::cerr << "bwfloorctl: server unreachable: " << resp.error().message() << "\n";
    return 1;
  }
  if (resp->status != 200) {
    std::cerr << "bwfloorctl: server answered " << resp->status << ": " << resp->body << "\n";
    return 1;
  }
  auto doc = nlohmann::json::parse(resp->body, nullptr, false);
  if (doc.is_discarded() || !doc.contains("versions") || doc["versions"].empty()) {
    std::cerr << "bwfloorctl: server answered with an unexpected body: " << resp->body << "\n";
    return 1;
  }
  const auto& v = doc["versions"][0];
  if (options.json) {
    std::cout << doc.dump(2) << "\n";
  } else {
    std::cout << "server:      " << options.server << "\n"
              << "placement:   " << v.value("min_version", "?") << " .. "
              << v.value("max_version", "?") << " (" << v.value("status", "?") << ")\n";
  }
  return 0;
}

}  // namespace

void registerCommands(CLI::App& app, GlobalOptions& options, int& exitCode) {
  auto* status =
      app.add_subcommand("status", "Show whether the server answers and its API versions");
  status->callback([&] { exitCode = runStatus(options); });
}

}  // namespace bwfloor::cli
