#include "placement/api/python_text.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <vector>

namespace bwfloor::placement::python {
namespace {

// Decodes one UTF-8 sequence at `i` (advancing it); a stray byte decodes as itself.
char32_t nextCodePoint(std::string_view text, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  if (i + extra >= text.size()) extra = 0;
  char32_t cp = extra == 0 ? lead : lead & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (byte(i + k) & 0x3F);
  i += 1 + extra;
  return cp;
}

// str.isprintable(), for the code points that show up in practice: controls, separators other
// than the space, format characters and private use are not printable.
bool printable(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp < 0x7F) return true;
  if (cp <= 0xA0 || cp == 0xAD || cp == 0x1680 || cp == 0x3000 || cp == 0xFEFF) return false;
  if ((cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
      (cp >= 0x205F && cp <= 0x206F) || (cp >= 0xD800 && cp <= 0xF8FF) ||
      (cp >= 0xFFF9 && cp <= 0xFFFB) || cp >= 0xF0000) {
    return false;
  }
  return true;
}

void appendHex(std::string& out, const char* prefix, char32_t cp, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*x", digits, static_cast<unsigned>(cp));
  out += prefix;
  out += buf;
}

// float.__repr__: the shortest text that reads back, fixed-point between 1e-4 and 1e16.
std::string reprFloat(double value) {
  if (value != value) return "nan";
  if (value == std::numeric_limits<double>::infinity()) return "inf";
  if (value == -std::numeric_limits<double>::infinity()) return "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, end);  // "-1.2345e+03"
  const bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  const size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(sci.substr(e + 1));
  const int point = exponent + 1;  // digits are 0.d1d2... x 10^point
  std::string out;
  if (point > -4 && point <= 16) {
    if (point <= 0) {
      out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (static_cast<size_t>(point) >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(point)) + "." +
            digits.substr(static_cast<size_t>(point));
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp;
  }
  return negative ? "-" + out : out;
}

std::string reprWith(const Value& value, bool sortKeys);

std::string reprObject(const Value& value, bool sortKeys) {
  std::vector<std::pair<std::string, const Value*>> items;
  for (auto it = value.begin(); it != value.end(); ++it) items.emplace_back(it.key(), &*it);
  if (sortKeys) {
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += reprString(items[i].first) + ": " + reprWith(*items[i].second, sortKeys);
  }
  return out + "}";
}

std::string reprWith(const Value& value, bool sortKeys) {
  switch (value.type()) {
    case Value::value_t::null:
      return "None";
    case Value::value_t::boolean:
      return value.get<bool>() ? "True" : "False";
    case Value::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case Value::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case Value::value_t::number_float:
      return reprFloat(value.get<double>());
    case Value::value_t::string:
      return reprString(value.get_ref<const std::string&>());
    case Value::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ", ";
        out += reprWith(value[i], sortKeys);
      }
      return out + "]";
    }
    case Value::value_t::object:
      return reprObject(value, sortKeys);
    default:
      return "None";
  }
}

// pprint.PrettyPrinter with its defaults (indent 1, not compact, sorted dicts).
class PrettyPrinter {
 public:
  explicit PrettyPrinter(int width) : width_(width) {}

  std::string format(const Value& value) {
    out_.clear();
    formatValue(value, 0, 0, 0);
    return out_;
  }

 private:
  static int len(std::string_view text) { return static_cast<int>(length(text)); }

  void formatValue(const Value& value, int indent, int allowance, int level) {
    const std::string rep = reprWith(value, true);
    if (len(rep) > width_ - indent - allowance) {
      if (value.is_object() && !value.empty())
        return formatDict(value, indent, allowance, level + 1);
      if (value.is_array() && !value.empty())
        return formatList(value, indent, allowance, level + 1);
      if (value.is_string())
        return formatString(value.get_ref<const std::string&>(), indent, allowance, level + 1);
    }
    out_ += rep;
  }

  void formatDict(const Value& value, int indent, int allowance, int level) {
    std::vector<std::pair<std::string, const Value*>> items;
    for (auto it = value.begin(); it != value.end(); ++it) items.emplace_back(it.key(), &*it);
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    out_ += '{';
    indent += 1;
    for (size_t i = 0; i < items.size(); ++i) {
      const bool last = i + 1 == items.size();
      const std::string key = reprString(items[i].first);
      out_ += key + ": ";
      formatValue(*items[i].second, indent + len(key) + 2, last ? allowance + 1 : 1, level);
      if (!last) out_ += ",\n" + std::string(static_cast<size_t>(indent), ' ');
    }
    out_ += '}';
  }

