// A full disk, without root or a mount: the running server's file size limit (RLIMIT_FSIZE, what
// `prlimit --pid PID --fsize=BYTES:` sets) is lowered to the size its files have now, so the next write that needs
// more room fails with EFBIG (the server ignores SIGXFSZ), as a write to a full disk fails with ENOSPC. Every write
// must then answer 503 with a clear JSON message while reads go on; when room returns (the limit is raised again)
// writes succeed once more, every acknowledged write is there, nothing refused was half-written, and the database
// passes `PRAGMA integrity_check`.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "integration/harness/http_client.hpp"
#include "integration/harness/repute_process.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr int kMaxFillingWrites = 3000;   // writes tried before the limit must have been reached
constexpr int kWritesWhileFull = 40;      // writes tried once it has been reached: every one must be refused
constexpr std::size_t kUsersBefore = 20;  // written before the limit is lowered

std::string text(const json::value& value) { return std::string(value.as_string()); }


// Sets the soft file size limit of process pid (the hard limit stays, so it can be raised again unprivileged).
bool set_file_size_limit(pid_t pid, rlim_t bytes) {
  rlimit current{};
  if (prlimit(pid, RLIMIT_FSIZE, nullptr, &current) != 0) return false;
  const rlimit wanted{bytes, current.rlim_max};
  return prlimit(pid, RLIMIT_FSIZE, &wanted, nullptr) == 0;
}

// The size of a file, 0 when it does not exist.
std::uintmax_t size_of(const std::string& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// A user body that is easy to find again by its external_id, with some bulk so the files grow quickly.
std::string user_body(const std::string& external_id) {
  return json::serialize(
      json::object{{"external_id", external_id}, {"metadata", json::object{{"padding", std::string(2048, 'p')}}}});
}

TEST(FullDisk, WritesAnswer503WhileFullAndRecoverWithNothingHalfWritten) {
  ReputeProcess server;
  HttpClient client(server.port());
  const Credentials auth = basic(server.dev_key());
  const std::string database = server.folder() + "/repute.db";
  std::set<std::string> acknowledged;  // external_ids answered 201
  std::set<std::string> refused;       // external_ids answered 503
  for (std::size_t i = 0; i < kUsersBefore; ++i) {
    const std::string id = "before-" + std::to_string(i);
    ASSERT_EQ(client.request("POST", "/v1/users", user_body(id), auth).status, 201);
    acknowledged.insert(id);
  }

  // No file may grow past what the biggest one holds now.
  const std::uintmax_t limit = std::max(size_of(database), size_of(database + "-wal"));
  ASSERT_TRUE(set_file_size_limit(server.pid(), limit)) << "prlimit refused: " << std::strerror(errno);

  // Writes go on while they fit in room already allocated; the first that needs more is refused.
  Response first_refusal;
  for (int i = 0; i < kMaxFillingWrites && first_refusal.status == 0; ++i) {
    const std::string id = "filling-" + std::to_string(i);
    const Response response = client.request("POST", "/v1/users", user_body(id), auth);
    if (response.status == 201) {
      acknowledged.insert(id);
    } else {
      ASSERT_EQ(response.status, 503) << "a full disk answered " << response.status << ": " << response.body;
      refused.insert(id);
      first_refusal = response;
    }
  }
  ASSERT_EQ(first_refusal.status, 503) << kMaxFillingWrites << " writes all fit under a limit of " << limit << " bytes";
  EXPECT_EQ(first_refusal.header("Content-Type").value_or(""), "application/json");
  EXPECT_TRUE(first_refusal.header("Retry-After").has_value());
  const std::string detail = text(first_refusal.json().at("detail"));
  EXPECT_TRUE(detail.starts_with("Service temporarily unavailable")) << detail;
  std::printf("[ disk     ] limit %ju bytes; %zu more writes fitted, then: 503 %s\n", limit,
              acknowledged.size() - kUsersBefore, first_refusal.body.c_str());

  // While full: every write of every kind is refused with a 503 (never a 500, never a hang), and reads go on.
  const std::string user =
      text(client.request("GET", "/v1/users?limit=1", "", auth).json().at("results").at(0).at("id"));
  for (int i = 0; i < kWritesWhileFull; ++i) {
    const std::string id = "full-" + std::to_string(i);
    const Response response = client.request("POST", "/v1/users", user_body(id), auth);
    EXPECT_EQ(response.status, 503) << response.body;
    (response.status == 201 ? acknowledged : refused).insert(id);
  }
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/webhooks", R"({"events": ["*"], "name": "full", "url": "http://127.0.0.1:9/full"})"},
           {"/v1/accounts", R"({"user": ")" + user + R"(", "employer": "uber"})"}}) {
    const Response response = client.request("POST", path, body, auth);
    EXPECT_EQ(response.status, 503) << path << ": " << response.body;
  }
  EXPECT_EQ(client.request("GET", "/v1/users", "", auth).status, 200);
  EXPECT_EQ(client.request("GET", "/healthz").status, 200);
  EXPECT_TRUE(server.running());

  // Room returns: writes succeed again, at once or after a short while.
  ASSERT_TRUE(set_file_size_limit(server.pid(), RLIM_INFINITY));
  const auto room = Steady::now();
  bool recovered = false;
  for (int i = 0; !recovered && Steady::now() - room < 10s; ++i) {
    const std::string id = "after-" + std::to_string(i);
    const Response response = client.request("POST", "/v1/users", user_body(id), auth);
    recovered = response.status == 201;
    (recovered ? acknowledged : refused).insert(id);
    if (!recovered) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(recovered) << "writes still refused 10 s after room returned";
  const double recovery_ms = std::chrono::duration<double, std::milli>(Steady::now() - room).count();
  for (int i = 0; i < 20; ++i) {
    const std::string id = "later-" + std::to_string(i);
    ASSERT_EQ(client.request("POST", "/v1/users", user_body(id), auth).status, 201);
    acknowledged.insert(id);
  }

  // Every 201 is there, whole; nothing refused exists, not even in part.
  std::set<std::string> present;
  std::string path = "/v1/users?limit=200";
  for (;;) {
    const json::value page = client.request("GET", path, "", auth).json();
    for (const json::value& item : page.at("results").as_array()) {
      const std::string id = text(item.at("external_id"));
      present.insert(id);
      EXPECT_EQ(item.at("metadata").at("padding").as_string().size(), 2048u) << id;
    }
    if (page.at("next").is_null()) break;
    const std::string next = text(page.at("next"));
    path = next.substr(next.find("/v1/"));
  }
  for (const std::string& id : acknowledged) EXPECT_TRUE(present.count(id)) << "acknowledged but missing: " << id;
  for (const std::string& id : refused) EXPECT_FALSE(present.count(id)) << "refused but written: " << id;
  EXPECT_EQ(present.size(), acknowledged.size());

  EXPECT_EQ(server.stop(), 0);
  EXPECT_EQ(command_output("sqlite3 -readonly '" + database + "' 'PRAGMA integrity_check'"), "ok\n");
  std::printf(
      "[ disk     ] %zu writes refused with 503 while full; writes succeeded again %.0f ms after room "
      "returned; %zu acknowledged users all present, none of the refused; integrity_check ok\n",
      refused.size(), recovery_ms, acknowledged.size());
}

}  // namespace
}  // namespace repute::itest
