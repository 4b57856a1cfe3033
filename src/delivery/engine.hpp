#pragma once
// The delivery engine behind Dispatcher. Its state lives under one mutex; every event (a wake, a committed claim,
// an answer, a committed batch of outcomes, the timer) updates that state and then plans what follows: attempts to
// start, one batch of outcomes to record, one claim to make. The plan is carried out after the lock is released, so
// that neither the store nor the HTTP client is ever called with the lock held.
//
// Invariants: a delivery is "held" from its claim until its outcome is committed, and is never held twice (a claim
// that returns a held delivery again is ignored), so no delivery is in flight twice at once; an attempt only starts
// when it can end before its lease runs out; attempts in flight never exceed max_in_flight in all, nor
// max_in_flight_per_webhook to one subscription; claimed deliveries waiting for their turn (a prefetch that hides
// commit latency) never exceed claim_batch in all, nor 4 x max_in_flight_per_webhook for one subscription, whose
// further due work is left out of claims meanwhile (and handed back when a claim brings too much of it).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "delivery/batch_work.hpp"
#include "delivery/delivery.hpp"
#include "delivery/outcome.hpp"
#include "delivery/signing.hpp"

namespace repute::delivery {

// The engine; shared with its own callbacks, so a late answer or commit never outlives it.
// It is also the store's DeliveryHandoff: while it has a free slot, a delivery made by a commit is stored already
// leased to it and handed over when that commit is done, without a claim of its own.
class DeliveryEngine final : public store::DeliveryHandoff, public std::enable_shared_from_this<DeliveryEngine> {
 public:
  // Sends through client; owned_client (when given) is the same client, stopped and freed by the engine.
  DeliveryEngine(store::Store& store, DeliveryOptions options, const core::Clock& clock, HttpClient& client,
                 std::unique_ptr<HttpClient> owned_client);
  ~DeliveryEngine() override;

  // Starts the timer thread; called once, right after construction.
  void start();
  // Looks for due work now. Thread-safe and quick.
  void wake();
  // Stops claiming, waits (bounded) for attempts in flight, records every outcome. Idempotent.
  void stop();

  // DeliveryHandoff, called on the store's writer thread.
  std::optional<core::Micros> reserve(const std::string& webhook_id, core::Micros now) override;
  void adopt(std::vector<core::Delivery> deliveries, const std::vector<std::string>& reserved_for) override;
  void forget_subscriptions() override;

 private:
  // One subscription as the engine sees it.
  struct Target {
    std::string url;
    SigningKeys keys;
    int in_flight = 0;
    std::deque<core::Delivery> queued;  // claimed, waiting for the per-subscription or the global cap
    bool gone = false;                  // answered 410; its disabling is not committed yet
  };

  // Where a subscription's deliveries go, as the last claim read it.
  struct Address {
    std::string url;
    SigningKeys keys;
  };

  // An attempt to start: the delivery, where it goes, and the attempt's time.
  struct Send {
    core::Delivery delivery;
    std::string url;
    SigningKeys keys;
    core::Micros at = 0;
  };

  // What a plan asks to do once the lock is released.
  struct Actions {
    std::vector<Send> sends;
    std::optional<std::vector<Outcome>> record;
    std::optional<std::pair<int, std::vector<std::string>>> claim;  // limit, subscriptions to leave out
  };

  void run_timer();
  void plan(Actions& actions, core::Micros now);
  void start_queued(Actions& actions, core::Micros now);
  void perform(Actions& actions);
  void start_attempt(core::Delivery delivery, Target& target, Actions& actions, core::Micros now);
  // sent: the request's header fields (core::header_lines), for the attempt's record.
  void on_answer(core::Delivery delivery, core::Micros attempted_at, std::string sent, OutboundResponse response);
  void on_claimed(ClaimedBatch& batch, int limit, const core::Status& status);
  void on_recorded(const std::vector<std::string>& ids, const std::vector<std::string>& gone,
                   const std::vector<std::string>& disabled, const core::Status& status);
  // Hands a subscription's queued deliveries back to the store, due at now.
  void release_queued(Target& target, core::Micros now);
  // Whether the subscription has as much in hand (in flight, queued, and reserved for commits not yet done) as it
  // may.
  bool saturated(const Target& target, int reserved = 0) const;

  store::Store& store_;
  const DeliveryOptions options_;
  const core::Clock& clock_;
  HttpClient& client_;
  std::unique_ptr<HttpClient> owned_client_;
  std::shared_ptr<OutcomeRules> rules_;  // decide() under mutex_; the record work only reads disable_after

  std::mutex mutex_;
  std::condition_variable changed_;                     // stop() waits on it for answers and commits
  std::condition_variable timer_wake_;                  // the timer thread waits on it
  std::unordered_map<std::string, Target> targets_;     // by webhook id
  std::set<std::string> ready_;                         // webhooks with queued deliveries
  std::string round_robin_;                             // the ready webhook served first last time
  std::unordered_set<std::string> held_;                // delivery ids claimed and not yet recorded
  std::set<std::string> skipped_;                       // webhooks left out of the last claim
  std::vector<Outcome> outcomes_;                       // decided, not yet handed to the store
  std::unordered_map<std::string, Address> addresses_;  // by webhook id: whom handed-over deliveries go to
  int in_flight_ = 0;
  int queued_ = 0;
  int reserved_ = 0;                                          // slots promised to deliveries of commits not yet done
  std::unordered_map<std::string, int> reserved_by_webhook_;  // ... and to which subscriptions
  // Bumped by forget_subscriptions(): a claim that read subscriptions under an older generation may have read
  // a URL or secret that has changed since. Read on the store's writer thread, hence atomic.
  std::atomic<std::uint64_t> address_generation_{0};
  bool look_ = true;        // there may be due work: claim when there is room
  bool claiming_ = false;   // a claim is in the store's queue
  bool recording_ = false;  // a batch of outcomes is in the store's queue
  bool stopping_ = false;
  bool abandoning_ = false;  // answers without a status are shutdown cut-offs, not attempts
  bool timer_exit_ = false;
  core::Micros next_check_at_ = 0;  // when the timer next asks the store when work is due
  std::thread timer_;
};

}  // namespace repute::delivery
