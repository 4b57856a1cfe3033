// Scan scheduler benchmark (issue 3, "Measured"; DESIGN §4, §6).
//
// Builds a fresh SQLite store (WAL, synchronous=FULL as in production) holding one tenant, one user,
// `--webhooks` enabled subscriptions to "*" and `--accounts` sandbox accounts, written through WriteTx in
// units of work of `--batch` accounts. Every account has been scanned once before (it has a reputation
// and scan_count 1) and its next periodic scan lies uniformly over one refresh period that starts a day
// from now, except `--due` accounts, every (accounts / due)-th one, whose scan is due now. In
// `--mode=first` those due accounts were never scanned (no reputation yet, so each scan adds one).
//
// The store is built in a child process (or copied from one made by --build-only, and written through
// to the disk), so that the figures of this process are those of the scheduler alone. This process then
// opens the store with the production defaults, starts the real scan engine (start_scan_engine, default
// ScanOptions; its Fetch is never called: there are no http sources) and measures:
//   burst  the time from the engine's start until every due scan is committed (the engine's
//          repute_scans_total counter, bumped after each durable commit, polled every 5 ms), the CPU
//          this process used meanwhile, the busiest thread's (the store writer's) CPU and its schedstat
//          split (on a CPU / runnable, waiting for one / blocked), and the CPU other processes used;
//   idle   the CPU this process uses over `--idle-seconds` once nothing is due;
//   memory VmRSS / VmHWM of this process (the engine, the store's connections and caches; no per-account
//          state is held in memory: the schedule lives in the accounts_due index).
// It then checks in the database that every due account was scanned exactly once and rescheduled, that
// nothing is left due, and that every event has one delivery per enabled subscription.
//
// Prints a human-readable report and one "RESULT key=value ..." line for bench/scan/run.sh.
// Every loop is bounded in count and in time; the temp dir is removed unless --keep.
#include <sqlite3.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/account.hpp"
#include "core/ids.hpp"
#include "core/reputation.hpp"
#include "core/time.hpp"
#include "core/user.hpp"
#include "core/webhook.hpp"
#include "obs/metrics.hpp"
#include "scan/sandbox_source.hpp"
#include "scan/scan.hpp"
#include "store/store.hpp"

