#include "delivery/engine.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "delivery/delivery_metrics.hpp"
#include "delivery/signing.hpp"
#include "obs/log.hpp"

namespace repute::delivery {
namespace {

constexpr core::Micros kMillis = 1000;
// An attempt must be able to end this long before its lease runs out, or it does not start.
constexpr core::Micros kLeaseMargin = core::kMicrosPerSecond;
// The timer asks the store when work is due at least this often...
constexpr core::Micros kIdlePoll = 1000 * kMillis;
// ... and, after a claim that found less than it asked for, no sooner than this (due work may be left out
// because its subscription is saturated; a finished attempt of such a subscription wakes the engine anyway).
constexpr core::Micros kRecheckGap = 50 * kMillis;
// Each subscription may have this many times its in-flight cap in hand (in flight, or claimed and waiting).
constexpr int kPrefetchFactor = 4;
// At most this many subscriptions' addresses are remembered for handed-over deliveries (then all are forgotten and
// learnt again from claims).
constexpr std::size_t kMaxAddresses = 10'000;
// How long stop() waits for the last outcomes to be committed.
constexpr auto kRecordWait = std::chrono::seconds(10);

}  // namespace

DeliveryEngine::DeliveryEngine(store::Store& store, DeliveryOptions options, const core::Clock& clock,
                               HttpClient& client, std::unique_ptr<HttpClient> owned_client)
    : store_(store),
      options_(std::move(options)),
      clock_(clock),
      client_(client),
      owned_client_(std::move(owned_client)),
      rules_(std::make_shared<OutcomeRules>(options_.retry, options_.disable_after)) {
  describe_delivery_metrics();
}

DeliveryEngine::~DeliveryEngine() {
  if (timer_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      timer_exit_ = true;
    }
    timer_wake_.notify_all();
    timer_.join();
  }
}

void DeliveryEngine::start() {
  timer_ = std::thread([this] { run_timer(); });
}

void DeliveryEngine::wake() {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    look_ = true;
    plan(actions, clock_.now());
  }
  perform(actions);
}

void DeliveryEngine::run_timer() {
  pthread_setname_np(pthread_self(), "repute-delivery");
  std::unique_lock lock(mutex_);
  while (!timer_exit_) {
    core::Micros now = clock_.now();
    if (now >= next_check_at_) {
      next_check_at_ = now + kIdlePoll;
      lock.unlock();
      auto due = store_.next_delivery_due();
      lock.lock();
      now = clock_.now();
      if (!due) {
        obs::log_warn("cannot read when deliveries are due", {{"error", due.error().message}});
      } else if (*due && **due <= now) {
        look_ = true;
        Actions actions;
        plan(actions, now);
        lock.unlock();
        perform(actions);
        lock.lock();
      } else if (*due) {
        next_check_at_ = std::min(next_check_at_, **due);
      }
      continue;
    }
    timer_wake_.wait_for(lock, std::chrono::microseconds(std::min(next_check_at_ - now, kIdlePoll)));
  }
}

void DeliveryEngine::plan(Actions& actions, core::Micros now) {
  start_queued(actions, now);
  if (!outcomes_.empty() && !recording_) {
    recording_ = true;
    actions.record = std::move(outcomes_);
    outcomes_.clear();
  }
  // Up to claim_batch more deliveries wait claimed, ready to start the moment a slot frees, so that the engine
  // never idles through a commit (a durable commit takes milliseconds; an answer on loopback, far less).
  const int room = options_.max_in_flight + options_.claim_batch - in_flight_ - queued_ - reserved_;
  // A busy engine waits until a quarter of a batch is free: one claim commits at a time, and a claim of a few
  // deliveries per commit would starve it. An idle one claims at once, whatever is due.
  const int worth_claiming = in_flight_ + queued_ < options_.max_in_flight ? 1 : std::max(1, options_.claim_batch / 4);
  if (look_ && !claiming_ && !stopping_ && room >= worth_claiming) {
    look_ = false;
    claiming_ = true;
    skipped_.clear();
    for (const auto& [id, target] : targets_) {
      if (saturated(target)) skipped_.insert(id);
    }
    actions.claim.emplace(std::min(room, options_.claim_batch),
                          std::vector<std::string>(skipped_.begin(), skipped_.end()));
  }
}

