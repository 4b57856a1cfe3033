#pragma once
// The delivery engine's options (and the scans' source timeout), read from `repute serve`'s command line.
#include "app/commands.hpp"
#include "core/address_policy.hpp"
#include "core/result.hpp"
#include "delivery/delivery.hpp"

namespace repute::app {

// The engine's options from options (seconds become microseconds), guarded by policy; an error names the bad flag.
core::Result<delivery::DeliveryOptions> delivery_options(const ServeOptions& options, core::AddressPolicy policy);

// How long an http source has to answer a scan (--source-timeout), in microseconds; an error names the flag.
core::Result<core::Micros> source_timeout(const ServeOptions& options);

// Parses "5,300,1800" (seconds, fractions allowed) into retry delays; an error says what is wrong.
core::Result<std::vector<core::Micros>> parse_retry_schedule(std::string_view text);

}  // namespace repute::app
