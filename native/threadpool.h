// A small fixed thread pool for data-parallel loops. Sized to the machine (or
// METAGRAD_THREADS); the caller's thread works too; exceptions thrown in workers are
// carried back and rethrown on the caller. shutdown() joins every worker so Node can exit.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mg {

class ThreadPool {
 public:
  static ThreadPool& get();
  // Run fn(task) for task in [0, tasks); returns when all are done.
  void parallel_for(int64_t tasks, const std::function<void(int64_t)>& fn);
  int threads() const { return nthreads_; }
  void set_threads(int n);
  void shutdown();

 private:
  // One parallel_for call. It lives on the caller's stack; a worker touches it only between
  // joining (under mu_, while it is current_) and leaving (under mu_), and the caller returns
  // only once every task is done and no worker is still joined, so no thread ever sees a
  // stale job: a worker late from one job cannot claim or count a task of the next.
  struct Job {
    const std::function<void(int64_t)>* fn;
    int64_t tasks;
    std::atomic<int64_t> next{0};       // next task index to claim
    std::atomic<int> joined{0};         // workers inside run(); changed under mu_ (read spinning)
    std::exception_ptr error;           // first exception; guarded by mu_
  };

  ThreadPool();
  void start(int n);
  void worker();
  void run(Job& job);

  int nthreads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  Job* current_ = nullptr;  // the job workers may join; guarded by mu_
  uint64_t generation_ = 0;  // bumped per job so a worker joins each job at most once
  bool stop_ = false;
  // generation_ (and a bump on shutdown) mirrored for the spin before sleeping: a worker that
  // sees it change stops spinning and takes mu_ to check properly
  std::atomic<uint64_t> published_{0};
  // How long a worker spins for the next job, and the caller for the workers to finish, before
  // sleeping on the condition variable (METAGRAD_SPIN_US, default 50; 0: sleep at once). A
  // sleeping thread takes tens of microseconds to wake, longer than many kernels.
  int64_t spin_ns_ = 50000;
  int64_t spin_ = 0;  // spin_ns_, or 0 when the pool has more threads than the machine has cores
  // Held while a parallel_for runs: a nested call (from a task) or a concurrent one (from
  // another Node worker thread) cannot take it and runs serially instead.
  std::mutex run_mu_;
};

// Split [0, n) into about `parts` chunks and run fn(begin, end) on each in parallel.
void parallel_range(int64_t n, int64_t minChunk, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace mg

namespace mg {
// A self-check for tests and the soak script: `jobs` parallel_for calls of 2..maxTasks tiny
// tasks, each task counting its own runs; returns how many tasks did not run exactly once
// by the time parallel_for returned (0 when the pool is correct).
int64_t thread_pool_check(int64_t jobs, int64_t maxTasks);
}  // namespace mg
