#pragma once
// The API's JSON forms of users, accounts, events and deliveries (reputations: core/reputation_json.hpp).
#include <boost/json/object.hpp>

#include "core/account.hpp"
#include "core/delivery.hpp"
#include "core/user.hpp"
#include "store/store.hpp"

namespace repute::api {

boost::json::object user_json(const core::User& user);
boost::json::object account_json(const core::Account& account);
// An event, with how many of its deliveries are pending, delivered and failed.
boost::json::object event_json(const core::Event& event, const store::DeliveryCounts& counts);
// A delivery of the log, with its payload as sent (as JSON when it parses).
boost::json::object delivery_json(const core::Delivery& delivery);
// One attempt: when, how long, the answer (or the error) and the header fields sent.
boost::json::object attempt_json(const core::DeliveryAttempt& attempt);

}  // namespace repute::api
