#pragma once
// Cursor pages over any table with an increasing `seq` column: newest first, stable under inserts.
#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "store/sql/connection.hpp"
#include "store/store.hpp"

namespace repute::store::sql {

// Conditions that select a list's rows: "column" = value (tenant, owner...), or a column with its own comparison
// ("created_at >=") against the value.
using FilterValue = std::variant<std::string, std::int64_t>;
using Filters = std::vector<std::pair<std::string, FilterValue>>;

namespace detail {
// The rows' positions of one fetched page, and whether rows lie beyond it.
struct PageBounds {
  std::vector<std::int64_t> positions;
  bool more_beyond = false;
};
// Runs the page query; `read` sees each row (position in column 0) in newest-first order.
Result<PageBounds> fetch_page(Connection& db, const std::string& select_from, const Filters& filters,
                              const PageRequest& request, const std::function<void(Statement&)>& read);
// Fills next/previous from the bounds of a fetched page.
Status link_page(Connection& db, const std::string& table, const Filters& filters, const PageRequest& request,
                 const PageBounds& bounds, std::optional<Cursor>& next, std::optional<Cursor>& previous);
}  // namespace detail

// One page of `table`; select_from is "SELECT seq, ... FROM table", map turns a row into T.
template <class T>
Result<Page<T>> list_page(Connection& db, const std::string& table, const std::string& select_from,
                          const Filters& filters, const PageRequest& request,
                          const std::function<T(Statement&)>& map) {
  Page<T> page;
  auto bounds = detail::fetch_page(db, select_from, filters, request,
                                   [&](Statement& row) { page.items.push_back(map(row)); });
  if (!bounds) return bounds.error();
  if (request.cursor && request.cursor->direction == Cursor::Direction::kBefore) {
    std::reverse(page.items.begin(), page.items.end());
  }
  if (auto linked = detail::link_page(db, table, filters, request, *bounds, page.next, page.previous); !linked) {
    return linked.error();
  }
  return page;
}

}  // namespace repute::store::sql
