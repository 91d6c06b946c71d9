#include "agent/config/neutron_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "core/units.h"

namespace bwfloor::agent {
namespace {

std::string trim(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n";
  const auto first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(kBlanks) - first + 1));
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

Error invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::vector<std::string> splitColons(const std::string& item) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t colon = item.find(':', start);
    fields.push_back(trim(std::string_view(item).substr(start, colon - start)));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return fields;
}

Result<BandwidthTotal> parseDirection(const std::string& field, const char* direction,
                                      const std::string& item) {
  if (field.empty()) return BandwidthTotal::unreported();
  std::string lower = field;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "auto") return BandwidthTotal::fromLinkSpeed();
  auto kbps = parseKbps(field);
  if (!kbps) {
    return invalid(std::string(direction) + " of " + quoted(item) + ": " + kbps.error().message() +
                   " (expected a non-negative integer of kbit/s, " + "empty or \"auto\")");
  }
  if (kbps->kbps() > kMaxPlacementTotal) {
    return invalid(std::string(direction) + " of " + quoted(item) + ": " + field +
                   " kbit/s is above " + std::to_string(kMaxPlacementTotal) +
                   ", the largest total placement stores");
  }
  return BandwidthTotal::fixed(kbps->kbps());
}

Result<int64_t> parseNonNegativeInt(const std::string& key, const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) {
    return invalid(key + ": expected a non-negative integer, got " + quoted(text));
  }
  return value;
}

Result<double> parseNonNegativeFloat(const std::string& key, const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) || value < 0) {
    return invalid(key + ": expected a non-negative number, got " + quoted(text));
  }
  return value;
}

// neutron-lib's _parse_rp_rate: empty = not reported, else a non-negative integer.
Result<std::optional<uint64_t>> parseRate(const std::string& field) {
  if (field.empty()) return std::optional<uint64_t>();
  uint64_t value = 0;
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return invalid(
        "Cannot parse string value to an integer. Expected: non-negative integer value, got: " +
        field);
  }
  if (value > kMaxPlacementTotal) {
    return invalid(field + " is above " + std::to_string(kMaxPlacementTotal) +
                   ", the largest total placement stores");
  }
  return std::optional<uint64_t>(value);
}

// neutron-lib's _parse_rp_options + _rp_pp_set_default_hypervisor, without the option prefix.
Result<std::vector<PacketRateTotal>> parsePacketRateItems(const std::vector<std::string>& items,
                                                          bool withDirection,
                                                          const std::string& host) {
  const size_t tupleLen = withDirection ? 3 : 2;
  std::vector<PacketRateTotal> totals;
  for (const auto& item : items) {
    const std::string full =
        item.find(':') == std::string::npos ? item + std::string(tupleLen - 1, ':') : item;
    const std::vector<std::string> fields = splitColons(full);
    if (fields.size() != tupleLen) {
      return invalid("Expected a tuple with " + std::to_string(tupleLen) + " values, got: " + full);
    }
    PacketRateTotal total;
    total.hypervisor = fields[0];
    const auto same = [&](const PacketRateTotal& o) { return o.hypervisor == total.hypervisor; };
    if (std::any_of(totals.begin(), totals.end(), same)) {
      return invalid("Same resource name listed multiple times: \"" + total.hypervisor + "\"");
    }
    if (withDirection) {
      ASSIGN_OR_RETURN(total.egressKpps, parseRate(fields[1]));
      ASSIGN_OR_RETURN(total.ingressKpps, parseRate(fields[2]));
    } else {
      ASSIGN_OR_RETURN(total.anyKpps, parseRate(fields[1]));
    }
    totals.push_back(std::move(total));
  }
  const auto named = [&](const std::string& name) {
    return std::find_if(totals.begin(), totals.end(),
                        [&](const PacketRateTotal& t) { return t.hypervisor == name; });
  };
  if (auto unnamed = named(""); unnamed != totals.end()) {
    if (named(host) != totals.end()) {
      return invalid("Found configuration for \"" + host +
                     "\" hypervisor and one without hypervisor name specified that would "
                     "override it.");
    }
    unnamed->hypervisor = host;
  }
  for (const auto& total : totals) {
    // bwfloor's check: the name becomes a provider name that Nova splits on ':'.
    RETURN_IF_ERROR(validateHypervisorName(total.hypervisor));
  }
  return totals;
}

}  // namespace

Result<std::vector<PacketRateTotal>> parsePacketRates(const std::vector<std::string>& items,
                                                      bool withDirection, const std::string& host) {
  auto totals = parsePacketRateItems(items, withDirection, host);
  if (!totals) {
    return invalid(std::string("Cannot parse ") +
                   (withDirection ? kPacketRateWithDirection : kPacketRateWithoutDirection) + ". " +
                   totals.error().message());
  }
  return totals;
}

std::string packetRateOptionsExclusiveText() {
  return std::string(kPacketRateWithoutDirection) + " and " + kPacketRateWithDirection +
         " configuration options are mutually exclusive.";
}

Status validateDeviceName(const std::string& name) {
  if (name.empty()) return invalid("device name is empty");
  if (name.size() > 15) {
    return invalid("device name " + quoted(name) + " is longer than 15 characters, Linux's limit");
  }
  const bool bad =
      name == "." || name == ".." || std::any_of(name.begin(), name.end(), [](unsigned char c) {
        return c == '/' || c == ':' || std::isspace(c) != 0 || std::iscntrl(c) != 0;
      });
  if (bad) return invalid("device name " + quoted(name) + " is not a valid interface name");
  return {};
}

