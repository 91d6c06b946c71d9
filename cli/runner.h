#pragma once
// Shared by bwfloorctl's command files: one call to the server, printed as a table or as JSON.

#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/table.h"

namespace bwfloor::cli {

using nlohmann::json;
inline constexpr const char* kPlacementVersion = "1.39";

// Runs one command against the server: prints the answer (table or JSON), returns the exit code.
class Runner {
 public:
  explicit Runner(const GlobalOptions& options) : options_(options) {}

  int call(const std::string& method, const std::string& path, const json& body,
           const std::function<void(const json&)>& printTableFn,
           const std::string& placementVersion = "") {
    auto client = connect();
    if (!client) return 2;
    auto r = client->call(method, path, body, placementVersion);
    if (!r) {
      std::cerr << "bwfloorctl: "
                << (r.error().status ? "HTTP " + std::to_string(r.error().status) + ": " : "")
                << r.error().message << "\n";
      return 1;
    }
    if (options_.json) {
      std::cout << (r->is_null() ? json::object() : *r).dump(2) << "\n";
    } else if (printTableFn) {
      printTableFn(*r);
    }
    return 0;
  }

  std::optional<ApiClient> connect() {
    auto url = http::parseUrlList(options_.server);
    if (!url) {
      std::cerr << "bwfloorctl: --server: " << url.error().message() << "\n";
      return std::nullopt;
    }
    return std::optional<ApiClient>(std::in_place, *url, options_.token,
                                    http::ClientTls{options_.caFile});
  }

  const GlobalOptions& options() const { return options_; }

 private:
  const GlobalOptions& options_;
};

inline void listPrinter(const json& doc, const std::string& key,
                        const std::vector<std::string>& fields) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : doc[key]) {
    std::vector<std::string> row;
    for (const auto& f : fields) {
      json::json_pointer ptr("/" + f);
      row.push_back(item.contains(ptr) ? cell(item[ptr]) : "");
    }
    rows.push_back(row);
  }
  printTable(std::cout, fields, rows);
}

void registerProviderCommands(CLI::App& app, Runner& runner, int& exitCode);
void registerQueueCommands(CLI::App& app, Runner& runner, int& exitCode);

}  // namespace bwfloor::cli
