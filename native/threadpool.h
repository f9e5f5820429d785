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
  ThreadPool();
  void start(int n);
  void worker();
  void drain();

  int nthreads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t)>* job_ = nullptr;
  std::atomic<int64_t> next_{0};
  int64_t tasks_ = 0;
  std::atomic<int64_t> remaining_{0};
  uint64_t generation_ = 0;
  bool stop_ = false;
  // Held while a parallel_for runs: a nested call (from a task) or a concurrent one (from
  // another Node worker thread) cannot take it and runs serially instead.
  std::mutex run_mu_;
  std::exception_ptr error_;
};

// Split [0, n) into about `parts` chunks and run fn(begin, end) on each in parallel.
void parallel_range(int64_t n, int64_t minChunk, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace mg
