// repute: the reputations webhooks server. `repute --help` lists the commands.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/commands.hpp"

namespace {

constexpr const char* kDefaultDatabase = "sqlite://./data/repute.db";

}  // namespace

int main(int argc, char** argv) {
  using namespace repute::app;
  CLI::App app{"repute: reputations webhooks server (Argyle v1 compatible)", "repute"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "repute 0.1.0");

  ServeOptions serve;
  CLI::App* serve_command = app.add_subcommand("serve", "Run the API, the scan scheduler and the delivery engine");
  serve_command->set_config("--config", "", "Read options from a TOML or INI file (keys as the long flags)");
  serve_command->add_option("--listen", serve.listen, "Address to listen on, HOST:PORT")->capture_default_str();
  serve_command
      ->add_option("--database", serve.database,
                   "sqlite:///abs/path.db, sqlite://rel/path.db or postgres://user:password@host:port/db?sslmode=...")
      ->envname("REPUTE_DATABASE")
      ->capture_default_str();
  serve_command
      ->add_option("--node-id", serve.node_id,
                   "Name of this node in the leases it takes (default: host name and process id)");
  serve_command->add_option("--pool-size", serve.pool_size, "PostgreSQL: connections for writes (as many for reads)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve_command->add_flag("--dev", serve.dev,
                          "Development mode: a sandbox tenant and key (printed on stdout), loopback targets allowed");
  serve_command->add_option("--allow-cidr", serve.allow_cidrs,
                            "Let webhooks target this address range despite the SSRF guard (repeatable)");
  serve_command->add_option("--log-level", serve.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  serve_command->add_option("--threads", serve.threads, "HTTP worker threads (0: one per core)")
      ->check(CLI::Range(0, 256));
  serve_command->add_option_function<std::string>(
                   "--synchronous", [&serve](const std::string& mode) { serve.synchronous_full = mode == "full"; },
                   "SQLite durability: full (fsync every commit, default) or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  serve_command->add_option("--max-in-flight", serve.max_in_flight, "Delivery attempts in flight at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  serve_command
      ->add_option("--max-in-flight-per-webhook", serve.max_in_flight_per_webhook,
                   "Delivery attempts in flight at once to one subscription")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  serve_command->add_option("--connect-timeout", serve.connect_timeout, "Delivery connect timeout, seconds")
      ->capture_default_str();
  serve_command->add_option("--attempt-timeout", serve.attempt_timeout, "Whole delivery attempt timeout, seconds")
      ->capture_default_str();
  serve_command
      ->add_option("--delivery-lease", serve.delivery_lease,
                   "Seconds a claimed delivery is reserved; after a crash it is sent again once this runs out")
      ->capture_default_str();
  serve_command
      ->add_option("--disable-after", serve.disable_after,
                   "Seconds of failure without a success that disable a subscription")
      ->capture_default_str();
  serve_command
      ->add_option("--retry-schedule", serve.retry_schedule,
                   "Retry delays in seconds after each failed attempt, comma-separated (default 5,300,1800,...)");
  serve_command
      ->add_option("--retry-time-scale", serve.retry_time_scale,
                   "Multiplies every retry delay (e.g. 0.001 for tests; Retry-After is not scaled)")
      ->capture_default_str();
  serve_command->add_option("--source-timeout", serve.source_timeout, "Seconds an http source has to answer a scan")
      ->capture_default_str();
  serve_command->add_option("--resolve", serve.resolve,
                            "Fixed name resolution for deliveries, HOST:PORT:ADDRESS (repeatable; for tests)");

  ListenOptions listen;
  CLI::App* listen_command =
      app.add_subcommand("listen", "Receive webhooks locally, check their signatures and print each event");
  listen_command->add_option("--host", listen.host, "Address to listen on")->capture_default_str();
  listen_command->add_option("--port", listen.port, "Port to listen on (0: any free port)")->capture_default_str();
  listen_command->add_option("--secret", listen.secret, "The subscription's secret: check both signatures");

  std::string database = kDefaultDatabase;
  CLI::App* migrate_command = app.add_subcommand("migrate", "Create or upgrade the database schema");
  migrate_command->add_option("--database", database, "Database URL")->envname("REPUTE_DATABASE")->capture_default_str();

  CLI::App* keys_command = app.add_subcommand("keys", "Manage API keys");
  keys_command->require_subcommand(1);
  keys_command->add_option("--database", database, "Database URL")->envname("REPUTE_DATABASE")->capture_default_str();
  std::string tenant;
  CLI::App* keys_create = keys_command->add_subcommand("create", "Make a key for a tenant (made if new); prints it");
  keys_create->add_option("--tenant", tenant, "Tenant name")->required();
  keys_create->add_option("--database", database, "Database URL")->envname("REPUTE_DATABASE")->capture_default_str();
  CLI::App* keys_list = keys_command->add_subcommand("list", "List keys (never their secrets)");
  keys_list->add_option("--database", database, "Database URL")->envname("REPUTE_DATABASE")->capture_default_str();
  std::string key_id;
  CLI::App* keys_revoke = keys_command->add_subcommand("revoke", "Revoke a key at once");
  keys_revoke->add_option("id", key_id, "The api_key_id")->required();
  keys_revoke->add_option("--database", database, "Database URL")->envname("REPUTE_DATABASE")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "repute: %s (see --help)\n", e.what());
    return 2;
  }

  if (serve_command->parsed()) return run_serve(serve);
  if (listen_command->parsed()) return run_listen(listen);
  if (migrate_command->parsed()) return run_migrate(database);
  if (keys_create->parsed()) return run_keys_create(database, tenant);
  if (keys_list->parsed()) return run_keys_list(database);
  if (keys_revoke->parsed()) return run_keys_revoke(database, key_id);
  return 2;
}
