// bwfloorctl: the operator's and scripts' tool for a bwfloor deployment.

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "core/cli_completion.h"
#include "core/version.h"

int main(int argc, char** argv) {
  CLI::App app{"bwfloorctl: operate a bwfloor deployment (placement, agents, ports, servers)",
               "bwfloorctl"};
  bwfloor::cli::GlobalOptions options;
  app.set_version_flag("--version", std::string("bwfloorctl ") + bwfloor::kVersion);
  app.add_option("--server", options.server,
                 "bwfloor-server URL, or several replicas' URLs separated by commas (tried in "
                 "turn when one cannot be reached)")
      ->envname("BWFLOOR_SERVER")
      ->capture_default_str();
  app.add_option("--token", options.token, "X-Auth-Token to send")->envname("BWFLOOR_TOKEN");
  app.add_option("--os-cacert", options.caFile,
                 "CA file (PEM) that an https:// server's certificate must chain to "
                 "(default: the system's CA store)")
      ->envname("OS_CACERT");
  app.add_flag("--json", options.json, "Print JSON instead of tables (for scripts)");
  app.require_subcommand(1);
  int exitCode = 0;
  bwfloor::cli::registerCommands(app, options, exitCode);
  bwfloor::addBashCompletionFlag(app);  // after every subcommand: it walks them
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exitCode;
}
