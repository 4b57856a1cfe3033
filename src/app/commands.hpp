#pragma once
// app: the repute command line. Each subcommand is a function that returns the process exit code.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace repute::app {

// Options of `repute serve`.
struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string database = "sqlite://./data/repute.db";
  bool dev = false;
  std::vector<std::string> allow_cidrs;
  std::string log_level = "info";
  int threads = 0;
  bool synchronous_full = true;
  std::string node_id;  // empty: host name and process id
  int pool_size = 8;    // PostgreSQL connections per node for writes (and as many for reads)
  // The delivery engine (DESIGN §3); times in seconds.
  int max_in_flight = 256;
  int max_in_flight_per_webhook = 32;
  double connect_timeout = 5;
  double attempt_timeout = 15;
  double delivery_lease = 30;
  double disable_after = 5 * 24 * 3600;
  double retry_time_scale = 1;
  std::string retry_schedule;             // comma-separated seconds; empty: the default schedule
  std::vector<std::string> resolve;       // fixed name resolutions "host:port:address" (tests)
  // Scans: how long an http source has to answer.
  double source_timeout = 10;
};

// Options of `repute listen`.
struct ListenOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9000;
  std::optional<std::string> secret;  // checks both signatures when set
};

int run_serve(const ServeOptions& options);
int run_migrate(const std::string& database);
int run_keys_create(const std::string& database, const std::string& tenant);
int run_keys_list(const std::string& database);
int run_keys_revoke(const std::string& database, const std::string& key_id);
// Receives webhooks on loopback, checks their signatures and prints one line per event.
int run_listen(const ListenOptions& options);

// Prints one line to stdout and flushes it at once, even when stdout is a pipe.
void print_line(const std::string& line);

}  // namespace repute::app
