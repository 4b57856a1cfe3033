// Cursor pages: newest first, next/previous links that lead exactly to the neighbouring rows, the
// edges (empty, exactly one page, past either end), tenant isolation, and stability under inserts.
#include "unit/support/temp_dir.hpp"
#include "store/sql/pages.hpp"
#include "store/sqlite/connection.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "store/store.hpp"
#include "support/test_database.hpp"

namespace repute::store {
namespace {

using core::Status;

constexpr core::Micros kNow = 1'795'773'600'000'000;  // 2026-11-27T10:00:00Z
constexpr std::int64_t kFarFuture = std::numeric_limits<std::int64_t>::max();

using repute::test_support::TempDir;

class WebhookPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = open_store(repute::testing::database_url((dir_.path() / "repute.db").string()), {.synchronous_full = false});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    acme_ = make_tenant("acme");
    globex_ = make_tenant("globex");
  }

  std::string make_tenant(const std::string& name) {
    std::string id;
    const Status status = store_->write_and_wait([&](WriteTx& tx) -> Status {
      auto made = tx.ensure_tenant(name, kNow);
      if (!made) return made.error();
      id = made->id;
      return core::ok_status();
    });
    EXPECT_TRUE(status.ok()) << status.error().message;
    return id;
  }

  // Inserts a webhook named name for tenant; returns its name for convenience.
  std::string add(const std::string& tenant_id, const std::string& name) {
    core::Webhook webhook;
    webhook.id = core::new_uuid();
    webhook.tenant_id = tenant_id;
    webhook.events = {"*"};
    webhook.name = name;
    webhook.url = "https://example.com/" + name;
    webhook.created_at = kNow;
    webhook.updated_at = kNow;
    const Status status = store_->write_and_wait([&](WriteTx& tx) { return tx.insert_webhook(webhook); });
    EXPECT_TRUE(status.ok()) << status.error().message;
    return name;
  }

  // Adds n webhooks "w0".."w{n-1}" for tenant, oldest first.
  std::vector<std::string> add_many(const std::string& tenant_id, int n, const std::string& prefix = "w") {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.push_back(add(tenant_id, prefix + std::to_string(i)));
    return names;
  }

  Page<core::Webhook> list(const std::string& tenant_id, int limit, std::optional<Cursor> cursor = {}) {
    auto page = store_->list_webhooks(tenant_id, PageRequest{limit, cursor});
    EXPECT_TRUE(page.ok()) << page.error().message;
    return page.ok() ? std::move(*page) : Page<core::Webhook>{};
  }

  static std::vector<std::string> names(const Page<core::Webhook>& page) {
    std::vector<std::string> out;
    for (const auto& webhook : page.items) out.push_back(webhook.name);
    return out;
  }

