#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace bwfloor {
namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The format's escaping: backslash and newline everywhere, the double quote in label values.
std::string escape(const std::string& v, bool quotes) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + escape(help, false) + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string metricSeries(const std::string& name, const MetricLabels& labels) {
  if (labels.empty()) return name;
  std::string out = name + "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + escape(labels[i].second, true) + "\"";
  }
  return out + "}";
}

MetricHistogram::MetricHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void MetricHistogram::observe(double v) {
  const size_t i =
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();  // le: v <= bound
  counts_[i].fetch_add(1);
  sum_.add(v);
}

std::vector<uint64_t> MetricHistogram::counts() const {
  std::vector<uint64_t> out;
  for (size_t i = 0; i <= bounds_.size(); ++i) out.push_back(counts_[i].load());
  return out;
}

std::vector<double> latencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

void MetricsWriter::sample(const std::string& name, const char* type, const std::string& help,
                           const MetricLabels& labels, double value) {
  Family& f = families_[name];
  f.type = type;
  f.help = help;
  f.samples.emplace_back(labels, value);
}

void MetricsWriter::gauge(const std::string& name, const std::string& help,
                          const MetricLabels& labels, double value) {
  sample(name, "gauge", help, labels, value);
}

void MetricsWriter::counter(const std::string& name, const std::string& help,
                            const MetricLabels& labels, double value) {
  sample(name, "counter", help, labels, value);
}

MetricCounter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                        const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  auto& family = counters_[name];
  family.help = help;
  auto& series = family.series[labels];
  if (!series) series = std::make_unique<MetricCounter>();
  return *series;
}

MetricHistogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                            const MetricLabels& labels,
                                            const std::vector<double>& bounds) {
  std::lock_guard lock(mutex_);
  auto& family = histograms_[name];
  family.help = help;
  auto& series = family.series[labels];
  if (!series) series = std::make_unique<MetricHistogram>(bounds);
  return *series;
}

void MetricsRegistry::addCollector(std::function<void(MetricsWriter&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::render() const {
  // Each family once, in name order, whichever way it is kept.
  std::map<std::string, std::string> families;
  std::vector<std::function<void(MetricsWriter&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
    for (const auto& [name, family] : counters_) {
      std::string& out = families[name];
      header(out, name, family.help, "counter");
      for (const auto& [labels, c] : family.series) {
        out += metricSeries(name, labels) + " " + number(c->value()) + "\n";
      }
    }
    for (const auto& [name, family] : histograms_) {
      std::string& out = families[name];
      header(out, name, family.help, "histogram");
      for (const auto& [labels, h] : family.series) {
        const auto counts = h->counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          MetricLabels le = labels;
          le.emplace_back("le", i < h->bounds().size() ? number(h->bounds()[i]) : "+Inf");
          out += metricSeries(name + "_bucket", le) + " " + std::to_string(cumulative) + "\n";
        }
        out += metricSeries(name + "_sum", labels) + " " + number(h->sum()) + "\n";
        out += metricSeries(name + "_count", labels) + " " + std::to_string(cumulative) + "\n";
      }
    }
  }
  // Collectors run without the registry's lock: they take their own service's locks.
  MetricsWriter writer;
  for (const auto& collect : collectors) collect(writer);
  for (const auto& [name, family] : writer.families_) {
    std::string& out = families[name];
    header(out, name, family.help, family.type.c_str());
    for (const auto& [labels, value] : family.samples) {
      out += metricSeries(name, labels) + " " + number(value) + "\n";
    }
  }
  std::string text;
  for (const auto& [name, body] : families) text += body;
  return text;
}

}  // namespace bwfloor
