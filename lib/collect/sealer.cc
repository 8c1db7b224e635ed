// The sealing thread; see sealer.h.
#include "collect/sealer.h"

#include <chrono>
#include <exception>

namespace outpost {

Sealer::Sealer(BufferStore& store, std::mutex& store_mu, int level, size_t capacity,
               platform::ChangeWatcher* wake)
    : store_(store),
      store_mu_(store_mu),
      compressor_(level),
      capacity_(capacity),
      wake_(wake),
      used_bytes_(store.used_bytes()) {
  thread_ = std::thread([this] { Loop(); });
}

Sealer::~Sealer() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Sealer::Full() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size() >= capacity_;
}

bool Sealer::Submit(Job job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(job));
  }
  work_cv_.notify_one();
  return true;
}

bool Sealer::WaitForRoom(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  return done_cv_.wait_for(lk, timeout, [&] { return queue_.size() < capacity_; });
}

bool Sealer::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  return done_cv_.wait_for(lk, timeout, [&] { return queue_.empty(); });
}

std::vector<Sealer::Done> Sealer::TakeDone() {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<Done> out;
  out.swap(done_);
  return out;
}

std::string Sealer::error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

void Sealer::Loop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    // The head stays queued (and counted by Full) until it is committed; deque
    // references survive push_back, so it can be worked on without the lock.
    Job& job = queue_.front();
    lk.unlock();
    std::string failure;
    try {
      if (job.batch.chunk && !job.raw.empty()) {
        Result<std::string> body = compressor_.Compress(job.raw);
        if (body.ok()) {
          job.batch.chunk->body = std::move(body).value();
          job.raw.clear();
          job.raw.shrink_to_fit();
        } else {
          failure = body.status().message();
        }
      }
      if (failure.empty()) {
        std::lock_guard<std::mutex> store_lock(store_mu_);
        Result<int64_t> r = store_.Commit(job.batch);
        if (!r.ok()) failure = r.status().message();
        used_bytes_.store(store_.used_bytes(), std::memory_order_relaxed);
      }
    } catch (const std::exception& e) {  // fault barrier of this thread
      failure = std::string("internal error: ") + e.what();
    }
    lk.lock();
    if (failure.empty()) {
      done_.push_back({job.stream, job.batch.chunk ? job.batch.chunk->records : 0});
      queue_.pop_front();
      error_.clear();
      done_cv_.notify_all();
    } else {
      error_ = failure;
    }
    lk.unlock();
    if (wake_ != nullptr) wake_->Wake();
    lk.lock();
    // A failed commit is retried after a pause, unless the agent stops first.
    if (!failure.empty()) work_cv_.wait_for(lk, std::chrono::seconds(1), [&] { return stop_; });
  }
}

}  // namespace outpost
