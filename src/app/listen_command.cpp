// `repute listen`: a local webhook receiver for integrators. It accepts POSTs on loopback, checks both signatures
// (X-Argyle-Signature and the Standard Webhooks webhook-signature) when given the secret, and prints one line per
// event. A bad signature is answered 401, so the sender treats it as a failed delivery.
#include <openssl/crypto.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/server.hpp"
#include "app/commands.hpp"
#include "core/time.hpp"
#include "delivery/signing.hpp"

namespace repute::app {
namespace {

// Standard Webhooks receivers refuse timestamps further than this from their clock (replay protection).
constexpr std::int64_t kTimestampTolerance = 5 * 60;

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Why the request's signatures do not hold, or empty when both do.
std::string signature_problem(const api::HttpRequest& request, const std::string& secret) {
  const std::string* argyle = request.header("X-Argyle-Signature");
  if (!argyle) return "no X-Argyle-Signature";
  if (!same_text(*argyle, delivery::argyle_signature(secret, request.body))) return "X-Argyle-Signature mismatch";

  const std::string* id = request.header("webhook-id");
  const std::string* timestamp_text = request.header("webhook-timestamp");
  const std::string* signatures = request.header("webhook-signature");
  if (!id || !timestamp_text || !signatures) return "no webhook-id, webhook-timestamp or webhook-signature";
  std::int64_t timestamp = 0;
  const char* end = timestamp_text->data() + timestamp_text->size();
  if (std::from_chars(timestamp_text->data(), end, timestamp).ptr != end) return "malformed webhook-timestamp";
  if (std::llabs(core::system_clock().now() / core::kMicrosPerSecond - timestamp) > kTimestampTolerance) {
    return "webhook-timestamp too far from now";
  }
  const std::string expected = delivery::standard_webhooks_signature(secret, *id, timestamp, request.body);
  // The header may carry several space-separated signatures (during a key rotation); one match suffices.
  std::string_view rest = *signatures;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    if (same_text(rest.substr(0, space), expected)) return {};
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  return "webhook-signature mismatch";
}

// "reputations.added webhook-id=... account=... user=... reputation=..." from what the body says.
std::string describe_event(const api::HttpRequest& request) {
  const std::string* id = request.header("webhook-id");
  std::string line;
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(request.body, ec);
  const boost::json::object* fields = ec ? nullptr : body.if_object();
  const boost::json::value* event = fields ? fields->if_contains("event") : nullptr;
  line = event && event->is_string() ? std::string(event->as_string()) : std::string("(not a webhook body)");
  line += " webhook-id=" + (id ? *id : std::string("-"));
  const boost::json::value* data = fields ? fields->if_contains("data") : nullptr;
  if (data && data->is_object()) {
    for (const char* key : {"account", "user", "reputation"}) {
      const boost::json::value* value = data->as_object().if_contains(key);
      if (value && value->is_string()) line += std::string(" ") + key + "=" + std::string(value->as_string());
    }
  }
  return line;
}

api::HttpResponse answer(int status, std::string_view detail) {
  return {status, "{\"detail\":\"" + std::string(detail) + "\"}", "application/json", {}};
}

}  // namespace

int run_listen(const ListenOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  api::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.threads = 1;
  const std::optional<std::string> secret = options.secret;
  auto server = api::start_http_server(server_options, [secret](api::HttpRequest request, api::Respond respond) {
    if (request.method != "POST") return respond(answer(405, "POST webhooks here."));
    std::string line = describe_event(request);
    if (!secret) {
      print_line(line + " signature not checked (no --secret)");
      return respond(answer(200, "received"));
    }
    const std::string problem = signature_problem(request, *secret);
    if (!problem.empty()) {
      print_line(line + " BAD SIGNATURE (" + problem + ")");
      return respond(answer(401, "bad signature"));
    }
    print_line(line + " signature ok");
    respond(answer(200, "received"));
  });
  if (!server) {
    std::fprintf(stderr, "repute listen: %s\n", server.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr, "repute listen: receiving webhooks on http://%s:%u/ (%s)\n", options.host.c_str(),
               static_cast<unsigned>((*server)->port()),
               secret ? "verifying X-Argyle-Signature and webhook-signature" : "signatures not checked");
  std::fflush(stderr);

  int received = 0;
  sigwait(&stop_signals, &received);
  (*server)->stop();
  return 0;
}

}  // namespace repute::app