void DeliveryEngine::start_queued(Actions& actions, core::Micros now) {
  // Round robin, starting after the subscription served first last time, so that under the global cap none waits
  // for ever.
  auto it = ready_.upper_bound(round_robin_);
  bool first = true;
  for (std::size_t visits = ready_.size(); visits > 0; --visits) {
    if (it == ready_.end()) it = ready_.begin();
    if (first) round_robin_ = *it;
    first = false;
    Target& target = targets_[*it];
    while (!target.queued.empty() &&
           (stopping_ || target.gone ||
            (target.in_flight < options_.max_in_flight_per_webhook && in_flight_ < options_.max_in_flight))) {
      core::Delivery delivery = std::move(target.queued.front());
      target.queued.pop_front();
      --queued_;
      // Handed back (due now, held until that is committed) when shutting down, when its subscription is being
      // disabled (it then waits for a re-enable, not for its lease), or when it could no longer finish within
      // its lease.
      if (stopping_ || target.gone ||
          now + options_.attempt_timeout + kLeaseMargin > delivery.next_attempt_at.value_or(0)) {
        outcomes_.push_back(OutcomeRules::release(std::move(delivery), now));
      } else {
        start_attempt(std::move(delivery), target, actions, now);
      }
    }
    it = target.queued.empty() ? ready_.erase(it) : std::next(it);
  }
}

void DeliveryEngine::start_attempt(core::Delivery delivery, Target& target, Actions& actions, core::Micros now) {
  ++target.in_flight;
  ++in_flight_;
  add_in_flight(1);
  actions.sends.push_back({std::move(delivery), target.url, target.keys, now});
}

void DeliveryEngine::perform(Actions& actions) {
  for (Send& send : actions.sends) {
    // Signed here, outside the lock: timestamp = the attempt's time, in seconds.
    OutboundRequest request;
    request.method = "POST";
    request.url = std::move(send.url);
    request.headers =
        sign_delivery(send.keys.at(send.at), send.delivery.id, send.at / core::kMicrosPerSecond, send.delivery.body)
            .headers;
    request.body = send.delivery.body;
    request.connect_timeout = options_.connect_timeout;
    request.timeout = options_.attempt_timeout;
    request.max_response_bytes = options_.max_response_bytes;
    std::string sent = core::header_lines(request.headers);  // kept in the attempt's record
    client_.send(std::move(request), [self = shared_from_this(), delivery = std::move(send.delivery), at = send.at,
                                      sent = std::move(sent)](OutboundResponse response) mutable {
      self->on_answer(std::move(delivery), at, std::move(sent), std::move(response));
    });
  }
  if (actions.record) {
    auto outcomes = std::make_shared<std::vector<Outcome>>(std::move(*actions.record));
    auto disabled = std::make_shared<std::vector<std::string>>();
    store_.write(
        [outcomes, disabled, rules = rules_](store::WriteTx& tx) {
          disabled->clear();  // a retried unit of work starts over
          return record_outcomes(tx, *outcomes, *rules, *disabled);
        },
        [self = shared_from_this(), outcomes, disabled](core::Status status) {
          std::vector<std::string> ids;
          std::vector<std::string> gone;
          ids.reserve(outcomes->size());
          for (const Outcome& outcome : *outcomes) {
            ids.push_back(outcome.delivery.id);
            if (outcome.effect == WebhookEffect::kGone) gone.push_back(outcome.delivery.webhook_id);
          }
          self->on_recorded(ids, gone, *disabled, status);
        });
  }
  if (actions.claim) {
    auto batch = std::make_shared<ClaimedBatch>();
    const int limit = actions.claim->first;
    store_.write(
        [self = shared_from_this(), batch, limit, skip = std::move(actions.claim->second)](store::WriteTx& tx) {
          *batch = {};
          // Read here, on the writer, in order with the commits that change subscriptions: a change committed with
          // or after this claim bumps the generation before on_claimed runs.
          batch->generation = self->address_generation_.load();
          const core::Micros now = self->clock_.now();
          return claim_batch(tx, now, now + self->options_.lease, limit, skip, *batch);
        },
        [self = shared_from_this(), batch, limit](core::Status status) { self->on_claimed(*batch, limit, status); });
  }
}

