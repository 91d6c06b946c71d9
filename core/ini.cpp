#include "core/ini.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <memory>
#include <system_error>

namespace bwfloor {
namespace {

constexpr std::string_view kBlanks = " \t\r\n\f\v";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
// Far above any real configuration file; stops "--config-file /dev/zero" from eating memory.
constexpr size_t kMaxFileBytes = size_t{4} * 1024 * 1024;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Strips one pair of matching quotes, as oslo.config does: key = "a b" -> a b.
std::string_view unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == value.back() &&
      (value.front() == '"' || value.front() == '\'')) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

std::string toLower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// Line-at-a-time state machine. A value stays open for continuation lines until a blank line, a
// section header or the next key.
class IniParser {
 public:
  explicit IniParser(std::string fileName) : fileName_(std::move(fileName)) {}

  Result<IniFile> parse(std::string_view text) {
    if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
    while (!text.empty()) {
      const size_t end = text.find('\n');
      RETURN_IF_ERROR(parseLine(text.substr(0, end)));
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return IniFile(std::move(fileName_), std::move(sections_));
  }

 private:
  Status parseLine(std::string_view raw) {
    ++lineNo_;
    const std::string_view line = trim(raw);
    if (line.empty()) {
      valueOpen_ = false;
      return {};
    }
    if (line.front() == '#' || line.front() == ';') return {};
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (indented && valueOpen_) {
      std::string& value = sections_[current_].entries.back().value;
      // "key =" followed by indented lines: the value starts on the next line, no leading '\n'.
      if (!value.empty()) value.push_back('\n');
      value.append(line);
      return {};
    }
    // An indented line with no open value is read as an ordinary line.
    if (line.front() == '[') return parseHeader(line);
    return parseAssignment(line);
  }

  Status parseHeader(std::string_view line) {
    valueOpen_ = false;
    if (line.back() != ']') {
      return errorHere("malformed section header " + quoted(line) + ": missing closing ']'");
    }
    const std::string_view name = trim(line.substr(1, line.size() - 2));
    if (name.empty()) return errorHere("empty section name in " + quoted(line));
    if (name.find_first_of("[]") != std::string_view::npos) {
      return errorHere("malformed section header " + quoted(line) + ": nested brackets");
    }
    const auto it = std::find_if(sections_.begin(), sections_.end(),
                                 [&](const IniSection& s) { return s.name == name; });
    if (it != sections_.end()) {
      current_ = static_cast<size_t>(it - sections_.begin());
    } else {
      current_ = sections_.size();
      sections_.push_back(IniSection{std::string(name), lineNo_, {}});
    }
    return {};
  }

  Status parseAssignment(std::string_view line) {
    const size_t split = line.find_first_of("=:");
    if (split == std::string_view::npos) {
      return errorHere(R"(expected "key = value", "[section]" or a comment, got )" + quoted(line));
    }
    const std::string_view key = trim(line.substr(0, split));
    if (key.empty()) return errorHere("empty key in " + quoted(line));
    if (current_ == kNoSection) {
      return errorHere("key " + quoted(key) + " comes before any [section] header");
    }
    IniSection& section = sections_[current_];
    if (const IniEntry* first = section.find(key)) {
      return errorHere("[" + section.name + "] " + std::string(key) +
                       ": duplicate key (first set on line " + std::to_string(first->line) + ")");
    }
    const std::string_view value = unquote(trim(line.substr(split + 1)));
    section.entries.push_back(IniEntry{std::string(key), std::string(value), lineNo_});
    valueOpen_ = true;
    return {};
  }

  Error errorHere(const std::string& why) const {
    return makeError(ErrorCode::kInvalidArgument,
                     fileName_ + ":" + std::to_string(lineNo_) + ": " + why);
  }

  static constexpr size_t kNoSection = static_cast<size_t>(-1);

  std::string fileName_;
  std::vector<IniSection> sections_;
  int lineNo_ = 0;
  size_t current_ = kNoSection;
  bool valueOpen_ = false;
};

// "must be >= 0", "must be <= 10" or "must be between 1 and 10", for the bounds actually set.
std::string describeRange(int64_t minValue, int64_t maxValue) {
  const bool hasMin = minValue != std::numeric_limits<int64_t>::min();
  const bool hasMax = maxValue != std::numeric_limits<int64_t>::max();
  if (hasMin && hasMax) {
    return "must be between " + std::to_string(minValue) + " and " + std::to_string(maxValue);
  }
  if (hasMin) return "must be >= " + std::to_string(minValue);
  return "must be <= " + std::to_string(maxValue);
}

}  // namespace

const IniEntry* IniSection::find(std::string_view key) const {
  const auto it = std::find_if(entries.begin(), entries.end(),
                               [&](const IniEntry& entry) { return entry.key == key; });
  return it == entries.end() ? nullptr : &*it;
}

std::string IniLocation::toString() const {
  std::string out = fileName;
  if (line > 0) out += ":" + std::to_string(line);
  return out + ": [" + section + "] " + key;
}

const IniSection* IniFile::section(std::string_view name) const {
  const auto it = std::find_if(sections_.begin(), sections_.end(),
                               [&](const IniSection& s) { return s.name == name; });
  return it == sections_.end() ? nullptr : &*it;
}

std::optional<IniEntry> IniFile::get(std::string_view section, std::string_view key) const {
  const std::pair<std::string, std::string> asked(section, key);
  if (std::find(consulted_.begin(), consulted_.end(), asked) == consulted_.end()) {
    consulted_.push_back(asked);
  }
  const IniSection* found = this->section(section);
  const IniEntry* entry = found != nullptr ? found->find(key) : nullptr;
  if (entry == nullptr) return std::nullopt;
  return *entry;
}

bool IniFile::has(std::string_view section, std::string_view key) const {
  return get(section, key).has_value();
}

IniLocation IniFile::locate(std::string_view section, std::string_view key) const {
  const auto entry = get(section, key);
  const std::string& file = entry && !entry->file.empty() ? entry->file : fileName_;
  return IniLocation{file, entry ? entry->line : 0, std::string(section), std::string(key)};
}

Error IniFile::errorAt(std::string_view section, std::string_view key, std::string_view why) const {
  return makeError(ErrorCode::kInvalidArgument,
                   locate(section, key).toString() + ": " + std::string(why));
}

std::string IniFile::getString(std::string_view section, std::string_view key,
                               std::string fallback) const {
  auto entry = get(section, key);
  return entry ? std::move(entry->value) : std::move(fallback);
}

Result<std::string> IniFile::requireString(std::string_view section, std::string_view key) const {
  auto entry = get(section, key);
  if (!entry) return errorAt(section, key, "required option is missing");
  return std::move(entry->value);
}

std::vector<std::string> IniFile::getList(std::string_view section, std::string_view key) const {
  std::vector<std::string> items;
  const std::string value = getString(section, key);
  std::string_view rest = value;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
  }
  return items;
}

