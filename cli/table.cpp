#include "cli/table.h"

#include <algorithm>
#include <ostream>

namespace bwfloor::cli {

std::string cell(const nlohmann::json& value) {
  if (value.is_null()) return "None";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string out;
    for (const auto& v : value) out += (out.empty() ? "" : ", ") + cell(v);
    return out;
  }
  return value.dump();
}

void printTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  auto rule = [&] {
    out << '+';
    for (size_t w : width) out << std::string(w + 2, '-') << '+';
    out << '\n';
  };
  auto line = [&](const std::vector<std::string>& cells) {
    out << '|';
    for (size_t i = 0; i < width.size(); ++i) {
      std::string c = i < cells.size() ? cells[i] : "";
      out << ' ' << c << std::string(width[i] - c.size(), ' ') << " |";
    }
    out << '\n';
  };
  rule();
  line(headers);
  rule();
  for (const auto& row : rows) line(row);
  rule();
}

void printObject(std::ostream& out, const nlohmann::json& object,
                 const std::vector<std::string>& fields) {
  std::vector<std::vector<std::string>> rows;
  if (fields.empty()) {
    for (const auto& [k, v] : object.items()) rows.push_back({k, cell(v)});
  } else {
    for (const auto& f : fields) {
      nlohmann::json::json_pointer ptr("/" + f);
      std::string name = f;
      std::replace(name.begin(), name.end(), '/', '.');
      rows.push_back({name, object.contains(ptr) ? cell(object[ptr]) : ""});
    }
  }
  printTable(out, {"Field", "Value"}, rows);
}

}  // namespace bwfloor::cli
