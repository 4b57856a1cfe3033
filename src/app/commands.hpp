#pragma once
// app: the repute command line. Each subcommand is a function that returns the process exit code.
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
};

int run_serve(const ServeOptions& options);
int run_migrate(const std::string& database);
int run_keys_create(const std::string& database, const std::string& tenant);
int run_keys_list(const std::string& database);
int run_keys_revoke(const std::string& database, const std::string& key_id);

// Prints one line to stdout and flushes it at once, even when stdout is a pipe.
void print_line(const std::string& line);

}  // namespace repute::app