Result<std::vector<std::pair<std::string, std::string>>> parseDictItems(
    const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& item : items) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos) {
      return invalid("item " + quoted(item) + " is not in key:value format");
    }
    std::string key = trim(std::string_view(item).substr(0, colon));
    std::string value = trim(std::string_view(item).substr(colon + 1));
    if (std::any_of(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; })) {
      return invalid("key " + quoted(key) + " is listed more than once");
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  return pairs;
}

Result<std::vector<PhysnetMapping>> parsePhysnetMappings(const std::vector<std::string>& items,
                                                         bool uniquePhysnets) {
  std::vector<PhysnetMapping> mappings;
  for (const auto& item : items) {
    const std::vector<std::string> fields = splitColons(item);
    if (fields.size() != 2) {
      return invalid("invalid mapping " + quoted(item) + ": expected physnet:device");
    }
    PhysnetMapping mapping{fields[0], fields[1]};
    if (mapping.physnet.empty()) return invalid("missing physnet in mapping " + quoted(item));
    if (mapping.device.empty()) return invalid("missing device in mapping " + quoted(item));
    if (auto st = validateDeviceName(mapping.device); !st) {
      return invalid("invalid mapping " + quoted(item) + ": " + st.error().message());
    }
    if (std::find(mappings.begin(), mappings.end(), mapping) != mappings.end()) {
      if (uniquePhysnets) return invalid("mapping " + quoted(item) + " is listed more than once");
      continue;  // parse_mappings(unique_keys=False) keeps one copy
    }
    for (const auto& other : mappings) {
      if (other.device == mapping.device) {
        return invalid("device " + quoted(mapping.device) + " is mapped to two physnets (" +
                       other.physnet + " and " + mapping.physnet + ")");
      }
      if (uniquePhysnets && other.physnet == mapping.physnet) {
        return invalid("physnet " + quoted(mapping.physnet) + " is mapped twice (to " +
                       other.device + " and " + mapping.device + ")");
      }
    }
    mappings.push_back(std::move(mapping));
  }
  return mappings;
}

Result<std::vector<DeviceBandwidth>> parseBandwidths(const std::vector<std::string>& items) {
  std::vector<DeviceBandwidth> bandwidths;
  for (const auto& item : items) {
    // A bare "DEV" means both directions unreported: neutron-lib appends one ':' per key.
    const std::string full = item.find(':') == std::string::npos ? item + "::" : item;
    const std::vector<std::string> fields = splitColons(full);
    if (fields.size() != 3) {
      return invalid("expected DEVICE:EGRESS_KBPS:INGRESS_KBPS (3 fields), got " +
                     std::to_string(fields.size()) + " in " + quoted(item));
    }
    DeviceBandwidth bw;
    bw.device = fields[0];
    if (bw.device.empty()) return invalid("missing device name in " + quoted(item));
    const auto same = [&](const DeviceBandwidth& other) { return other.device == bw.device; };
    if (std::any_of(bandwidths.begin(), bandwidths.end(), same)) {
      return invalid("device " + quoted(bw.device) + " is listed more than once");
    }
    ASSIGN_OR_RETURN(bw.egress, parseDirection(fields[1], "egress", item));
    ASSIGN_OR_RETURN(bw.ingress, parseDirection(fields[2], "ingress", item));
    bandwidths.push_back(std::move(bw));
  }
  return bandwidths;
}

Result<InventoryDefaults> parseInventoryDefaults(const std::vector<std::string>& items) {
  ASSIGN_OR_RETURN(auto pairs, parseDictItems(items));
  InventoryDefaults defaults{std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  for (const auto& [key, value] : pairs) {
    if (key == "allocation_ratio") {
      ASSIGN_OR_RETURN(defaults.allocationRatio, parseNonNegativeFloat(key, value));
    } else if (key == "min_unit") {
      ASSIGN_OR_RETURN(defaults.minUnit, parseNonNegativeInt(key, value));
    } else if (key == "max_unit") {
      ASSIGN_OR_RETURN(defaults.maxUnit, parseNonNegativeInt(key, value));
    } else if (key == "reserved") {
      ASSIGN_OR_RETURN(defaults.reserved, parseNonNegativeInt(key, value));
    } else if (key == "step_size") {
      ASSIGN_OR_RETURN(defaults.stepSize, parseNonNegativeInt(key, value));
    } else {
      return invalid("unexpected key " + quoted(key) +
                     " (allowed: allocation_ratio, min_unit, max_unit, reserved, step_size)");
    }
  }
  if (defaults.minUnit && defaults.maxUnit && *defaults.minUnit > *defaults.maxUnit) {
    return invalid("min_unit " + std::to_string(*defaults.minUnit) + " is above max_unit " +
                   std::to_string(*defaults.maxUnit));
  }
  return defaults;
}

Status validateHypervisorName(const std::string& name) {
  if (name.empty()) return invalid("hypervisor name is empty");
  if (name.find(':') != std::string::npos) {
    return invalid("hypervisor name " + quoted(name) +
                   " contains ':' (provider names are split on ':' by Nova)");
  }
  if (trim(name) != name) return invalid("hypervisor name " + quoted(name) + " has blanks");
  return {};
}

Result<std::map<std::string, std::string>> parseHypervisors(const std::vector<std::string>& items) {
  ASSIGN_OR_RETURN(auto pairs, parseDictItems(items));
  std::map<std::string, std::string> hypervisors;
  for (auto& [device, hypervisor] : pairs) {
    if (device.empty()) return invalid("missing device name in " + quoted(":" + hypervisor));
    if (auto st = validateHypervisorName(hypervisor); !st) {
      return invalid("device " + quoted(device) + ": " + st.error().message());
    }
    hypervisors.emplace(std::move(device), std::move(hypervisor));
  }
  return hypervisors;
}

}  // namespace bwfloor::agent
