#pragma once
// The configuration-file options bwfloor-agent and bwfloor-server share: --config FILE, or
// --config-file FILE repeated (merged in order, as oslo.config does), --check-config FILE... and
// --strict. Header-only: only the binaries, which link CLI11, include it.

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

namespace bwfloor {

struct ConfigFilesCli {
  std::string config;
  std::vector<std::string> configFiles;
  std::vector<std::string> checkConfig;
  bool strict = false;

  // `example`: what merging several files is for, shown in --config-file's help.
  void addTo(CLI::App& app, const std::string& defaultPath, const std::string& example) {
    config = defaultPath;
    auto* single = app.add_option("--config", config, "Configuration file (INI)")
                       ->type_name("FILE")
                       ->capture_default_str();
    app.add_option("--config-file", configFiles,
                   "Configuration file; repeat it to merge several in order, a later key "
                   "winning, as oslo.config does" +
                       example)
        ->type_name("FILE")
        ->excludes(single);
    app.add_option("--check-config", checkConfig,
                   "Validate FILE (several: merged in order) and exit (0 = valid, 1 = the errors "
                   "are printed); keys no option reads are warnings")
        ->type_name("FILE");
    app.add_flag("--strict", strict, "With --check-config: a key no option reads is an error");
  }

  // The files to run with: the --config-file list, else --config.
  std::vector<std::string> paths() const {
    return configFiles.empty() ? std::vector<std::string>{config} : configFiles;
  }

  // --check-config's report of keys no option reads; false when --strict makes them fatal.
  bool reportUnknown(const std::vector<std::string>& unknown) const {
    for (const auto& line : unknown) {
      std::cerr << (strict ? "error: " : "warning: ") << line << "\n";
    }
    return !strict || unknown.empty();
  }
};

// "a.ini, b.ini", for messages.
inline std::string joinedPaths(const std::vector<std::string>& paths) {
  std::string out;
  for (const auto& p : paths) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace bwfloor