namespace {

using repute::core::Micros;
using repute::core::kMicrosPerSecond;
namespace core = repute::core;
namespace store = repute::store;
namespace scan = repute::scan;

struct Options {
  long accounts = 1'000'000;
  long due = 100'000;
  long batch = 10'000;          // accounts per setup unit of work
  int webhooks = 2;             // enabled subscriptions of the tenant, each to "*"
  std::string mode = "periodic";  // periodic: due accounts have a reputation; first: they were never scanned
  double change_probability = 0.3;
  long refresh_seconds = core::kDefaultRefreshSeconds;
  double idle_seconds = 20;
  double burst_timeout = 600;   // seconds; the burst is abandoned (and reported) after this
  bool sync_full = true;
  int claim_batch = 0;          // 0: the engine's default
  int max_batch = 0;            // 0: the store's default group commit size
  std::string dir;              // where the temp dir is made ($TMPDIR or /tmp)
  bool keep = false;
  std::string build_only;       // build the database at this path and stop
  std::string from;             // start from a copy of this database (made by --build-only) instead of building
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "scan_bench: %s\n"
               "usage: scan_bench [--accounts=N] [--due=N] [--batch=N] [--webhooks=N] [--mode=periodic|first]\n"
               "                  [--change-probability=P] [--refresh-seconds=S] [--idle-seconds=S]\n"
               "                  [--burst-timeout=S] [--sync=full|normal] [--claim-batch=N] [--max-batch=N]\n"
               "                  [--dir=PATH] [--keep] [--build-only=DB | --from=DB]\n"
               "--build-only=DB builds the database at DB (a new file) and stops; --from=DB measures a copy of it\n"
               "(its due accounts stay due; its other scans lie a day or more after it was built).\n",
               problem.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keep") {
      o.keep = true;
      continue;
    }
    const auto eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string::npos) usage("unknown argument " + arg);
    const std::string key = arg.substr(2, eq - 2);
    const std::string value = arg.substr(eq + 1);
    try {
      if (key == "accounts") o.accounts = std::stol(value);
      else if (key == "due") o.due = std::stol(value);
      else if (key == "batch") o.batch = std::stol(value);
      else if (key == "webhooks") o.webhooks = std::stoi(value);
      else if (key == "mode") o.mode = value;
      else if (key == "change-probability") o.change_probability = std::stod(value);
      else if (key == "refresh-seconds") o.refresh_seconds = std::stol(value);
      else if (key == "idle-seconds") o.idle_seconds = std::stod(value);
      else if (key == "burst-timeout") o.burst_timeout = std::stod(value);
      else if (key == "sync") o.sync_full = value == "full" ? true : value == "normal" ? false : (usage("--sync"), true);
      else if (key == "claim-batch") o.claim_batch = std::stoi(value);
      else if (key == "max-batch") o.max_batch = std::stoi(value);
      else if (key == "dir") o.dir = value;
      else if (key == "build-only") o.build_only = value;
      else if (key == "from") o.from = value;
      else usage("unknown option --" + key);
    } catch (const std::exception&) {
      usage("bad value for --" + key);
    }
  }
  if (o.accounts < 1 || o.due < 1 || o.due > o.accounts) usage("need 1 <= due <= accounts");
  if (o.batch < 1 || o.webhooks < 0 || o.refresh_seconds < 60) usage("bad batch, webhooks or refresh-seconds");
  if (o.mode != "periodic" && o.mode != "first") usage("--mode is periodic or first");
  if (o.change_probability < 0 || o.change_probability > 1) usage("--change-probability is in [0, 1]");
  if (o.idle_seconds < 0 || o.idle_seconds > 3600 || o.burst_timeout <= 0 || o.burst_timeout > 3600) {
    usage("--idle-seconds and --burst-timeout are at most 3600");
  }
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A field of /proc/self/status in kB (VmRSS, VmHWM, ...).
long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.starts_with(prefix)) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
  }
  return -1;
}

double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

// CPU time (user + system) of this process, all threads, in seconds.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
}

// System CPU time of this process, all threads, in seconds.
double process_sys_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds_of(usage.ru_stime);
}

// The machine's busy and total CPU time so far, in clock ticks (the first line of /proc/stat).
std::pair<long long, long long> machine_ticks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  long long total = 0, idle = 0, value = 0;
  for (int i = 0; i < 10 && in >> value; ++i) {
    total += value;
    if (i == 3 || i == 4) idle += value;  // idle, iowait
  }
  return {total - idle, total};
}