  static std::vector<std::string> newest_first(std::vector<std::string> names) {
    std::reverse(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::string acme_;
  std::string globex_;
};

TEST_F(WebhookPagesTest, AnEmptyListHasNoLinks) {
  const auto page = list(acme_, 10);
  EXPECT_TRUE(page.items.empty());
  EXPECT_FALSE(page.next.has_value());
  EXPECT_FALSE(page.previous.has_value());
}

TEST_F(WebhookPagesTest, ListsNewestFirst) {
  const auto added = add_many(acme_, 5);
  const auto page = list(acme_, 10);
  EXPECT_EQ(names(page), newest_first(added));
  EXPECT_FALSE(page.next.has_value());
  EXPECT_FALSE(page.previous.has_value());
}

TEST_F(WebhookPagesTest, ExactlyOnePageOfRowsHasNoNextLink) {
  const auto added = add_many(acme_, 4);
  const auto page = list(acme_, 4);
  EXPECT_EQ(names(page), newest_first(added));
  EXPECT_FALSE(page.next.has_value()) << "a next link to an empty page";
  EXPECT_FALSE(page.previous.has_value());
}

TEST_F(WebhookPagesTest, OneRowMoreThanThePageLinksToIt) {
  add_many(acme_, 5);
  const auto first = list(acme_, 4);
  EXPECT_EQ(names(first), (std::vector<std::string>{"w4", "w3", "w2", "w1"}));
  ASSERT_TRUE(first.next.has_value());
  EXPECT_EQ(first.next->direction, Cursor::Direction::kAfter);
  EXPECT_FALSE(first.previous.has_value());

  const auto second = list(acme_, 4, first.next);
  EXPECT_EQ(names(second), (std::vector<std::string>{"w0"}));
  EXPECT_FALSE(second.next.has_value());
  ASSERT_TRUE(second.previous.has_value());
  EXPECT_EQ(second.previous->direction, Cursor::Direction::kBefore);

  const auto back = list(acme_, 4, second.previous);
  EXPECT_EQ(names(back), names(first));
  ASSERT_TRUE(back.next.has_value());
  EXPECT_FALSE(back.previous.has_value()) << "a previous link from the newest rows";
}

TEST_F(WebhookPagesTest, WalksForwardAndBackThroughEveryPage) {
  const auto added = add_many(acme_, 23);
  const auto expected = newest_first(added);
  std::vector<std::vector<std::string>> pages;
  std::vector<std::string> seen;
  std::optional<Cursor> cursor;
  Page<core::Webhook> page;
  do {
    page = list(acme_, 5, cursor);
    ASSERT_FALSE(page.items.empty());
    EXPECT_EQ(page.previous.has_value(), !pages.empty()) << "page " << pages.size();
    pages.push_back(names(page));
    seen.insert(seen.end(), pages.back().begin(), pages.back().end());
    cursor = page.next;
  } while (cursor && pages.size() < 10);
  EXPECT_EQ(seen, expected);
  ASSERT_EQ(pages.size(), 5u);
  EXPECT_EQ(pages.back().size(), 3u);

  // Back from the last page, each previous link gives exactly the page before, newest first.
  for (std::size_t i = pages.size() - 1; i > 0; --i) {
    ASSERT_TRUE(page.previous.has_value()) << "page " << i;
    page = list(acme_, 5, page.previous);
    EXPECT_EQ(names(page), pages[i - 1]) << "page " << i - 1;
    EXPECT_TRUE(page.next.has_value()) << "page " << i - 1;
  }
  EXPECT_FALSE(page.previous.has_value());
}

TEST_F(WebhookPagesTest, APageOfOneStepsThroughRowByRow) {
  const auto added = add_many(acme_, 3);
  auto page = list(acme_, 1);
  std::vector<std::string> seen = names(page);
  while (page.next) {
    ASSERT_LT(seen.size(), 10u) << "the walk does not end";
    page = list(acme_, 1, page.next);
    ASSERT_EQ(page.items.size(), 1u);
    seen.push_back(page.items[0].name);
  }
  EXPECT_EQ(seen, newest_first(added));
}

TEST_F(WebhookPagesTest, ACursorPastTheOldestRowLeadsBackToTheLastPage) {
  add_many(acme_, 7);
  const auto past = list(acme_, 3, Cursor{Cursor::Direction::kAfter, 0});
  EXPECT_TRUE(past.items.empty());
  EXPECT_FALSE(past.next.has_value());
  ASSERT_TRUE(past.previous.has_value());
  const auto last = list(acme_, 3, past.previous);
  EXPECT_EQ(names(last), (std::vector<std::string>{"w2", "w1", "w0"}));
  EXPECT_FALSE(last.next.has_value());
  EXPECT_TRUE(last.previous.has_value());
}

TEST_F(WebhookPagesTest, ACursorPastTheNewestRowLeadsBackToTheFirstPage) {
  add_many(acme_, 7);
  const auto past = list(acme_, 3, Cursor{Cursor::Direction::kBefore, kFarFuture});
  EXPECT_TRUE(past.items.empty());
  EXPECT_FALSE(past.previous.has_value());
  ASSERT_TRUE(past.next.has_value());
  const auto first = list(acme_, 3, past.next);
  EXPECT_EQ(names(first), (std::vector<std::string>{"w6", "w5", "w4"}));
  EXPECT_TRUE(first.next.has_value());
}

TEST_F(WebhookPagesTest, ACursorIntoAnEmptyListHasNoLinks) {
  for (const Cursor cursor : {Cursor{Cursor::Direction::kAfter, 0}, Cursor{Cursor::Direction::kAfter, kFarFuture},
                              Cursor{Cursor::Direction::kBefore, 0}, Cursor{Cursor::Direction::kBefore, kFarFuture}}) {
    const auto page = list(acme_, 3, cursor);
    EXPECT_TRUE(page.items.empty());
    EXPECT_FALSE(page.next.has_value());
    EXPECT_FALSE(page.previous.has_value());
  }
}

TEST_F(WebhookPagesTest, ListsAndLinksCountOnlyTheTenantsOwnRows) {
  // Interleaved so that the other tenant has rows older, newer and in between.
  add(globex_, "g-oldest");
  add(acme_, "a0");
  add(globex_, "g-middle");
  add(acme_, "a1");
  add(acme_, "a2");
  add(globex_, "g-newest");

  const auto all = list(acme_, 3);
  EXPECT_EQ(names(all), (std::vector<std::string>{"a2", "a1", "a0"}));
  EXPECT_FALSE(all.next.has_value()) << "a next link that only another tenant's rows would fill";
  EXPECT_FALSE(all.previous.has_value());

  const auto first = list(acme_, 2);
  EXPECT_EQ(names(first), (std::vector<std::string>{"a2", "a1"}));
  ASSERT_TRUE(first.next.has_value());
  const auto second = list(acme_, 2, first.next);
  EXPECT_EQ(names(second), (std::vector<std::string>{"a0"}));
  EXPECT_FALSE(second.next.has_value());
  ASSERT_TRUE(second.previous.has_value());
  EXPECT_EQ(names(list(acme_, 2, second.previous)), names(first));

  // The other tenant's cursors do not reveal acme's rows either.
  const auto other = list(globex_, 1);
  EXPECT_EQ(names(other), (std::vector<std::string>{"g-newest"}));
  std::vector<std::string> globex_seen = names(other);
  auto page = other;
  while (page.next) {
    ASSERT_LT(globex_seen.size(), 10u) << "the walk does not end";
    page = list(globex_, 1, page.next);
    for (const auto& name : names(page)) globex_seen.push_back(name);
  }
  EXPECT_EQ(globex_seen, (std::vector<std::string>{"g-newest", "g-middle", "g-oldest"}));

  EXPECT_TRUE(list(make_tenant("initech"), 10).items.empty());
}

// A client walking a list while others insert sees every row that existed when it started, exactly once.
TEST_F(WebhookPagesTest, WalkingWhileOthersInsertNeverSkipsOrRepeats) {
  const auto existing = add_many(acme_, 60, "old");
  std::atomic<int> inserted{0};
  std::jthread inserter([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      add(acme_, "new" + std::to_string(inserted.fetch_add(1)));
      add(globex_, "other");
    }
  });
  while (inserted.load() == 0) std::this_thread::yield();  // the inserter is running before the walk starts

  std::vector<std::string> seen;
  std::map<std::string, int> times_seen;
  auto page = list(acme_, 7);
  for (int pages = 1;; ++pages) {
    ASSERT_LT(pages, 100) << "the walk does not end";
    for (const auto& name : names(page)) {
      seen.push_back(name);
      ++times_seen[name];
    }
    // Make sure rows really are inserted between pages, whatever the scheduler does.
    add(acme_, "between" + std::to_string(pages));
    if (!page.next) break;
    const auto previous_page = names(page);
    page = list(acme_, 7, page.next);
    ASSERT_TRUE(page.previous.has_value());
    EXPECT_EQ(names(list(acme_, 7, page.previous)), previous_page) << "the previous link moved under inserts";
  }
  inserter.request_stop();
  inserter.join();

  for (const auto& [name, count] : times_seen) EXPECT_EQ(count, 1) << name << " was listed " << count << " times";
  for (const auto& name : existing) EXPECT_EQ(times_seen.count(name), 1u) << name << " was skipped";
  // Newest first throughout: the old rows come out in reverse order of insertion.
  std::vector<std::string> old_in_order;
  for (const auto& name : seen) {
    if (name.starts_with("old")) old_in_order.push_back(name);
  }
  EXPECT_EQ(old_in_order, newest_first(existing));
}

// list_page is generic: a table with no filter, and one with several.
class GenericPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = sqlite::Connection::open((dir_.path() / "pages.db").string(), true, false);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    ASSERT_TRUE(db_->exec("CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, "
                          "kind TEXT NOT NULL, label TEXT NOT NULL)")
                    .ok());
  }

  void add(const std::string& owner, const std::string& kind, const std::string& label) {
    auto statement = db_->prepare("INSERT INTO items(owner, kind, label) VALUES (?, ?, ?)");
    ASSERT_TRUE(statement.ok()) << statement.error().message;
    ASSERT_TRUE(statement->bind(1, owner).bind(2, kind).bind(3, label).run().ok());
  }

  Page<std::string> list(const sql::Filters& filters, int limit, std::optional<Cursor> cursor = {}) {
    auto page =
        sql::list_page<std::string>(*db_, "items", "SELECT seq, label FROM items", filters,
                                       PageRequest{limit, cursor}, [](sql::Statement& row) { return row.text(1); });
    EXPECT_TRUE(page.ok()) << page.error().message;
    return page.ok() ? std::move(*page) : Page<std::string>{};
  }

  TempDir dir_;
  std::unique_ptr<sqlite::Connection> db_;
};

