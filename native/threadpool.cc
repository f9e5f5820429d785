#include "threadpool.h"

#include <algorithm>
#include <cstdlib>

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
}

void ThreadPool::start(int n) {
  stop_ = false;
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
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  stop_ = false;
}

void ThreadPool::drain() {
  for (;;) {
    int64_t t = next_.fetch_add(1);
    if (t >= tasks_) break;
    try {
      tl_in_task = true;
      (*job_)(t);
      tl_in_task = false;
    } catch (...) {
      tl_in_task = false;
      std::lock_guard<std::mutex> lk(mu_);
      if (!error_) error_ = std::current_exception();
    }
    if (remaining_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lk(mu_);
      done_cv_.notify_all();
    }
  }
}

void ThreadPool::worker() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain();
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
  {
    std::lock_guard<std::mutex> lk(mu_);
    job_ = &fn;
    tasks_ = tasks;
    next_ = 0;
    remaining_ = tasks;
    error_ = nullptr;
    generation_++;
  }
  cv_.notify_all();
  drain();
  {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return remaining_.load() == 0; });
    job_ = nullptr;
  }
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
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
