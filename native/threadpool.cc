#include "threadpool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace mg {

// Set while this thread runs a pool task: a parallel_for from inside one runs serially
// (and never try-locks run_mu_ that this same thread may already hold).
static thread_local bool tl_in_task = false;

ThreadPool& ThreadPool::get() {
  // Leaked on purpose: its threads are joined by shutdown() (env cleanup hook), never by
  // a static destructor running after Node has torn down.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool() {
  int n = (int)std::thread::hardware_concurrency();
  if (const char* env = std::getenv("METAGRAD_THREADS")) n = std::atoi(env);
  nthreads_ = std::clamp(n, 1, 64);
  if (const char* env = std::getenv("METAGRAD_SPIN_US")) spin_ns_ = std::clamp<int64_t>(std::atoll(env), 0, 10000) * 1000;
}

namespace {
// Spin until done() or spin_ns have passed; true when done() held.
template <typename F>
bool spin_until(int64_t spin_ns, F&& done) {
  if (spin_ns <= 0) return done();
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(spin_ns);
  for (int i = 0;; i++) {
    if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) return done();
  }
}
}  // namespace

void ThreadPool::start(int n) {
  stop_ = false;
  // more threads than cores: a spinning thread would take a core from one with work
  spin_ = (unsigned)n <= std::max(1u, std::thread::hardware_concurrency()) ? spin_ns_ : 0;
  for (int i = 1; i < n; i++) workers_.emplace_back([this] { worker(); });
}

void ThreadPool::set_threads(int n) {
  n = std::clamp(n, 1, 64);
  if (n == nthreads_) return;  // keep running workers
  shutdown();
  nthreads_ = n;
}

void ThreadPool::shutdown() {
  std::lock_guard<std::mutex> running(run_mu_);  // never while a parallel_for runs
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    published_.fetch_add(1);
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  stop_ = false;
}

// Claim and run tasks of `job` until none is left. Task indices come from the job's own
// counter, so every index in [0, tasks) is run exactly once across all threads.
void ThreadPool::run(Job& job) {
  for (;;) {
    int64_t t = job.next.fetch_add(1);
    if (t >= job.tasks) return;
    try {
      tl_in_task = true;
      (*job.fn)(t);
      tl_in_task = false;
    } catch (...) {
      tl_in_task = false;
      std::lock_guard<std::mutex> lk(mu_);
      if (!job.error) job.error = std::current_exception();
    }
  }
}

void ThreadPool::worker() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    // the next job usually comes within microseconds (the next kernel): spin for it first
    lk.unlock();
    spin_until(spin_, [&] { return published_.load(std::memory_order_acquire) != seen; });
    lk.lock();
    work_cv_.wait(lk, [&] { return stop_ || (current_ && generation_ != seen); });
    if (stop_) return;
    seen = generation_;
    Job* job = current_;
    job->joined++;
    lk.unlock();
    run(*job);
    lk.lock();
    // The caller waits for joined == 0 (under mu_), so job is still alive here.
    if (--job->joined == 0) done_cv_.notify_all();
  }
}

void ThreadPool::parallel_for(int64_t tasks, const std::function<void(int64_t)>& fn) {
  if (tasks <= 0) return;
  std::unique_lock<std::mutex> running(run_mu_, std::defer_lock);
  if (tasks == 1 || nthreads_ == 1 || tl_in_task || !running.try_lock()) {
    for (int64_t t = 0; t < tasks; t++) fn(t);
    return;
  }
  if (workers_.empty()) start(nthreads_);  // lazily (re)started after shutdown
  Job job;
  job.fn = &fn;
  job.tasks = tasks;
  {
    std::lock_guard<std::mutex> lk(mu_);
    current_ = &job;
    generation_++;
    published_.store(generation_, std::memory_order_release);
  }
  work_cv_.notify_all();
  run(job);  // the caller works too, so the job finishes even if no worker ever wakes
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lk(mu_);
    current_ = nullptr;  // no worker joins from here on
  }
  // Every task was claimed (run returned); those claimed by workers finish before their
  // worker leaves, so joined == 0 means all are done. Spin for it a little, then sleep.
  spin_until(spin_, [&] { return job.joined.load(std::memory_order_acquire) == 0; });
  {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return job.joined == 0; });
    error = job.error;
  }
  if (error) std::rethrow_exception(error);
}

void parallel_range(int64_t n, int64_t minChunk, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  ThreadPool& p = ThreadPool::get();
  int64_t parts = std::min<int64_t>(p.threads(), std::max<int64_t>(1, n / std::max<int64_t>(1, minChunk)));
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  int64_t chunk = (n + parts - 1) / parts;
  p.parallel_for(parts, [&](int64_t t) {
    int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  });
}

}  // namespace mg

namespace mg {

int64_t thread_pool_check(int64_t jobs, int64_t maxTasks) {
  ThreadPool& pool = ThreadPool::get();
  int64_t wrong = 0;
  std::vector<std::atomic<int>> hits((size_t)std::max<int64_t>(2, maxTasks));
  for (int64_t j = 0; j < jobs; j++) {
    int64_t tasks = 2 + (j * 7919) % std::max<int64_t>(1, maxTasks - 1);
    for (int64_t t = 0; t < tasks; t++) hits[t].store(0, std::memory_order_relaxed);
    pool.parallel_for(tasks, [&](int64_t t) { hits[t].fetch_add(1, std::memory_order_relaxed); });
    for (int64_t t = 0; t < tasks; t++)
      if (hits[t].load() != 1) wrong++;
  }
  return wrong;
}

}  // namespace mg
