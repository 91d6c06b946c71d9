#pragma once
// bwfloorctl's command tree, shaped like the openstack CLI. Commands print a table by default and
// JSON with --json; exit codes: 0 ok, 1 the server refused or the request failed, 2 bad usage.

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>

namespace bwfloor::cli {

struct GlobalOptions {
  std::string server = "http://127.0.0.1:8778";
  std::string token = "admin";
  std::string caFile;  // --os-cacert: the CA an https:// server must chain to
  bool json = false;
};

// Registers every command on `app`; each sets `exitCode` when it runs.
void registerCommands(CLI::App& app, GlobalOptions& options, int& exitCode);

}  // namespace bwfloor::cli
