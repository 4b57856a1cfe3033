// A deliberate data race, for scripts/tsan.sh's self-check only: preloaded (LD_PRELOAD) into an integration test
// run, it starts two threads in the `repute` child (and in no other process) that, after REPUTE_RACE_DELAY_MS,
// write one global without synchronisation. ThreadSanitizer must report it and the test that started the child
// must fail; if it passes, a race in the server would go unnoticed too.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

namespace {

long shared_counter = 0;

void* race(void*) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);  // SIGTERM stays for the server's own sigwait
  const char* delay = std::getenv("REPUTE_RACE_DELAY_MS");
  usleep(static_cast<useconds_t>((delay ? std::atoi(delay) : 500) * 1000));
  for (int i = 0; i < 1000; ++i) shared_counter = shared_counter + 1;
  return nullptr;
}

__attribute__((constructor)) void start_race_in_repute() {
  char exe[PATH_MAX] = {};
  if (readlink("/proc/self/exe", exe, sizeof exe - 1) <= 0) return;
  const char* name = std::strrchr(exe, '/');
  if (name == nullptr || std::strcmp(name + 1, "repute") != 0) return;
  for (int i = 0; i < 2; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, nullptr, race, nullptr) == 0) pthread_detach(thread);
  }
}

}  // namespace
