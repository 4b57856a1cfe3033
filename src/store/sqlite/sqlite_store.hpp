#pragma once
// The embedded SQLite back end: one writer thread that group-commits queued work, pooled readers.
#include <memory>
#include <string>

#include "store/store.hpp"

namespace repute::store::sqlite {

// Opens (creating folders and file as needed) and migrates the database at path.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const StoreOptions& options);

}  // namespace repute::store::sqlite
