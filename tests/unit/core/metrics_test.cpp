// The Prometheus text format as core/metrics.h writes it: counters, cumulative histogram
// buckets, collectors' gauges, label escaping, one HELP/TYPE per family.
#include "core/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bwfloor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CountersHistogramsAndCollectorsRenderInTheTextFormat) {
  MetricsRegistry r;
  r.counter("x_requests_total", "Requests.", {{"code", "200"}}).add();
  r.counter("x_requests_total", "Requests.", {{"code", "200"}}).add(2);
  r.counter("x_requests_total", "Requests.", {{"code", "404"}}).add();
  auto& h = r.histogram("x_seconds", "Latency.", {}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive
  h.observe(0.5);
  h.observe(7);
  r.addCollector([](MetricsWriter& out) {
    out.gauge("x_providers", "Providers.", {}, 12);
    out.gauge("x_usage", "Usage.", {{"resource_class", "VCPU"}}, 1.5);
  });
  const std::string text = r.render();
  EXPECT_THAT(text, HasSubstr("# HELP x_requests_total Requests.\n# TYPE x_requests_total "
                              "counter\nx_requests_total{code=\"200\"} 3\n"
                              "x_requests_total{code=\"404\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE x_seconds histogram\nx_seconds_bucket{le=\"0.1\"} 2\n"
                              "x_seconds_bucket{le=\"1\"} 3\nx_seconds_bucket{le=\"+Inf\"} 4\n"
                              "x_seconds_sum 7.65\nx_seconds_count 4\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE x_providers gauge\nx_providers 12\n"));
  EXPECT_THAT(text, HasSubstr("x_usage{resource_class=\"VCPU\"} 1.5\n"));
  // Families in name order, each header once.
  EXPECT_LT(text.find("x_providers"), text.find("x_requests_total"));
  EXPECT_EQ(text.find("# TYPE x_requests_total"), text.rfind("# TYPE x_requests_total"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(metricSeries("m", {{"path", "a\"b\\c\nd"}}), "m{path=\"a\\\"b\\\\c\\nd\"}");
  EXPECT_EQ(metricSeries("m", {}), "m");
  MetricsRegistry r;
  r.counter("m_total", "Two\nlines.", {}).add();
  EXPECT_THAT(r.render(), HasSubstr("# HELP m_total Two\\nlines.\n"));
  EXPECT_THAT(r.render(), Not(HasSubstr("Two\nlines")));
}

}  // namespace
}  // namespace bwfloor
