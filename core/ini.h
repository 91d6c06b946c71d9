#pragma once
// INI configuration files, read the way oslo.config reads Neutron's agent files, so operators can
// reuse theirs (STYLE.md §6). Hand-written rather than inih because every error must name
// "file:line [section] key", and inih's callback reports no line per key.
//
// Grammar:
//   [section]            names are trimmed; a repeated header continues the earlier section
//   key = value          also "key: value"; whichever of '=' / ':' comes first splits the line;
//                        key and value are trimmed; one pair of matching quotes around the value is
//                        removed ("a b" -> a b); '#' after a value is part of the value
//     more value         an indented line continues the previous value, joined with '\n'; a blank
//                        line ends the value
//   # comment, ; comment full-line comments, at any indentation, are ignored
// [DEFAULT] is an ordinary section (oslo.config semantics): its keys are not fallbacks for other
// sections, unlike Python's configparser.
// Errors (kInvalidArgument, "file:line: why"): a key before any section, a malformed section
// header, a line that is neither, an empty key, a key repeated within a section (both lines named).

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bwfloor {

struct IniEntry {
  std::string key;
  std::string value;
  int line = 0;      // 1-based line of the key
  std::string file;  // the file it came from, when several were merged ("" = the IniFile's)
};

struct IniSection {
  std::string name;
  int line = 0;                   // line of the first header
  std::vector<IniEntry> entries;  // file order

  const IniEntry* find(std::string_view key) const;
};

// Where an option is, for messages: "agent.ini:12: [ovs] bridge_mappings", or without ":12" when
// the option is absent from the file.
struct IniLocation {
  std::string fileName;
  int line = 0;  // 0: not in the file
  std::string section;
  std::string key;

  std::string toString() const;
};

class IniFile {
 public:
  IniFile() = default;
  IniFile(std::string fileName, std::vector<IniSection> sections)
      : fileName_(std::move(fileName)), sections_(std::move(sections)) {}

  const std::string& fileName() const { return fileName_; }
  const std::vector<IniSection>& sections() const { return sections_; }  // file order
  const IniSection* section(std::string_view name) const;

  // Every lookup (get, has, the typed getters) records the key as one the reader knows, for
  // unknownKeys().
  std::optional<IniEntry> get(std::string_view section, std::string_view key) const;
  bool has(std::string_view section, std::string_view key) const;

  IniLocation locate(std::string_view section, std::string_view key) const;
  // kInvalidArgument, "<file>:<line>: [<section>] <key>: <why>".
  Error errorAt(std::string_view section, std::string_view key, std::string_view why) const;

  // Typed getters: the fallback when the key is absent, an errorAt() error when it is present but
  // malformed or out of range.
  std::string getString(std::string_view section, std::string_view key,
                        std::string fallback = {}) const;
  Result<std::string> requireString(std::string_view section, std::string_view key) const;
  // Comma-separated (oslo ListOpt): items trimmed, empty items dropped; absent -> empty.
  std::vector<std::string> getList(std::string_view section, std::string_view key) const;
  Result<int64_t> getInt(std::string_view section, std::string_view key, int64_t fallback,
                         int64_t minValue = std::numeric_limits<int64_t>::min(),
                         int64_t maxValue = std::numeric_limits<int64_t>::max()) const;
  // true/false, yes/no, on/off, 1/0, any case (oslo BoolOpt).
  Result<bool> getBool(std::string_view section, std::string_view key, bool fallback) const;
  // A whole number of seconds >= 0, as oslo's IntOpt intervals (report_interval = 30).
  Result<std::chrono::seconds> getSeconds(std::string_view section, std::string_view key,
                                          std::chrono::seconds fallback) const;

  // The keys in the files that no lookup asked for, in sections that some lookup did (a section
  // the reader never consults, like neutron.conf's [database], is someone else's), with the
  // closest key the reader knows in that section when one is within 3 edits. Ask after parsing.
  struct UnknownKey {
    IniLocation where;
    std::string closest;  // "" when none is close
  };
  std::vector<UnknownKey> unknownKeys() const;

 private:
  std::string fileName_;
  std::vector<IniSection> sections_;
  mutable std::vector<std::pair<std::string, std::string>> consulted_;  // (section, key)
};

// "file:12: [ovs] resource_provider_bandwidth: not an option PROGRAM reads (did you mean
// resource_provider_bandwidths?)".
std::string describeUnknownKey(const IniFile::UnknownKey& unknown, std::string_view program);

// Several files read in order and merged as oslo.config merges --config-file arguments: a key
// in a later file replaces the same key of an earlier one. Every entry keeps its own file:line.
Result<IniFile> loadIniFiles(const std::vector<std::string>& paths);

// fileName is only used in messages.
Result<IniFile> parseIni(std::string_view text, std::string fileName);

// Reads and parses path; an unreadable file is kInvalidArgument with its errno.
Result<IniFile> loadIni(const std::string& path);

}  // namespace bwfloor
