#pragma once
// The PostgreSQL back end, for many nodes on one database: a pool of writer connections that commit concurrently
// (each a group commit of the units of work it takes), a bounded pool of readers, claims that lock with
// FOR UPDATE SKIP LOCKED and lease to this node, and a LISTEN connection that wakes this node when another
// node's commit made work due or changed subscriptions.
#include <memory>
#include <string>

#include "store/store.hpp"

namespace repute::store::postgres {

// Connects to url with options.pool_size writers (and as many readers), migrates, and listens.
Result<std::unique_ptr<Store>> open_pg_store(const std::string& url, const StoreOptions& options);

}  // namespace repute::store::postgres
