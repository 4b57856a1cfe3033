#include "store/sql/pages.hpp"

#include <algorithm>

namespace repute::store::sql {
namespace detail {
namespace {

std::string where_clause(const Filters& filters) {
  std::string sql;
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const bool compares = filters[i].first.find(' ') != std::string::npos;
    sql += (i ? " AND " : " WHERE ") + filters[i].first + (compares ? " ?" : " = ?");
  }
  return sql;
}

void bind_filters(Statement& statement, const Filters& filters) {
  for (std::size_t i = 0; i < filters.size(); ++i) {
    std::visit([&](const auto& value) { statement.bind(static_cast<int>(i + 1), value); }, filters[i].second);
  }
}

// True when a row of the list lies strictly beyond position in the given direction.
Result<bool> rows_beyond(Connection& db, const std::string& table, const Filters& filters, std::int64_t position,
                         bool newer) {
  std::string sql = "SELECT CASE WHEN EXISTS(SELECT 1 FROM " + table + where_clause(filters) + (filters.empty() ? " WHERE " : " AND ") +
                    "seq " + (newer ? ">" : "<") + " ?) THEN 1 ELSE 0 END";
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  bind_filters(*statement, filters);
  statement->bind(static_cast<int>(filters.size() + 1), position);
  auto row = statement->step();
  if (!row) return row.error();
  return *row && statement->integer(0) != 0;
}

}  // namespace

Result<PageBounds> fetch_page(Connection& db, const std::string& select_from, const Filters& filters,
                              const PageRequest& request, const std::function<void(Statement&)>& read) {
  const bool backward = request.cursor && request.cursor->direction == Cursor::Direction::kBefore;
  std::string sql = select_from + where_clause(filters);
  if (request.cursor) sql += std::string(filters.empty() ? " WHERE " : " AND ") + (backward ? "seq > ?" : "seq < ?");
  sql += backward ? " ORDER BY seq ASC LIMIT ?" : " ORDER BY seq DESC LIMIT ?";
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  bind_filters(*statement, filters);
  int index = static_cast<int>(filters.size() + 1);
  if (request.cursor) statement->bind(index++, request.cursor->position);
  statement->bind(index, std::int64_t{request.limit} + 1);

  PageBounds bounds;
  for (;;) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!*row) break;
    if (static_cast<int>(bounds.positions.size()) == request.limit) {
      bounds.more_beyond = true;
      break;
    }
    bounds.positions.push_back(statement->integer(0));
    read(*statement);
  }
  if (backward) std::reverse(bounds.positions.begin(), bounds.positions.end());
  return bounds;
}

Status link_page(Connection& db, const std::string& table, const Filters& filters, const PageRequest& request,
                 const PageBounds& bounds, std::optional<Cursor>& next, std::optional<Cursor>& previous) {
  const bool backward = request.cursor && request.cursor->direction == Cursor::Direction::kBefore;
  if (bounds.positions.empty()) {
    // An empty page past either end: offer the way back to the rows that exist.
    if (request.cursor) {
      auto beyond = rows_beyond(db, table, filters, request.cursor->position, !backward);
      if (!beyond) return beyond.error();
      if (*beyond) {
        Cursor back{backward ? Cursor::Direction::kAfter : Cursor::Direction::kBefore, request.cursor->position};
        (backward ? next : previous) = back;
      }
    }
    return core::ok_status();
  }
  const std::int64_t newest = bounds.positions.front();
  const std::int64_t oldest = bounds.positions.back();
  bool older_exist = !backward && bounds.more_beyond;
  bool newer_exist = backward && bounds.more_beyond;
  if (backward) {
    auto beyond = rows_beyond(db, table, filters, oldest, false);
    if (!beyond) return beyond.error();
    older_exist = *beyond;
  } else if (request.cursor) {
    auto beyond = rows_beyond(db, table, filters, newest, true);
    if (!beyond) return beyond.error();
    newer_exist = *beyond;
  }
  if (older_exist) next = Cursor{Cursor::Direction::kAfter, oldest};
  if (newer_exist) previous = Cursor{Cursor::Direction::kBefore, newest};
  return core::ok_status();
}

}  // namespace detail
}  // namespace repute::store::sql
