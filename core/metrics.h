#pragma once
// Prometheus metrics in the text exposition format (version 0.0.4), for the server's and the
// agent's /metrics. Hand-written because Debian 12 packages no C++ Prometheus client; this is the
// small part we need: counters and histograms that hot paths update without a lock, and gauges
// that a collector computes at scrape time from the state it already keeps.
//
//   MetricsRegistry metrics;
//   auto& requests = metrics.counter("bwfloor_http_requests_total", "HTTP requests.",
//                                    {{"route", "/placement/resource_providers"}, {"code",
//                                    "200"}});
//   requests.add();
//   metrics.addCollector([&](MetricsWriter& out) { out.gauge("bwfloor_providers", "...", {}, n);
//   }); std::string text = metrics.render();

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bwfloor {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricCounter {
 public:
  void add(double v = 1) {
    double cur = value_.load();
    while (!value_.compare_exchange_weak(cur, cur + v)) {
    }
  }
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets as Prometheus defines them (`le`), plus _sum and _count.
class MetricHistogram {
 public:
  explicit MetricHistogram(std::vector<double> bounds);
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket counts (not cumulative), the last one is +Inf.
  std::vector<uint64_t> counts() const;
  double sum() const { return sum_.value(); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  MetricCounter sum_;
};

// Latency buckets in seconds: 0.5 ms to 30 s.
std::vector<double> latencyBuckets();

// What a collector writes at scrape time.
class MetricsWriter {
 public:
  void gauge(const std::string& name, const std::string& help, const MetricLabels& labels,
             double value);
  void counter(const std::string& name, const std::string& help, const MetricLabels& labels,
               double value);

 private:
  friend class MetricsRegistry;
  struct Family {
    std::string type;
    std::string help;
    std::vector<std::pair<MetricLabels, double>> samples;
  };
  void sample(const std::string& name, const char* type, const std::string& help,
              const MetricLabels& labels, double value);
  std::map<std::string, Family> families_;
};

class MetricsRegistry {
 public:
  // The series of a family with these labels, created on first use; the reference stays valid
  // for the registry's life.
  MetricCounter& counter(const std::string& name, const std::string& help,
                         const MetricLabels& labels);
  MetricHistogram& histogram(const std::string& name, const std::string& help,
                             const MetricLabels& labels, const std::vector<double>& bounds);
  void addCollector(std::function<void(MetricsWriter&)> collector);
  // Every family, sorted by name; label values escaped as the format requires.
  std::string render() const;

 private:
  template <typename T>
  struct Family {
    std::string help;
    std::map<MetricLabels, std::unique_ptr<T>> series;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family<MetricCounter>> counters_;
  std::map<std::string, Family<MetricHistogram>> histograms_;
  std::vector<std::function<void(MetricsWriter&)>> collectors_;
};

// `name{a="x",b="y"}` with the format's escaping (\\, \", \n).
std::string metricSeries(const std::string& name, const MetricLabels& labels);

}  // namespace bwfloor
