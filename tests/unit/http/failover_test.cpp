// FailoverClient: the endpoints of one service's replicas, tried in turn when one cannot be
// reached or answers 503 (a replica behind the database serves no reads; a 503 changed nothing),
// sticking to the one that answers; any other HTTP error status is an answer, not a failover.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>
#include <string>

#include "core/logging.h"
#include "http/client.h"
#include "http/server.h"

namespace bwfloor::http {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<HttpServer> replica(const std::string& name, int status = 200) {
  ServerOptions options;
  options.port = 0;
  auto server = std::make_unique<HttpServer>(options, [name, status](const Request&) {
    Response r;
    r.status = status;
    r.body = name;
    return r;
  });
  EXPECT_TRUE(server->start());
  return server;
}

Url at(uint16_t port) { return parseUrl("http://127.0.0.1:" + std::to_string(port)).value(); }

TEST(FailoverClientTest, AnUnreachableReplicaIsSkippedAndTheOneThatAnswersIsKept) {
  auto a = replica("a");
  auto b = replica("b");
  const uint16_t portA = a->port();
  FailoverClient client({at(portA), at(b->port())}, std::chrono::seconds(5));
  EXPECT_EQ(client.send("GET", "/").value().body, "a");
  a.reset();  // replica a dies: its connections close, its port refuses
  EXPECT_EQ(client.send("GET", "/").value().body, "b");
  EXPECT_EQ(client.current().port, b->port());
  EXPECT_EQ(client.send("GET", "/").value().body, "b") << "b is kept";
  b.reset();
  auto none = client.send("GET", "/");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(none.error().message(), HasSubstr("no endpoint answered"));
  EXPECT_THAT(none.error().message(), HasSubstr(":" + std::to_string(portA) + "/"));
}

// A server that accepts and never answers: the client's timeout ends the wait (Beast's timeouts
// apply to asynchronous operations only; the client used to block forever).
TEST(FailoverClientTest, AReplicaThatNeverAnswersTimesOutAndTheNextOneAnswers) {
  ServerOptions options;
  options.port = 0;
  HttpServer silent(options, [](Request&&, Responder) {});  // never responds
  ASSERT_TRUE(silent.start());
  auto healthy = replica("healthy");
  HttpClient alone(at(silent.port()), std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  auto timedOut = alone.send("GET", "/");
  ASSERT_FALSE(timedOut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  FailoverClient client({at(silent.port()), at(healthy->port())}, std::chrono::milliseconds(300));
  auto resp = client.send("GET", "/");
  ASSERT_TRUE(resp) << resp.error().message();
  EXPECT_EQ(resp->body, "healthy");
  silent.stop();
}

TEST(FailoverClientTest, AnHttpErrorIsAnAnswerNotAFailover) {
  auto failing = replica("broken", 500);
  auto healthy = replica("healthy");
  FailoverClient client({at(failing->port()), at(healthy->port())}, std::chrono::seconds(5));
  auto resp = client.send("GET", "/");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 500);
  EXPECT_EQ(resp->body, "broken");
}

TEST(FailoverClientTest, A503FailsOverAndIsTheAnswerOnlyWhenEveryReplicaGivesIt) {
  auto behind = replica("behind", 503);
  auto healthy = replica("healthy");
  FailoverClient client({at(behind->port()), at(healthy->port())}, std::chrono::seconds(5));
  auto resp = client.send("POST", "/");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "healthy");
  healthy.reset();
  auto alone = client.send("GET", "/");
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->status, 503);
  EXPECT_EQ(alone->body, "behind");
}

// Issue 17: the server mints a request id and what the handler logs carries it.
TEST(HttpServerRequestIdTest, EachRequestHasAnIdThatItsHandlersLogLinesCarry) {
  std::ostringstream logged;
  LogOptions capture;
  capture.sinkForTest = std::make_shared<spdlog::sinks::ostream_sink_mt>(logged);
  initLogging(capture);
  ServerOptions options;
  options.port = 0;
  HttpServer server(options, [](const Request& req) {
    logger("placement")->info("handling {}", req.path);
    Response r;
    r.body = req.requestId;
    return r;
  });
  ASSERT_TRUE(server.start());
  HttpClient client(at(server.port()), std::chrono::seconds(5));
  const std::string first = client.send("GET", "/one").value().body;
  const std::string second = client.send("GET", "/two").value().body;
  server.stop();
  initLogging(LogOptions{});
  EXPECT_EQ(first.rfind("req-", 0), 0U) << first;
  EXPECT_NE(first, second);
  EXPECT_THAT(logged.str(), HasSubstr("placement: " + first + " handling /one"));
  EXPECT_THAT(logged.str(), HasSubstr("placement: " + second + " handling /two"));
}

TEST(FailoverClientTest, EndpointListsParseOrNameTheBadItem) {
  auto list = parseUrlList("http://a:1/placement, https://b/placement");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2U);
  EXPECT_EQ((*list)[1].origin(), "https://b:443");
  EXPECT_THAT(parseUrlList("http://a:1,,http://b").error().message(), HasSubstr("empty item"));
  EXPECT_THAT(parseUrlList("http://a:1,ftp://b").error().message(), HasSubstr("ftp://b"));
}

}  // namespace
}  // namespace bwfloor::http
