#include "thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace deepr {

ThreadPool& ThreadPool::shared() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::ThreadPool() {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  if (const char* env = std::getenv("DEEPR_THREADS")) {
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 1 && n <= 1024) threads = unsigned(n);
  }
  resize(threads);
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  stopping_ = false;
}

void ThreadPool::resize(unsigned threads) {
  threads = std::max(1u, threads);
  std::lock_guard<std::mutex> exclusive(exclusive_);
  if (threads == size_) return;
  stop_workers();
  for (unsigned n = 1; n < threads; ++n) workers_.emplace_back([this] { work(); });
  size_ = threads;
}

void ThreadPool::run(unsigned parts, const std::function<void(unsigned)>& part) {
  std::unique_lock<std::mutex> exclusive(exclusive_, std::try_to_lock);
  if (parts <= 1 || size_ == 1 || !exclusive.owns_lock()) {
    for (unsigned p = 0; p < parts; ++p) part(p);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &part;
    parts_ = parts;
    unfinished_ = parts;
    next_ = 0;
    ++generation_;
    published_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  for (unsigned p; (p = next_.fetch_add(1)) < parts;) {
    part(p);
    std::lock_guard<std::mutex> lock(mutex_);
    --unfinished_;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  // Also wait for every worker that joined this run to leave it, so none can claim a part of the
  // next run with this run's task.
  finished_.wait(lock, [this] { return unfinished_ == 0 && joined_ == 0; });
  task_ = nullptr;
}

void ThreadPool::work() {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(unsigned)>* task;
    unsigned parts;
    // Training issues runs back to back, so poll for the next one briefly before sleeping: waking
    // a sleeping thread costs tens of microseconds.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    while (published_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) {
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && task_ != nullptr); });
      if (stopping_) return;
      seen = generation_;
      task = task_;
      parts = parts_;
      ++joined_;
    }
    for (unsigned p; (p = next_.fetch_add(1)) < parts;) {
      (*task)(p);
      std::lock_guard<std::mutex> lock(mutex_);
      --unfinished_;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    --joined_;
    finished_.notify_one();
  }
}

}  // namespace deepr
