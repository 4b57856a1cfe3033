// The `repute` command line: help, flag errors, keys, migrate, and what `serve --dev` prints.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "integration/harness/http_client.hpp"
#include "integration/harness/repute_process.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
const std::regex kTimestamp(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$)");

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string joined(const std::vector<std::string>& args) {
  std::string out = "repute";
  for (const std::string& arg : args) out += " " + arg;
  return out;
}

// Each command runs in its own empty folder, so a default ./data/repute.db lands nowhere shared.
class CliTest : public ::testing::Test {
 protected:
  CommandResult run(const std::vector<std::string>& args) {
    return run_repute(args, std::chrono::seconds(10), folder_.path());
  }
  std::string database(const std::string& name = "cli.db") const { return "sqlite://" + folder_.path() + "/" + name; }

  // Makes a key for tenant on database(); fails the test when the command does not print one.
  ApiKey create_key(const std::string& tenant) {
    const CommandResult result = run({"keys", "create", "--tenant", tenant, "--database", database()});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const auto key = parse_key_line(result.out.substr(0, result.out.find('\n')));
    if (!key) throw std::runtime_error("no key line: " + result.out);
    return *key;
  }

  // Every line of `keys list`, as JSON objects.
  std::vector<json::object> list_keys(const std::string& output) {
    std::vector<json::object> keys;
    for (const std::string& line : lines_of(output)) keys.push_back(json::parse(line).as_object());
    return keys;
  }

  TempDir folder_;
};