// CPU time (user + system, in clock ticks) of each thread of this process, by thread id.
std::map<long, long> thread_ticks() {
  std::map<long, long> ticks;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return ticks;
  for (int n = 0; n < 4096; ++n) {
    dirent* entry = readdir(dir);
    if (!entry) break;
    if (entry->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + entry->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;
    for (std::string s; f.size() < 13 && fields >> s;) f.push_back(s);
    if (f.size() < 13) continue;
    // After "(comm) ": state(0) ... utime(11) stime(12).
    ticks[std::atol(entry->d_name)] = std::atol(f[11].c_str()) + std::atol(f[12].c_str());
  }
  closedir(dir);
  return ticks;
}

// The busiest thread between two samples: its id and CPU ticks.
std::pair<long, long> busiest_thread(const std::map<long, long>& before, const std::map<long, long>& after) {
  std::pair<long, long> best{0, 0};
  for (const auto& [tid, ticks] : after) {
    const auto was = before.find(tid);
    const long used = ticks - (was == before.end() ? 0 : was->second);
    if (used > best.second) best = {tid, used};
  }
  return best;
}

// A thread's time on a CPU and time runnable but waiting for one, in ns (/proc/self/task/TID/schedstat).
std::pair<long long, long long> thread_schedstat(long tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  long long on_cpu = 0, waiting = 0;
  in >> on_cpu >> waiting;
  return {on_cpu, waiting};
}

// Every thread's schedstat, by thread id.
std::map<long, std::pair<long long, long long>> all_schedstats(const std::map<long, long>& threads) {
  std::map<long, std::pair<long long, long long>> stats;
  for (const auto& [tid, ticks] : threads) stats[tid] = thread_schedstat(tid);
  return stats;
}

void check(const core::Status& status, const char* what) {
  if (!status) {
    std::fprintf(stderr, "scan_bench: %s: %s\n", what, status.error().message.c_str());
    std::exit(1);
  }
}

const char* kEmployers[] = {"uber", "lyft", "doordash", "instacart"};

// Builds the database at path (runs in the child process). Prints its own timings.
int build_database(const Options& o, const std::string& path, Micros now) {
  const auto started = std::chrono::steady_clock::now();
  store::StoreOptions store_options;
  store_options.synchronous_full = o.sync_full;
  auto opened = store::open_store("sqlite://" + path, store_options);
  if (!opened) {
    std::fprintf(stderr, "scan_bench: cannot open %s: %s\n", path.c_str(), opened.error().message.c_str());
    return 1;
  }
  std::unique_ptr<store::Store> db = std::move(*opened);

  std::string tenant_id;
  core::User user;
  check(db->write_and_wait([&](store::WriteTx& tx) -> core::Status {
          auto tenant = tx.ensure_tenant("bench", now);
          if (!tenant) return tenant.error();
          tenant_id = tenant->id;
          user = core::User{core::new_uuid(), tenant_id, std::string("bench-user"), "{}", now};
          if (auto status = tx.insert_user(user); !status) return status;
          for (int i = 0; i < o.webhooks; ++i) {
            core::Webhook webhook;
            webhook.id = core::new_uuid();
            webhook.tenant_id = tenant_id;
            webhook.events = {"*"};
            webhook.name = "bench-" + std::to_string(i);
            webhook.url = "https://receiver-" + std::to_string(i) + ".example.com/hooks";
            webhook.secret = core::random_hex(32);
            webhook.created_at = webhook.updated_at = now;
            if (auto status = tx.insert_webhook(webhook); !status) return status;
          }
          return core::ok_status();
        }),
        "cannot create the tenant, user and webhooks");

  // Due accounts: every stride-th one, so they are spread over the table as they would be in life.
  const long stride = o.accounts / o.due;
  const Micros period = o.refresh_seconds * kMicrosPerSecond;
  const Micros far = now + 86400 * kMicrosPerSecond;  // non-due scans lie in [far, far + period)
  std::mt19937_64 random(42);
  std::uniform_int_distribution<Micros> spread(0, period - 1);
  long made = 0;
  long due_made = 0;
  for (long first = 0; first < o.accounts; first += o.batch) {
    const long last = std::min(o.accounts, first + o.batch);
    std::vector<core::Account> accounts;
    std::vector<core::Reputation> reputations;
    accounts.reserve(static_cast<std::size_t>(last - first));
    reputations.reserve(static_cast<std::size_t>(last - first));
    for (long i = first; i < last; ++i) {
      const bool due = i % stride == 0 && due_made < o.due;
      if (due) ++due_made;
      core::Account account;
      account.id = core::new_uuid();
      account.tenant_id = tenant_id;
      account.user_id = user.id;
      account.employer = kEmployers[i % 4];
      account.source.change_probability = o.change_probability;
      account.refresh_frequency = o.refresh_seconds;
      account.created_at = now - period;
      const bool scanned = !(due && o.mode == "first");
      if (scanned) {
        account.connection_status = core::kConnected;
        account.connection_updated_at = now - period;
        account.scanned_at = now - period;
        account.scan_count = 1;
        core::ScanResult content = scan::sandbox_scan(account, 0, std::nullopt);
        reputations.push_back(core::Reputation{core::new_uuid(), tenant_id, account.id, user.id, account.employer,
                                               std::move(content), now - period, now - period});
      } else {
        account.connection_updated_at = account.created_at;
      }
      // Due ones were due within the last second; the others lie over one refresh period a day away.
      account.next_scan_at = due ? now - kMicrosPerSecond + (i % 1000) * 1000 : far + spread(random);
      account.updated_at = now - period;
      accounts.push_back(std::move(account));
    }
    check(db->write_and_wait([&](store::WriteTx& tx) -> core::Status {
            for (const core::Account& account : accounts) {
              if (auto status = tx.insert_account(account); !status) return status;
            }
            for (const core::Reputation& reputation : reputations) {
              if (auto status = tx.insert_reputation(reputation); !status) return status;
            }
            return core::ok_status();
          }),
          "cannot insert accounts");
    made = last;
  }
  db->close();
  std::printf("setup: %ld accounts (%ld due, mode %s) in %.1f s; setup process peak RSS %.1f MB\n", made, due_made,
              o.mode.c_str(), seconds_since(started), static_cast<double>(status_kb("VmHWM")) / 1024.0);
  std::fflush(stdout);
  return due_made == o.due ? 0 : 1;
}

// A direct read connection, for checks the Store interface does not offer.
class Reader {
 public:
  explicit Reader(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "scan_bench: cannot open %s for reading\n", path.c_str());
      std::exit(1);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Reader() { sqlite3_close(db_); }
  long long count(const std::string& sql, std::optional<long long> bind = std::nullopt) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "scan_bench: %s: %s\n", sql.c_str(), sqlite3_errmsg(db_));
      std::exit(1);
    }
    if (bind) sqlite3_bind_int64(stmt, 1, *bind);
    long long value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Scans the engine has committed so far, by outcome, from its repute_scans_total counter.
