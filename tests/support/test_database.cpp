#include "support/test_database.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <vector>

namespace repute::testing {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

struct ConnectionDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, ConnectionDeleter>;

// A connection to the server's maintenance database (the URL in REPUTE_TEST_POSTGRES).
Connection connect_admin(std::string& failure) {
  const std::string url = env("REPUTE_TEST_POSTGRES");
  const char* keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"3", url.c_str(), nullptr};
  Connection conn(PQconnectdbParams(keywords, values, 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    failure = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!failure.empty() && (failure.back() == '\n' || failure.back() == ' ')) failure.pop_back();
    return nullptr;
  }
  return conn;
}

void run(PGconn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string message = ok ? "" : PQresultErrorMessage(result);
  PQclear(result);
  if (!ok) throw std::runtime_error(sql + ": " + message);
}

// The URL of REPUTE_TEST_POSTGRES with its database name replaced.
std::string with_database(const std::string& url, const std::string& name) {
  const std::size_t authority = url.find("://");
  const std::size_t slash = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  const std::size_t query = url.find('?');
  const std::string base = url.substr(0, slash == std::string::npos ? (query == std::string::npos ? url.size() : query)
                                                                    : slash);
  const std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + name + rest;
}

// The databases this program made; dropped when the tests are over.
class Databases : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!on_postgres()) return;
    std::string why;
    if (env("REPUTE_TEST_POSTGRES").empty()) {
      why = "REPUTE_TEST_POSTGRES is not set";
    } else if (!connect_admin(why)) {
      why = "cannot reach REPUTE_TEST_POSTGRES: " + why;
    }
    if (why.empty()) return;
    if (env("REPUTE_REQUIRE_POSTGRES") == "1") {
      GTEST_FAIL() << "PostgreSQL tests need a server: " << why;
    }
    // ctest counts a test whose output holds gtest's skip marker as skipped.
    std::printf("[  SKIPPED ] PostgreSQL tests: %s (scripts/postgres-test-server.sh start prints one)\n", why.c_str());
    GTEST_SKIP();
  }

  void TearDown() override {
    std::lock_guard lock(mutex_);
    if (made_.empty()) return;
    std::string failure;
    Connection admin = connect_admin(failure);
    if (!admin) return;
    for (const auto& [path, name] : made_) {
      try {
        run(admin.get(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      } catch (const std::exception&) {
        // A database that outlives its test program is removed with the server's folder.
      }
    }
    made_.clear();
  }

  std::string url_for(const std::string& sqlite_path) {
    std::lock_guard lock(mutex_);
    auto found = made_.find(sqlite_path);
    if (found == made_.end()) {
      std::random_device random;
      const std::string name = "repute_test_" + std::to_string(getpid()) + "_" + std::to_string(made_.size()) +
                               "_" + std::to_string(random() % 1000000);
      std::string failure;
      Connection admin = connect_admin(failure);
      if (!admin) throw std::runtime_error("cannot reach the PostgreSQL test server: " + failure);
      run(admin.get(), "CREATE DATABASE " + name);
      found = made_.emplace(sqlite_path, name).first;
    }
    return with_database(env("REPUTE_TEST_POSTGRES"), found->second);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> made_;
};

Databases& databases() {
  // gtest owns and deletes the environment at exit.
  static Databases* const instance = [] {
    auto* made = new Databases;
    ::testing::AddGlobalTestEnvironment(made);
    return made;
  }();
  return *instance;
}

// Registered before main runs, so the PostgreSQL run is skipped (or failed) as a whole without a server.
[[maybe_unused]] const bool kRegistered = (databases(), true);

}  // namespace

bool on_postgres() { return env("REPUTE_TEST_BACKEND") == "postgres"; }

std::string database_url(const std::string& sqlite_path) {
  if (!on_postgres()) return "sqlite://" + sqlite_path;
  return databases().url_for(sqlite_path);
}

}  // namespace repute::testing