TEST_F(CliTest, HelpOnEveryCommandExitsZero) {
  const std::vector<std::vector<std::string>> commands = {
      {"--help"},
      {"-h"},
      {"serve", "--help"},
      {"migrate", "--help"},
      {"keys", "--help"},
      {"keys", "create", "--help"},
      {"keys", "list", "--help"},
      {"keys", "revoke", "--help"},
      {"serve", "-h"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(joined(args));
    const CommandResult result = run(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("Usage"), std::string::npos) << result.out;
    EXPECT_EQ(result.err, "");
  }
  EXPECT_NE(run({"serve", "--help"}).out.find("--dev"), std::string::npos);
  EXPECT_NE(run({"keys", "create", "--help"}).out.find("--tenant"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(folder_.path())) << "help creates no database";
}

void expect_flag_error(const CommandResult& result) {
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
  EXPECT_TRUE(result.err.ends_with("\n")) << result.err;
}

TEST_F(CliTest, BadFlagsExit2WithOneLine) {
  const std::vector<std::vector<std::string>> commands = {
      {},
      {"serve", "--bogus"},
      {"serve", "--dev=maybe"},
      {"serve", "--log-level", "loud"},
      {"serve", "--threads", "-1"},
      {"serve", "--synchronous", "sometimes"},
      {"serve", "--listen"},
      {"migrate", "--nope"},
      {"keys"},
      {"keys", "create"},
      {"keys", "create", "--tenant"},
      {"keys", "create", "--tenant", ""},
      {"keys", "revoke"},
      {"keys", "list", "--secret"},
      {"keys", "list", "unexpected"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(joined(args));
    expect_flag_error(run(args));
  }
  EXPECT_TRUE(std::filesystem::is_empty(folder_.path())) << "a refused command creates no database";
}

TEST_F(CliTest, BadServeFlagValuesExit2WithOneLine) {
  // Values the parser cannot check but serve refuses at once are flag errors too: exit 2, one line.
  for (const auto& args : std::vector<std::vector<std::string>>{{"serve", "--listen", "nonsense"},
                                                                {"serve", "--listen", "127.0.0.1:99999"},
                                                                {"serve", "--allow-cidr", "banana"},
                                                                {"serve", "--attempt-timeout", "0"},
                                                                {"serve", "--delivery-lease", "1"},
                                                                {"serve", "--retry-schedule", "5,soon"},
                                                                {"serve", "--source-timeout", "0"},
                                                                {"serve", "--source-timeout", "301"}}) {
    SCOPED_TRACE(joined(args));
    expect_flag_error(run(args));
  }
}

TEST_F(CliTest, ServeOnABusyPortFailsAtOnce) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string listen_on = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  const CommandResult result = run({"serve", "--dev", "--listen", listen_on, "--database", database()});
  close(fd);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.out, "") << "no key line for a server that is not serving";
  EXPECT_NE(result.err.find("cannot listen on " + listen_on), std::string::npos) << result.err;
}

TEST_F(CliTest, KeysCreatePrintsOneJsonLine) {
  const CommandResult result = run({"keys", "create", "--tenant", "t", "--database", database()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  ASSERT_EQ(lines_of(result.out).size(), 1u) << result.out;
  const json::object line = json::parse(result.out).as_object();
  ASSERT_EQ(line.size(), 2u) << result.out;
  EXPECT_TRUE(std::regex_match(std::string(line.at("api_key_id").as_string()), kUuid)) << result.out;
  EXPECT_GE(line.at("api_key_secret").as_string().size(), 32u) << "a secret long enough to resist guessing";

  const ApiKey second = create_key("t");
  EXPECT_NE(second.id, std::string(line.at("api_key_id").as_string()));
  EXPECT_NE(second.secret, std::string(line.at("api_key_secret").as_string()));
}

TEST_F(CliTest, KeysCreateWithARelativeDatabaseUrlUsesTheWorkingFolder) {
  const CommandResult result = run({"keys", "create", "--tenant", "t", "--database", "sqlite://data/relative.db"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::filesystem::exists(folder_.path() + "/data/relative.db"));
  const CommandResult listed = run({"keys", "list", "--database", "sqlite://data/relative.db"});
  EXPECT_NE(listed.out.find(parse_key_line(lines_of(result.out).at(0))->id), std::string::npos) << listed.out;
}

TEST_F(CliTest, KeysListShowsIdsButNeverSecrets) {
  ReputeProcess server;  // its dev key is in the list as well
  const ApiKey a = server.create_key("alpha");
  const ApiKey b = server.create_key("beta");
  const CommandResult result = server.run_cli({"keys", "list"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  std::map<std::string, std::string> tenants;
  for (const json::object& key : list_keys(result.out)) {
    std::set<std::string> fields;
    for (const auto& item : key) fields.insert(std::string(item.key()));
    EXPECT_EQ(fields, (std::set<std::string>{"api_key_id", "tenant", "created_at", "revoked_at"}))
        << json::serialize(key);
    EXPECT_TRUE(std::regex_match(std::string(key.at("created_at").as_string()), kTimestamp));
    EXPECT_TRUE(key.at("revoked_at").is_null());
    tenants[std::string(key.at("api_key_id").as_string())] = std::string(key.at("tenant").as_string());
  }
  EXPECT_EQ(tenants,
            (std::map<std::string, std::string>{{server.dev_key().id, "sandbox"}, {a.id, "alpha"}, {b.id, "beta"}}));
  for (const std::string& secret : {server.dev_key().secret, a.secret, b.secret}) {
    EXPECT_EQ(result.out.find(secret), std::string::npos) << "a secret is listed";
    EXPECT_EQ(result.err.find(secret), std::string::npos);
  }
}

TEST_F(CliTest, KeysRevoke) {
  const ApiKey kept = create_key("t");
  const ApiKey revoked = create_key("t");

  CommandResult result = run({"keys", "revoke", revoked.id, "--database", database()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(json::parse(result.out), (json::value{{"api_key_id", revoked.id}, {"revoked", true}}));

  for (const json::object& key : list_keys(run({"keys", "list", "--database", database()}).out)) {
    const std::string id(key.at("api_key_id").as_string());
    if (id == revoked.id) {
      EXPECT_TRUE(std::regex_match(std::string(key.at("revoked_at").as_string()), kTimestamp)) << json::serialize(key);
    } else {
      EXPECT_EQ(id, kept.id);
      EXPECT_TRUE(key.at("revoked_at").is_null());
    }
  }

  for (const std::string& id : {revoked.id, std::string("0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9b")}) {
    SCOPED_TRACE(id);
    result = run({"keys", "revoke", id, "--database", database()});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
    EXPECT_NE(result.err.find(id), std::string::npos) << result.err;
  }
}

TEST_F(CliTest, MigrateCreatesTheSchemaAndCanRunAgain) {
  const std::string url = "sqlite://" + folder_.path() + "/nested/folder/repute.db";
  for (int run_number = 0; run_number < 2; ++run_number) {
    SCOPED_TRACE(run_number);
    const CommandResult result = run({"migrate", "--database", url});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(json::parse(result.out), (json::value{{"database", url}, {"migrated", true}}));
    EXPECT_TRUE(std::filesystem::exists(folder_.path() + "/nested/folder/repute.db"));
  }
  const CommandResult keys = run({"keys", "list", "--database", url});
  EXPECT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_EQ(keys.out, "");
}

TEST_F(CliTest, UnsupportedDatabaseUrlIsRefused) {
  for (const std::string url : {"mysql://localhost/repute", "repute.db", "sqlite://"}) {
    SCOPED_TRACE(url);
    const CommandResult result = run({"migrate", "--database", url});
    EXPECT_NE(result.exit_code, 0);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
  }
}

TEST(CliServe, DevKeyLineArrivesOnAPipeWhileTheServerRuns) {
  // The harness reads stdout through a pipe: the line must come without the process exiting.
  ReputeProcess server;
  EXPECT_TRUE(server.running());
  const json::value line = json::parse(server.first_line());
  ASSERT_TRUE(line.is_object());
  EXPECT_EQ(line.as_object().size(), 2u);
  EXPECT_TRUE(std::regex_match(server.dev_key().id, kUuid)) << server.first_line();
  EXPECT_FALSE(server.dev_key().secret.empty());
  HttpClient client(server.port());
  EXPECT_EQ(client.request("GET", "/v1/webhooks", "", basic(server.dev_key())).status, 200);
}

TEST(CliServe, DevPrintsTheSameKeyOnEveryRestart) {
  ReputeProcess server;
  const ApiKey first = server.dev_key();
  server.restart();
  EXPECT_EQ(server.dev_key().id, first.id);
  EXPECT_EQ(server.dev_key().secret, first.secret);
  server.kill9();
  server.restart();
  EXPECT_EQ(server.dev_key().id, first.id);
  EXPECT_EQ(server.dev_key().secret, first.secret);
  HttpClient client(server.port());
  EXPECT_EQ(client.request("GET", "/v1/webhooks", "", basic(first)).status, 200);

  const CommandResult keys = server.run_cli({"keys", "list"});
  EXPECT_EQ(lines_of(keys.out).size(), 1u) << "one dev key, not one per start: " << keys.out;
}

TEST(CliServe, SigintStopsTheServerCleanly) {
  ReputeProcess server;
  ASSERT_EQ(kill(server.pid(), SIGINT), 0);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(10)), std::optional<int>(0)) << server.stderr_text();
  EXPECT_NE(server.stderr_text().find("\"stopped\""), std::string::npos) << server.stderr_text();
}

TEST(CliServe, WithoutDevNothingIsPrintedAndNoKeyIsMade) {
  ReputeProcess server(guarded_options());
  EXPECT_EQ(server.first_line(), "");
  const CommandResult keys = server.run_cli({"keys", "list"});
  EXPECT_EQ(keys.exit_code, 0);
  EXPECT_EQ(keys.out, "") << "no sandbox key without --dev";
}

}  // namespace
}  // namespace repute::itest