std::map<std::string, double> scans_committed() {
  std::map<std::string, double> by_outcome;
  const std::string text = repute::obs::metrics().render();
  std::istringstream lines(text);
  std::string line;
  for (int n = 0; n < 10000 && std::getline(lines, line); ++n) {
    if (!line.starts_with("repute_scans_total{")) continue;
    const auto outcome_at = line.find("outcome=\"");
    const auto space = line.rfind(' ');
    if (outcome_at == std::string::npos || space == std::string::npos) continue;
    const auto end = line.find('"', outcome_at + 9);
    by_outcome[line.substr(outcome_at + 9, end - outcome_at - 9)] += std::strtod(line.c_str() + space + 1, nullptr);
  }
  return by_outcome;
}

double total(const std::map<std::string, double>& by_outcome) {
  double sum = 0;
  for (const auto& [outcome, n] : by_outcome) sum += n;
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!o.build_only.empty()) {
    if (std::filesystem::exists(o.build_only)) usage(o.build_only + " exists already");
    return build_database(o, o.build_only, core::system_clock().now());
  }
  std::string base = o.dir;
  if (base.empty()) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string templ = base + "/repute-scan-bench.XXXXXX";
  if (!mkdtemp(templ.data())) {
    std::perror("scan_bench: mkdtemp");
    return 1;
  }
  const std::string dir = templ;
  const std::string path = dir + "/repute.db";
  auto cleanup = [&] {
    if (o.keep) {
      std::printf("kept %s\n", dir.c_str());
    } else {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  };

  // 1. Build the store in a child process (nothing of it stays in this process's memory), or copy one.
  const Micros setup_now = core::system_clock().now();
  const auto setup_started = std::chrono::steady_clock::now();
  if (!o.from.empty()) {
    std::error_code ec;
    std::filesystem::copy_file(o.from, path, ec);
    if (ec) {
      std::fprintf(stderr, "scan_bench: cannot copy %s: %s\n", o.from.c_str(), ec.message().c_str());
      cleanup();
      return 1;
    }
  } else {
    std::fflush(stdout);
    const pid_t child = fork();
    if (child < 0) {
      std::perror("scan_bench: fork");
      return 1;
    }
    if (child == 0) _exit(build_database(o, path, setup_now));
    int child_status = 0;
    if (waitpid(child, &child_status, 0) != child || !WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0) {
      std::fprintf(stderr, "scan_bench: building the database failed\n");
      cleanup();
      return 1;
    }
  }
  // Write the new file through to the disk now, so the burst's first checkpoint (whose fsync of the
  // database file would otherwise flush the whole fresh copy) costs what it costs on a settled database.
  if (const int fd = open(path.c_str(), O_RDONLY); fd >= 0) {
    fsync(fd);
    close(fd);
  }
  const double setup_seconds = seconds_since(setup_started);
  std::uintmax_t db_bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path + suffix, ec);
    if (!ec) db_bytes += size;
  }

  // What is due now, and how many accounts there are (the figures --from databases bring with them).
  long due_target = 0;
  long long accounts_in_db = 0;
  long long scans_before = 0;
  long long subscriptions = 0;
  {
    Reader reader(path);
    due_target = static_cast<long>(reader.count(
        "SELECT COUNT(*) FROM accounts WHERE next_scan_at IS NOT NULL AND next_scan_at <= ?", core::system_clock().now()));
    accounts_in_db = reader.count("SELECT COUNT(*) FROM accounts");
    scans_before = reader.count("SELECT SUM(scan_count) FROM accounts");
    subscriptions = reader.count("SELECT COUNT(*) FROM webhooks WHERE enabled = 1");
  }
  if (due_target < 1 || (o.from.empty() && (due_target != o.due || accounts_in_db != o.accounts))) {
    std::fprintf(stderr, "scan_bench: the database holds %lld accounts, %ld due\n", accounts_in_db, due_target);
    cleanup();
    return 1;
  }

  // 2. Open the store as `repute serve` does, and start the real engine.
  store::StoreOptions store_options;
  store_options.synchronous_full = o.sync_full;
  if (o.max_batch > 0) store_options.max_batch = o.max_batch;
  auto opened = store::open_store("sqlite://" + path, store_options);
  if (!opened) {
    std::fprintf(stderr, "scan_bench: cannot open the store: %s\n", opened.error().message.c_str());
    cleanup();
    return 1;
  }
  std::unique_ptr<store::Store> db = std::move(*opened);
  const long rss_open_kb = status_kb("VmRSS");

  scan::ScanOptions scan_options;
  if (o.claim_batch > 0) scan_options.claim_batch = o.claim_batch;
  std::atomic<long> fetches{0};
  scan::Fetch fetch = [&fetches](const std::string&, std::function<void(scan::FetchResult)> done) {
    ++fetches;  // never expected: the bench has no http sources
    scan::FetchResult result;
    result.error = "the bench does not fetch";
    done(std::move(result));
  };

  const Micros burst_wall_start = core::system_clock().now();
  const double cpu_before = process_cpu_seconds();
  const double sys_before = process_sys_seconds();
  const auto machine_before = machine_ticks();
  const auto burst_started = std::chrono::steady_clock::now();
  auto started = scan::start_scan_engine(*db, scan_options, fetch);
  if (!started) {
    std::fprintf(stderr, "scan_bench: cannot start the engine: %s\n", started.error().message.c_str());
    cleanup();
    return 1;
  }
  std::unique_ptr<scan::ScanEngine> engine = std::move(*started);
  // The store's writer thread exists since open_store; the engine's thread since start_scan_engine.
  const auto threads_before = thread_ticks();
  const auto sched_before = all_schedstats(threads_before);
  db->set_work_listener([&engine](store::WorkKind kind) {
    if (kind == store::WorkKind::kScans) engine->wake();
  });

  // 3. The burst: poll the engine's committed-scan counter every 5 ms until every due scan is in.
  double first_scan_s = -1, t10 = -1, t50 = -1, t90 = -1, burst_s = -1;
  const double due = static_cast<double>(due_target);
  std::map<std::string, double> outcomes;
  const long max_polls = static_cast<long>(o.burst_timeout * 200) + 1;
  for (long poll = 0; poll < max_polls; ++poll) {
    outcomes = scans_committed();
    const double done = total(outcomes);
    const double t = seconds_since(burst_started);
    if (first_scan_s < 0 && done > 0) first_scan_s = t;
    if (t10 < 0 && done >= 0.1 * due) t10 = t;
    if (t50 < 0 && done >= 0.5 * due) t50 = t;
    if (t90 < 0 && done >= 0.9 * due) t90 = t;
    if (done >= due) {
      burst_s = t;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double burst_cpu = process_cpu_seconds() - cpu_before;
  const double burst_sys = process_sys_seconds() - sys_before;
  const auto threads_after = thread_ticks();
  const auto [busiest_tid, busiest_ticks] = busiest_thread(threads_before, threads_after);
  const auto sched_after = thread_schedstat(busiest_tid);
  const auto sched_was = sched_before.count(busiest_tid) ? sched_before.at(busiest_tid) : std::pair<long long, long long>{0, 0};
  const double writer_on_cpu_s = static_cast<double>(sched_after.first - sched_was.first) / 1e9;
  const double writer_runnable_s = static_cast<double>(sched_after.second - sched_was.second) / 1e9;
  const auto machine_after = machine_ticks();
  const double busiest_thread_s =
      static_cast<double>(busiest_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
  const double burst_wall = burst_s > 0 ? burst_s : seconds_since(burst_started);
  // CPUs the rest of the machine kept busy during the burst (all busy CPU time less this process's).
  const double machine_busy_cores =
      static_cast<double>(machine_after.first - machine_before.first) / static_cast<double>(sysconf(_SC_CLK_TCK)) /
      burst_wall;
  const double others_cores = std::max(0.0, machine_busy_cores - burst_cpu / burst_wall);
  const long rss_burst_kb = status_kb("VmRSS");
  if (burst_s < 0) std::fprintf(stderr, "scan_bench: the burst did not finish within %.0f s\n", o.burst_timeout);

  // 4. Idle: nothing is due for hours; measure this process's CPU.
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the last commits' callbacks and checkpoints settle
  const double idle_cpu_before = process_cpu_seconds();
  const auto idle_started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
  const double idle_wall = seconds_since(idle_started);
  const double idle_cpu = process_cpu_seconds() - idle_cpu_before;
  const long rss_end_kb = status_kb("VmRSS");
  const long hwm_kb = status_kb("VmHWM");

  engine->stop();
  db->set_work_listener(nullptr);
  db->close();
  engine.reset();
  db.reset();

  // 5. Check the outcome in the database.
  Reader reader(path);
  const long long scanned = reader.count("SELECT COUNT(*) FROM accounts WHERE scanned_at >= ?", burst_wall_start);
  // Each due account scanned once: the scan counts grew by exactly the number of due scans.
  const long long twice = reader.count("SELECT SUM(scan_count) FROM accounts") - scans_before - scanned;
  const long long still_due = reader.count(
      "SELECT COUNT(*) FROM accounts WHERE next_scan_at IS NOT NULL AND next_scan_at < ?",
      burst_wall_start + 3600 * kMicrosPerSecond);
  const long long events = reader.count("SELECT COUNT(*) FROM events WHERE created_at >= ?", burst_wall_start);
  const long long deliveries = reader.count("SELECT COUNT(*) FROM deliveries WHERE created_at >= ?", burst_wall_start);
  const long long total_accounts = reader.count("SELECT COUNT(*) FROM accounts");
  const bool correct = burst_s > 0 && scanned == due_target && twice == 0 && still_due == 0 &&
                       deliveries == events * subscriptions && fetches == 0 && total_accounts == accounts_in_db &&
                       outcomes.count("error") == 0;

  const double rate = burst_s > 0 ? due / burst_s : 0;
  const double rate_10_90 = t90 > t10 && t10 >= 0 ? 0.8 * due / (t90 - t10) : 0;
  const double idle_pct = idle_wall > 0 ? 100.0 * idle_cpu / idle_wall : 0;
  auto mb = [](long kb) { return static_cast<double>(kb) / 1024.0; };

  std::printf("database: %.0f MB (%lld accounts), %s in %.1f s, synchronous=%s\n",
              static_cast<double>(db_bytes) / 1e6, total_accounts, o.from.empty() ? "built" : "copied and synced",
              setup_seconds, o.sync_full ? "FULL" : "NORMAL");
  std::printf("burst: %ld due scans committed in %.3f s = %.0f scans/s (10%%-90%%: %.0f scans/s; first commit after "
              "%.3f s)\n",
              due_target, burst_wall, rate, rate_10_90, first_scan_s);
  std::printf("       outcomes:");
  for (const auto& [outcome, n] : outcomes) std::printf(" %s=%.0f", outcome.c_str(), n);
  std::printf("; events %lld, deliveries %lld (%lld subscriptions)\n", events, deliveries, subscriptions);
  std::printf("       CPU %.2f s (%.2f s system) = %.0f us per scan = %.2f cores; busiest thread %.2f s = %.0f%% of a core; other processes kept %.2f of "
              "the %ld CPUs busy meanwhile\n",
              burst_cpu, burst_sys, 1e6 * burst_cpu / due, burst_cpu / burst_wall, busiest_thread_s, 100.0 * busiest_thread_s / burst_wall, others_cores,
              sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("       the busiest thread (the store's writer) spent %.0f us per scan: on a core of its own, with free "
              "fsyncs, it could commit at most %.0f scans/s\n",
              1e6 * busiest_thread_s / due, busiest_thread_s > 0 ? due / busiest_thread_s : 0.0);
  std::printf("       the writer's %.1f s: %.1f s on a CPU, %.1f s runnable waiting for a CPU, %.1f s blocked (I/O, fsync, "
              "or an empty queue)\n",
              burst_wall, writer_on_cpu_s, writer_runnable_s, std::max(0.0, burst_wall - writer_on_cpu_s - writer_runnable_s));
  std::printf("idle: %.4f s CPU over %.1f s = %.3f %% of a core\n", idle_cpu, idle_wall, idle_pct);
  std::printf("memory: RSS %.1f MB after open, %.1f MB after the burst, %.1f MB at the end; peak (VmHWM) %.1f MB\n",
              mb(rss_open_kb), mb(rss_burst_kb), mb(rss_end_kb), mb(hwm_kb));
  std::printf("check: scanned %lld of %ld, extra scans %lld, still due %lld, fetches %ld: %s\n", scanned, due_target,
              twice, still_due, fetches.load(), correct ? "ok" : "FAILED");
  std::printf(
      "RESULT database=%s accounts=%lld due=%ld setup_s=%.1f db_mb=%.0f burst_s=%.3f "
      "scans_per_s=%.0f scans_per_s_10_90=%.0f first_commit_s=%.3f cpu_us_per_scan=%.0f sys_us_per_scan=%.0f "
      "burst_cores=%.2f busiest_thread_pct=%.0f writer_us_per_scan=%.0f writer_bound_scans_per_s=%.0f writer_on_cpu_pct=%.0f writer_runnable_pct=%.0f writer_blocked_pct=%.0f others_cores=%.2f "
      "events=%lld deliveries=%lld idle_cpu_pct=%.3f rss_open_mb=%.1f rss_burst_mb=%.1f rss_end_mb=%.1f "
      "hwm_mb=%.1f ok=%d\n",
      o.from.empty() ? "built" : "copied", total_accounts, due_target, setup_seconds,
      static_cast<double>(db_bytes) / 1e6, burst_wall, rate, rate_10_90, first_scan_s, 1e6 * burst_cpu / due,
      1e6 * burst_sys / due, burst_cpu / burst_wall,
      100.0 * busiest_thread_s / burst_wall, 1e6 * busiest_thread_s / due, busiest_thread_s > 0 ? due / busiest_thread_s : 0.0,
      100 * writer_on_cpu_s / burst_wall, 100 * writer_runnable_s / burst_wall,
      std::max(0.0, 100 * (burst_wall - writer_on_cpu_s - writer_runnable_s) / burst_wall), others_cores, events, deliveries, idle_pct, mb(rss_open_kb), mb(rss_burst_kb),
      mb(rss_end_kb), mb(hwm_kb), correct ? 1 : 0);
  std::fflush(stdout);
  cleanup();
  return correct ? 0 : 1;
}