void DeliveryEngine::on_answer(core::Delivery delivery, core::Micros attempted_at, std::string sent,
                               OutboundResponse response) {
  Actions actions;
  std::string_view label;
  {
    std::lock_guard lock(mutex_);
    const core::Micros now = clock_.now();
    const std::string webhook_id = delivery.webhook_id;
    Target& target = targets_[webhook_id];
    --target.in_flight;
    --in_flight_;
    add_in_flight(-1);
    if (abandoning_ && !response.status) {
      outcomes_.push_back(OutcomeRules::release(std::move(delivery), now));
    } else {
      AttemptResult result;
      result.attempted_at = attempted_at;
      result.duration = response.duration;
      result.status = response.status;
      result.error = std::move(response.error);
      result.response_body = std::move(response.body);
      result.request_headers = std::move(sent);
      if (auto retry_after = response.header("Retry-After")) result.retry_after = std::string(*retry_after);
      Outcome outcome = rules_->decide(std::move(delivery), result, now);
      label = outcome.label;
      // 410: nothing more goes to this subscription, even before its disabling is committed.
      if (outcome.effect == WebhookEffect::kGone) target.gone = true;
      outcomes_.push_back(std::move(outcome));
    }
    if (skipped_.count(webhook_id) && !saturated(target)) {
      skipped_.erase(webhook_id);
      look_ = true;
    }
    if (target.in_flight == 0 && target.queued.empty() && !target.gone) targets_.erase(webhook_id);
    plan(actions, now);
    if (stopping_) changed_.notify_all();
  }
  if (!label.empty()) record_attempt_metric(label, response.duration);
  perform(actions);
}

void DeliveryEngine::on_claimed(ClaimedBatch& batch, int limit, const core::Status& status) {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    claiming_ = false;
    const core::Micros now = clock_.now();
    obs::log_debug("deliveries claimed", {{"claimed", static_cast<std::int64_t>(batch.deliveries.size())},
                                          {"limit", limit},
                                          {"in_flight", in_flight_},
                                          {"queued", queued_}});
    if (!status) {
      obs::log_warn("cannot claim due deliveries", {{"error", status.error().message}});
      next_check_at_ = now + kIdlePoll;
    } else {
      // A subscription changed in the claim's commit (or since): what it read may be stale. Its deliveries go back,
      // due now, to be claimed again with what the store says now.
      const bool stale = batch.generation != address_generation_.load();
      if (!stale) {
        if (addresses_.size() > kMaxAddresses) addresses_.clear();
        for (const core::Webhook& webhook : batch.webhooks) {
          Target& target = targets_[webhook.id];
          target.url = webhook.url;
          target.keys = SigningKeys::of(webhook);
          addresses_[webhook.id] = {webhook.url, target.keys};
        }
      }
      const auto claimed = static_cast<int>(batch.deliveries.size());
      for (core::Delivery& delivery : batch.deliveries) {
        if (!held_.insert(delivery.id).second) continue;  // already ours: never twice in flight
        Target& target = targets_[delivery.webhook_id];
        if (stale || saturated(target)) {
          // More than this subscription may have in hand (one claim can bring many for one subscription): hand
          // it back, due now, so that it neither waits out its lease nor holds room the others could use.
          outcomes_.push_back(OutcomeRules::release(std::move(delivery), now));
          continue;
        }
        ready_.insert(delivery.webhook_id);
        target.queued.push_back(std::move(delivery));
        ++queued_;
      }
      if (claimed >= limit) {
        look_ = true;
      } else if (now + kRecheckGap < next_check_at_) {
        next_check_at_ = now + kRecheckGap;
        timer_wake_.notify_all();
      }
    }
    plan(actions, now);
    if (stopping_) changed_.notify_all();
  }
  perform(actions);
}

void DeliveryEngine::on_recorded(const std::vector<std::string>& ids, const std::vector<std::string>& gone,
                                 const std::vector<std::string>& disabled, const core::Status& status) {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    recording_ = false;
    obs::log_debug(
        "delivery outcomes recorded",
        {{"recorded", static_cast<std::int64_t>(ids.size())}, {"in_flight", in_flight_}, {"queued", queued_}});
    if (!status) {
      // Not lost: the deliveries stay leased, and are claimed and sent again once their leases run out.
      obs::log_error("cannot record delivery outcomes",
                     {{"error", status.error().message}, {"deliveries", static_cast<std::int64_t>(ids.size())}});
    }
    for (const std::string& id : ids) held_.erase(id);
    for (const std::string& webhook_id : disabled) {
      obs::log_info("webhook disabled", {{"webhook", webhook_id}});
      auto found = targets_.find(webhook_id);
      if (found != targets_.end()) release_queued(found->second, clock_.now());
    }
    // Claims committed from now on see the subscription disabled (or, if this failed, the 410 is tried again).
    for (const std::string& webhook_id : gone) {
      auto found = targets_.find(webhook_id);
      if (found == targets_.end()) continue;
      found->second.gone = false;
      if (found->second.in_flight == 0 && found->second.queued.empty()) targets_.erase(found);
    }
    plan(actions, clock_.now());
    if (stopping_) changed_.notify_all();
  }
  perform(actions);
}

