// HTTPS between HttpServer and HttpClient, with a throwaway CA made by the openssl command in a
// temporary directory: the client verifies the chain and the host name, a client that cannot
// verify gets an error that says so, and bad certificate files stop the server's start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/client.h"
#include "http/server.h"

namespace bwfloor::http {
namespace {

using ::testing::HasSubstr;

// A CA, a server certificate for 127.0.0.1 / localhost signed by it, one for another name signed
// by it, and a second CA that signed nothing here. EC keys: generated in milliseconds.
class ThrowawayPki {
 public:
  ThrowawayPki() {
    dir_ = ::testing::TempDir() + "/bwfloor-pki-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    ok_ = run("openssl req -x509" + key +
              " -keyout ca.key -out ca.pem -days 2 -subj '/CN=test CA'") &&
          run("openssl req -x509" + key +
              " -keyout other-ca.key -out other-ca.pem -days 2 -subj '/CN=other CA'") &&
          issue("server", "IP:127.0.0.1,DNS:localhost") &&
          issue("elsewhere", "DNS:elsewhere.example");
  }
  ~ThrowawayPki() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  bool run(const std::string& command) const {
    return std::system(("cd " + dir_ + " && " + command + " >/dev/null 2>&1").c_str()) == 0;
  }
  bool issue(const std::string& name, const std::string& altNames) const {
    std::ofstream(path(name + ".ext")) << "subjectAltName=" << altNames << "\n";
    return run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               name + ".key -out " + name + ".csr -subj '/CN=" + name + "'") &&
           run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial" +
               " -out " + name + ".pem -days 2 -extfile " + name + ".ext");
  }
  std::string dir_;
  bool ok_ = false;
};

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()) << "openssl could not make the test PKI"; }

  std::unique_ptr<HttpServer> serve(const std::string& cert) {
    ServerOptions options;
    options.port = 0;
    options.tls = TlsFiles{pki_.path(cert + ".pem"), pki_.path(cert + ".key")};
    auto server = std::make_unique<HttpServer>(options, [](const Request& req) {
      Response r;
      r.status = 200;
      r.body = "secure " + req.path;
      return r;
    });
    EXPECT_TRUE(server->start());
    return server;
  }

  static Url url(const std::string& scheme, const std::string& host, uint16_t port) {
    return parseUrl(scheme + "://" + host + ":" + std::to_string(port) + "/base").value();
  }

  ThrowawayPki pki_;
};

TEST_F(HttpsTest, AClientThatTrustsTheCaGetsItsAnswerOverTls) {
  auto server = serve("server");
  for (const char* host : {"127.0.0.1", "localhost"}) {
    HttpClient client(url("https", host, server->port()), std::chrono::seconds(5),
                      {pki_.path("ca.pem")});
    for (int i = 0; i < 2; ++i) {  // the second request reuses the connection
      auto resp = client.send("GET", "/x");
      ASSERT_TRUE(resp) << resp.error().message();
      EXPECT_EQ(resp->status, 200);
      EXPECT_EQ(resp->body, "secure /base/x");
    }
  }
}

TEST_F(HttpsTest, AServerTheClientCannotVerifyIsRefusedWithTheReason) {
  auto server = serve("server");
  HttpClient untrusted(url("https", "127.0.0.1", server->port()), std::chrono::seconds(5),
                       {pki_.path("other-ca.pem")});
  auto refused = untrusted.send("GET", "/x");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(refused.error().message(), HasSubstr(pki_.path("other-ca.pem")));

  auto misnamed = serve("elsewhere");
  HttpClient wrongName(url("https", "127.0.0.1", misnamed->port()), std::chrono::seconds(5),
                       {pki_.path("ca.pem")});
  auto wrong = wrongName.send("GET", "/x");
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().message(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(wrong.error().message(), HasSubstr("name 127.0.0.1"));

  HttpClient noCaFile(url("https", "127.0.0.1", server->port()), std::chrono::seconds(5),
                      {pki_.path("missing.pem")});
  auto missing = noCaFile.send("GET", "/x");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("CA file " + pki_.path("missing.pem")));
}

TEST_F(HttpsTest, PlainHttpToATlsServerGetsNoAnswerAndTheServerStaysUp) {
  auto server = serve("server");
  HttpClient plain(url("http", "127.0.0.1", server->port()), std::chrono::seconds(5));
  EXPECT_FALSE(plain.send("GET", "/x"));
  HttpClient secure(url("https", "127.0.0.1", server->port()), std::chrono::seconds(5),
                    {pki_.path("ca.pem")});
  auto resp = secure.send("GET", "/x");
  ASSERT_TRUE(resp) << resp.error().message();
  EXPECT_EQ(resp->status, 200);
}

TEST_F(HttpsTest, BadCertificateFilesStopTheStartNamingTheFile) {
  ServerOptions options;
  options.port = 0;
  options.tls = TlsFiles{pki_.path("nope.pem"), pki_.path("server.key")};
  HttpServer missingCert(options, [](const Request&) { return Response{}; });
  auto st = missingCert.start();
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr(pki_.path("nope.pem")));

  options.tls = TlsFiles{pki_.path("server.pem"), pki_.path("elsewhere.key")};
  HttpServer wrongKey(options, [](const Request&) { return Response{}; });
  st = wrongKey.start();
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr(pki_.path("elsewhere.key")));
}

TEST(UrlTest, HttpsUrlsParseWithTheirDefaultPort) {
  auto url = parseUrl("https://placement.example/placement/");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->https);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->basePath, "/placement");
  EXPECT_EQ(url->origin(), "https://placement.example:443");
  EXPECT_FALSE(parseUrl("ftp://x"));
  EXPECT_FALSE(parseUrl("http://x").value().https);
}

}  // namespace
}  // namespace bwfloor::http
