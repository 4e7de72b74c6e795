#include "core/metrics.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(MetricsTest, RendersCounterWithHelpAndType) {
  Metrics metrics;
  metrics.AddCounter("inkwell_jobs_total", "Jobs done").Increment(3);

  const std::string text = metrics.Render();

  EXPECT_EQ(text,
            "# HELP inkwell_jobs_total Jobs done\n"
            "# TYPE inkwell_jobs_total counter\n"
            "inkwell_jobs_total 3\n");
}

TEST(MetricsTest, WritesHelpAndTypeOncePerNameAndKeepsSeriesTogether) {
  Metrics metrics;
  metrics.AddCounter("requests_total", "Requests", R"(route="/a",status="200")").Increment();
  metrics.AddCounter("other_total", "Other").Increment(7);
  metrics.AddCounter("requests_total", "Requests", R"(route="/b",status="404")").Increment(2);

  const std::string text = metrics.Render();

  EXPECT_EQ(CountOf(text, "# HELP requests_total "), 1U);
  EXPECT_EQ(CountOf(text, "# TYPE requests_total counter"), 1U);
  EXPECT_NE(text.find("# TYPE requests_total counter\n"
                      "requests_total{route=\"/a\",status=\"200\"} 1\n"
                      "requests_total{route=\"/b\",status=\"404\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("other_total 7\n"), std::string::npos) << text;
}

TEST(MetricsTest, ReturnsTheSameCounterForTheSameNameAndLabels) {
  Metrics metrics;
  Counter& first = metrics.AddCounter("hits_total", "Hits", R"(page="x")");

  Counter& second = metrics.AddCounter("hits_total", "Hits", R"(page="x")");
  Counter& other = metrics.AddCounter("hits_total", "Hits", R"(page="y")");

  EXPECT_EQ(&first, &second);
  EXPECT_NE(&first, &other);
}

TEST(MetricsTest, CounterStartsAtZeroAndAddsUp) {
  Metrics metrics;
  Counter& counter = metrics.AddCounter("c_total", "C");

  const std::uint64_t before = counter.Value();
  counter.Increment();
  counter.Increment(41);

  EXPECT_EQ(before, 0U);
  EXPECT_EQ(counter.Value(), 42U);
  EXPECT_NE(metrics.Render().find("c_total 42\n"), std::string::npos);
}

TEST(MetricsTest, SamplesGaugeAtEachRender) {
  Metrics metrics;
  double value = 5;
  metrics.AddGauge("queue_depth", "Depth", [&value] { return value; });

  const std::string first = metrics.Render();
  value = 9;
  const std::string second = metrics.Render();

  EXPECT_EQ(first,
            "# HELP queue_depth Depth\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth 5\n");
  EXPECT_NE(second.find("queue_depth 9\n"), std::string::npos) << second;
}

TEST(MetricsTest, RendersWholeGaugeValuesWithoutExponentOrFraction) {
  Metrics metrics;
  metrics.AddGauge("big", "Big", [] { return 1700000000123.0; });
  metrics.AddGauge("negative", "Negative", [] { return -3.0; });

  const std::string text = metrics.Render();

  EXPECT_NE(text.find("big 1700000000123\n"), std::string::npos) << text;
  EXPECT_NE(text.find("negative -3\n"), std::string::npos) << text;
}

TEST(MetricsTest, RendersFractionalGaugeValue) {
  Metrics metrics;
  metrics.AddGauge("ratio", "Ratio", [] { return 0.25; });

  const std::string text = metrics.Render();

  EXPECT_NE(text.find("ratio 0.25\n"), std::string::npos) << text;
}

TEST(MetricsTest, RendersFractionalGaugeValueWithoutLosingPrecision) {
  Metrics metrics;
  metrics.AddGauge("age_seconds", "Age", [] { return 1234567.5; });

  const std::string text = metrics.Render();

  // The default ostream precision (6 digits) would print 1.23457e+06.
  EXPECT_NE(text.find("age_seconds 1234567.5\n"), std::string::npos) << text;
}

TEST(MetricsTest, RendersNothingWhenEmpty) {
  const Metrics metrics;

  const std::string text = metrics.Render();

  EXPECT_EQ(text, "");
}

}  // namespace
}  // namespace inkwell::core