TEST_F(GenericPagesTest, PagesATableWithoutFilters) {
  for (int i = 0; i < 5; ++i) add("o", "k", "i" + std::to_string(i));
  const auto first = list({}, 2);
  EXPECT_EQ(first.items, (std::vector<std::string>{"i4", "i3"}));
  ASSERT_TRUE(first.next.has_value());
  EXPECT_FALSE(first.previous.has_value());
  const auto second = list({}, 2, first.next);
  EXPECT_EQ(second.items, (std::vector<std::string>{"i2", "i1"}));
  ASSERT_TRUE(second.next.has_value());
  ASSERT_TRUE(second.previous.has_value());
  const auto third = list({}, 2, second.next);
  EXPECT_EQ(third.items, (std::vector<std::string>{"i0"}));
  EXPECT_FALSE(third.next.has_value());
  ASSERT_TRUE(third.previous.has_value());
  EXPECT_EQ(list({}, 2, third.previous).items, second.items);
  const auto past = list({}, 2, Cursor{Cursor::Direction::kAfter, 0});
  EXPECT_TRUE(past.items.empty());
  ASSERT_TRUE(past.previous.has_value());
  EXPECT_EQ(list({}, 2, past.previous).items, (std::vector<std::string>{"i1", "i0"}));
}

TEST_F(GenericPagesTest, AppliesEveryFilter) {
  add("ann", "a", "ann-a-1");
  add("ann", "b", "ann-b-1");
  add("bob", "a", "bob-a-1");
  add("ann", "a", "ann-a-2");
  add("ann", "a", "ann-a-3");
  const sql::Filters filters = {{"owner", "ann"}, {"kind", "a"}};
  const auto first = list(filters, 2);
  EXPECT_EQ(first.items, (std::vector<std::string>{"ann-a-3", "ann-a-2"}));
  ASSERT_TRUE(first.next.has_value());
  const auto second = list(filters, 2, first.next);
  EXPECT_EQ(second.items, (std::vector<std::string>{"ann-a-1"}));
  EXPECT_FALSE(second.next.has_value());
  ASSERT_TRUE(second.previous.has_value());
  EXPECT_EQ(list(filters, 2, second.previous).items, first.items);
  EXPECT_TRUE(list({{"owner", "carol"}}, 2).items.empty());
}

}  // namespace
}  // namespace repute::store
