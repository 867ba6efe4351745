// A persistent pool of worker threads for splitting one layer's sweep over the cores.
//
// A sweep takes one part per thread once its layer is large enough, so the split depends on the
// thread count; the results do not: parts write disjoint outputs, every output and connection is
// computed with the same arithmetic whichever part holds it (the noise of slot k is normal number k
// of its layer's stream), and the parts' lists of dormant connections are joined in part order.
// So results are bit-identical for any thread count.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace deepr {

class ThreadPool {
 public:
  // The process-wide pool. Its size starts at DEEPR_THREADS if set, else the number of cores.
  static ThreadPool& shared();

  ~ThreadPool();

  // Threads that run parts, the calling thread included.
  unsigned size() const { return size_.load(); }
  void resize(unsigned threads);

  // Calls part(p) for every p in [0, parts) and returns when all are done. The caller runs parts
  // too. When another run is in progress (another model training on another thread), the parts
  // simply run on the caller, one after another: the result is the same.
  void run(unsigned parts, const std::function<void(unsigned)>& part);

 private:
  ThreadPool();
  void work();
  void stop_workers();

  std::vector<std::thread> workers_;
  std::atomic<unsigned> size_{1};
  std::mutex exclusive_;  // one run, or one resize, at a time
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  uint64_t generation_ = 0;
  std::atomic<uint64_t> published_{0};  // generation_, readable without the mutex
  bool stopping_ = false;
  const std::function<void(unsigned)>* task_ = nullptr;
  unsigned parts_ = 0;
  unsigned unfinished_ = 0;
  unsigned joined_ = 0;  // workers inside the current run
  std::atomic<unsigned> next_{0};
};

}  // namespace deepr