  void formatList(const Value& value, int indent, int allowance, int level) {
    out_ += '[';
    indent += 1;
    for (size_t i = 0; i < value.size(); ++i) {
      const bool last = i + 1 == value.size();
      if (i > 0) out_ += ",\n" + std::string(static_cast<size_t>(indent), ' ');
      formatValue(value[i], indent, last ? allowance + 1 : 1, level);
    }
    out_ += ']';
  }

  // _pprint_str: a long string is cut after whitespace into adjacent literals, in parentheses
  // at the top level.
  void formatString(const std::string& text, int indent, int allowance, int level) {
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
      size_t nl = text.find_first_of("\r\n", start);
      if (nl == std::string::npos) {
        lines.push_back(text.substr(start));
        break;
      }
      size_t end = nl + (text[nl] == '\r' && nl + 1 < text.size() && text[nl + 1] == '\n' ? 2 : 1);
      lines.push_back(text.substr(start, end - start));
      start = end;
    }
    if (level == 1) {
      indent += 1;
      allowance += 1;
    }
    const int maxWidth = width_ - indent;
    int maxWidth1 = maxWidth;
    std::vector<std::string> chunks;
    for (size_t i = 0; i < lines.size(); ++i) {
      const bool lastLine = i + 1 == lines.size();
      const std::string rep = reprString(lines[i]);
      if (lastLine) maxWidth1 -= allowance;
      if (len(rep) <= maxWidth1) {
        chunks.push_back(rep);
        continue;
      }
      std::vector<std::string> parts;  // runs of non-space then space (re.findall(r'\S*\s*'))
      const std::string& line = lines[i];
      for (size_t p = 0; p < line.size();) {
        size_t q = line.find_first_of(" \t\n\r\f\v", p);
        if (q == std::string::npos) q = line.size();
        q = line.find_first_not_of(" \t\n\r\f\v", q);
        if (q == std::string::npos) q = line.size();
        parts.push_back(line.substr(p, q - p));
        p = q;
      }
      int maxWidth2 = maxWidth;
      std::string current;
      for (size_t j = 0; j < parts.size(); ++j) {
        std::string candidate = current + parts[j];
        if (j + 1 == parts.size() && lastLine) maxWidth2 -= allowance;
        if (len(reprString(candidate)) > maxWidth2) {
          if (!current.empty()) chunks.push_back(reprString(current));
          current = parts[j];
        } else {
          current = std::move(candidate);
        }
      }
      if (!current.empty()) chunks.push_back(reprString(current));
    }
    if (chunks.size() == 1) {
      out_ += chunks[0];
      return;
    }
    if (level == 1) out_ += '(';
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (i > 0) out_ += "\n" + std::string(static_cast<size_t>(indent), ' ');
      out_ += chunks[i];
    }
    if (level == 1) out_ += ')';
  }

  int width_;
  std::string out_;
};

}  // namespace

size_t length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string reprString(std::string_view text) {
  const bool single = text.find('\'') != std::string_view::npos;
  const bool dbl = text.find('"') != std::string_view::npos;
  const char quote = single && !dbl ? '"' : '\'';
  std::string out(1, quote);
  for (size_t i = 0; i < text.size();) {
    const size_t at = i;
    const char32_t cp = nextCodePoint(text, i);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (printable(cp)) {
      out.append(text.substr(at, i - at));
    } else if (cp < 0x100) {
      appendHex(out, "\\x", cp, 2);
    } else if (cp < 0x10000) {
      appendHex(out, "\\u", cp, 4);
    } else {
      appendHex(out, "\\U", cp, 8);
    }
  }
  out += quote;
  return out;
}

std::string repr(const Value& value) { return reprWith(value, false); }

std::string pformat(const Value& value, int width) { return PrettyPrinter(width).format(value); }

namespace {

// int()'s grammar: whitespace, a sign, digits with single underscores between them, whitespace.
// Returns the digits (without underscores), or nullopt.
std::optional<std::pair<bool, std::string>> intDigits(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == '_' || text.back() == '_') return std::nullopt;
  std::string digits;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      if (text[i - 1] == '_') return std::nullopt;
      continue;
    }
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    digits += text[i];
  }
  return std::make_pair(negative, digits);
}

}  // namespace

bool intSyntax(std::string_view text) { return intDigits(text).has_value(); }

std::optional<int64_t> parseInt(std::string_view text) {
  const auto parsed = intDigits(text);
  if (!parsed) return std::nullopt;
  const auto& [negative, digits] = *parsed;
  uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (magnitude > limit) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

std::string intError(std::string_view text) {
  return "invalid literal for int() with base 10: " + reprString(text);
}

}  // namespace bwfloor::placement::python