Result<int64_t> IniFile::getInt(std::string_view section, std::string_view key, int64_t fallback,
                                int64_t minValue, int64_t maxValue) const {
  const auto entry = get(section, key);
  if (!entry) return fallback;
  const std::string& text = entry->value;
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return errorAt(section, key, quoted(text) + " is out of range for a 64-bit integer");
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return errorAt(section, key, "expected an integer, got " + quoted(text));
  }
  if (value < minValue || value > maxValue) {
    return errorAt(section, key, describeRange(minValue, maxValue) + ", got " + text);
  }
  return value;
}

Result<bool> IniFile::getBool(std::string_view section, std::string_view key, bool fallback) const {
  const auto entry = get(section, key);
  if (!entry) return fallback;
  const std::string lower = toLower(entry->value);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return errorAt(section, key,
                 "expected true/false, yes/no, on/off or 1/0, got " + quoted(entry->value));
}

Result<std::chrono::seconds> IniFile::getSeconds(std::string_view section, std::string_view key,
                                                 std::chrono::seconds fallback) const {
  ASSIGN_OR_RETURN(const int64_t seconds, getInt(section, key, fallback.count(), 0));
  return std::chrono::seconds(seconds);
}

Result<IniFile> parseIni(std::string_view text, std::string fileName) {
  return IniParser(std::move(fileName)).parse(text);
}

Result<IniFile> loadIni(const std::string& path) {
  const auto readError = [&path](int sysErrno) {
    return makeError(ErrorCode::kInvalidArgument, "cannot read " + path, sysErrno);
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return readError(errno);
  std::string text;
  std::array<char, 8192> buffer{};
  size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    text.append(buffer.data(), got);
    if (text.size() > kMaxFileBytes) {
      return makeError(ErrorCode::kInvalidArgument, path + ": larger than " +
                                                        std::to_string(kMaxFileBytes) +
                                                        " bytes, not a configuration file");
    }
  }
  // glibc opens a directory for reading; the read then fails with EISDIR.
  if (std::ferror(file.get())) return readError(errno);
  return parseIni(text, path);
}

namespace {

// Levenshtein distance, for "did you mean".
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<IniFile::UnknownKey> IniFile::unknownKeys() const {
  std::vector<UnknownKey> out;
  for (const auto& section : sections_) {
    std::vector<std::string> known;
    for (const auto& [s, k] : consulted_) {
      if (s == section.name) known.push_back(k);
    }
    if (known.empty()) continue;  // a section this reader never consults
    for (const auto& entry : section.entries) {
      if (std::find(known.begin(), known.end(), entry.key) != known.end()) continue;
      UnknownKey unknown{
          {entry.file.empty() ? fileName_ : entry.file, entry.line, section.name, entry.key}, ""};
      size_t best = 4;
      for (const auto& k : known) {
        const size_t d = editDistance(entry.key, k);
        if (d < best) {
          best = d;
          unknown.closest = k;
        }
      }
      out.push_back(std::move(unknown));
    }
  }
  return out;
}

std::string describeUnknownKey(const IniFile::UnknownKey& unknown, std::string_view program) {
  std::string out = unknown.where.toString() + ": not an option " + std::string(program) + " reads";
  if (!unknown.closest.empty()) out += " (did you mean " + unknown.closest + "?)";
  return out;
}

Result<IniFile> loadIniFiles(const std::vector<std::string>& paths) {
  if (paths.size() == 1) return loadIni(paths.front());
  std::vector<IniSection> merged;
  std::string names;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(IniFile file, loadIni(path));
    names += (names.empty() ? "" : ", ") + path;
    for (const auto& section : file.sections()) {
      auto into = std::find_if(merged.begin(), merged.end(),
                               [&](const IniSection& s) { return s.name == section.name; });
      if (into == merged.end()) {
        merged.push_back({section.name, section.line, {}});
        into = merged.end() - 1;
      }
      for (IniEntry entry : section.entries) {
        entry.file = path;
        auto same = std::find_if(into->entries.begin(), into->entries.end(),
                                 [&](const IniEntry& e) { return e.key == entry.key; });
        if (same != into->entries.end()) {
          *same = std::move(entry);  // the later file wins
        } else {
          into->entries.push_back(std::move(entry));
        }
      }
    }
  }
  return IniFile(names, std::move(merged));
}

}  // namespace bwfloor