std::optional<core::Micros> DeliveryEngine::reserve(const std::string& webhook_id, core::Micros now) {
  std::lock_guard lock(mutex_);
  if (stopping_ || in_flight_ + queued_ + reserved_ >= options_.max_in_flight) return std::nullopt;
  if (!addresses_.count(webhook_id)) return std::nullopt;  // its address is learnt from a claim first
  auto& reserved_here = reserved_by_webhook_[webhook_id];
  if (auto found = targets_.find(webhook_id); found != targets_.end()) {
    if (found->second.gone || saturated(found->second, reserved_here)) return std::nullopt;
  } else if (reserved_here >= kPrefetchFactor * options_.max_in_flight_per_webhook) {
    return std::nullopt;
  }
  ++reserved_here;
  ++reserved_;
  return now + options_.lease;
}

void DeliveryEngine::adopt(std::vector<core::Delivery> deliveries, const std::vector<std::string>& reserved_for) {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    for (const std::string& webhook_id : reserved_for) {
      auto found = reserved_by_webhook_.find(webhook_id);
      if (found != reserved_by_webhook_.end() && --found->second <= 0) reserved_by_webhook_.erase(found);
    }
    reserved_ -= static_cast<int>(reserved_for.size());
    const core::Micros now = clock_.now();
    for (core::Delivery& delivery : deliveries) {
      if (!held_.insert(delivery.id).second) continue;
      auto address = addresses_.find(delivery.webhook_id);
      auto target = targets_.find(delivery.webhook_id);
      if (stopping_ || address == addresses_.end() || (target != targets_.end() && target->second.gone)) {
        // Its subscription changed (or is going) since the reservation: handed back due now, to be claimed with
        // what the store says of its subscription.
        outcomes_.push_back(OutcomeRules::release(std::move(delivery), now));
        continue;
      }
      Target& into = targets_[delivery.webhook_id];
      into.url = address->second.url;
      into.keys = address->second.keys;
      ready_.insert(delivery.webhook_id);
      into.queued.push_back(std::move(delivery));
      ++queued_;
    }
    plan(actions, now);
    if (stopping_) changed_.notify_all();
  }
  perform(actions);
}

void DeliveryEngine::forget_subscriptions() {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    ++address_generation_;
    addresses_.clear();
    // Deliveries waiting for their turn would start with the old URL and secret: they go back, due now, and are
    // claimed again with the new ones. (Attempts already in flight finish as they started.)
    const core::Micros now = clock_.now();
    for (auto& [id, target] : targets_) release_queued(target, now);
    ready_.clear();
    plan(actions, now);
  }
  perform(actions);
}

void DeliveryEngine::release_queued(Target& target, core::Micros now) {
  for (core::Delivery& delivery : target.queued) outcomes_.push_back(OutcomeRules::release(std::move(delivery), now));
  queued_ -= static_cast<int>(target.queued.size());
  target.queued.clear();
}

bool DeliveryEngine::saturated(const Target& target, int reserved) const {
  return target.in_flight + static_cast<int>(target.queued.size()) + reserved >=
         kPrefetchFactor * options_.max_in_flight_per_webhook;
}

void DeliveryEngine::stop() {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    timer_exit_ = true;
    plan(actions, clock_.now());  // hands queued deliveries back
  }
  timer_wake_.notify_all();
  perform(actions);
  if (timer_.joinable()) timer_.join();

  const auto attempt_wait = std::chrono::microseconds(options_.attempt_timeout + kLeaseMargin);
  {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, attempt_wait, [this] { return in_flight_ == 0; });
    abandoning_ = true;
  }
  if (owned_client_) owned_client_->stop();  // answers what is left with an error: handed back unsent
  {
    std::unique_lock lock(mutex_);
    const bool recorded = changed_.wait_for(
        lock, kRecordWait, [this] { return outcomes_.empty() && !recording_ && !claiming_ && in_flight_ == 0; });
    if (!recorded) obs::log_warn("delivery outcomes left unrecorded at stop; their deliveries will be sent again");
  }
}

}  // namespace repute::delivery
