// The sealing threads; see sealer.h.
#include "collect/sealer.h"

#include <algorithm>
#include <chrono>
#include <exception>

namespace outpost {

namespace {
// A failed compression or commit (disk full) is tried again after this pause.
constexpr std::chrono::seconds kRetryPause{1};
}  // namespace

Sealer::Sealer(BufferStore& store, std::mutex& store_mu, int level, size_t capacity,
               platform::ChangeWatcher* wake, size_t workers)
    : store_(store),
      store_mu_(store_mu),
      capacity_(std::max<size_t>(capacity, 1)),
      wake_(wake),
      used_bytes_(store.used_bytes()) {
  workers = std::max<size_t>(workers, 1);
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this, level] { Loop(level); });
}

Sealer::~Sealer() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

bool Sealer::Full() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size() >= capacity_;
}

bool Sealer::Submit(Job&& job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (queue_.size() >= capacity_) return false;
    Entry& e = queue_.emplace_back();
    e.job = std::move(job);
    e.ready = !(e.job.batch.chunk && !e.job.raw.empty());
    e.claimed = e.ready;
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

bool Sealer::CanCommit() const { return !committing_ && !queue_.empty() && queue_.front().ready; }

Sealer::Entry* Sealer::Unclaimed() {
  for (Entry& e : queue_)
    if (!e.claimed) return &e;
  return nullptr;
}

void Sealer::Loop(int level) {
  ZstdCompressor compressor(level);  // one context per worker
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    const auto has_work = [&] { return CanCommit() || Unclaimed() != nullptr; };
    if (stop_) return;
    if (std::chrono::steady_clock::now() < retry_at_) {
      work_cv_.wait_until(lk, retry_at_, [&] { return stop_; });
      continue;
    }
    if (!has_work()) {
      work_cv_.wait(lk, [&] { return stop_ || has_work(); });
      continue;
    }
    // Committing first keeps the queue short; compressing the next batch meanwhile is
    // what the other workers do.
    if (CanCommit()) {
      CommitHead(lk);
    } else {
      Compress(lk, *Unclaimed(), compressor);
    }
  }
}

void Sealer::Compress(std::unique_lock<std::mutex>& lk, Entry& e, ZstdCompressor& compressor) {
  e.claimed = true;
  lk.unlock();
  std::string failure;
  try {
    Result<std::string> body = compressor.Compress(e.job.raw);
    if (body.ok()) {
      e.job.batch.chunk->body = std::move(body).value();
      e.job.raw.clear();
      e.job.raw.shrink_to_fit();
    } else {
      failure = body.status().message();
    }
  } catch (const std::exception& ex) {  // fault barrier of this thread
    failure = std::string("internal error: ") + ex.what();
  }
  lk.lock();
  if (!failure.empty()) {
    e.claimed = false;  // tried again after the pause
    Failed(lk, failure);
    return;
  }
  e.ready = true;
  if (&e == &queue_.front()) work_cv_.notify_all();  // a worker may wait to commit it
}

void Sealer::CommitHead(std::unique_lock<std::mutex>& lk) {
  committing_ = true;
  Entry& head = queue_.front();
  lk.unlock();
  std::string failure;
  try {
    std::lock_guard<std::mutex> store_lock(store_mu_);
    Result<int64_t> r = store_.Commit(head.job.batch);
    if (!r.ok()) failure = r.status().message();
    used_bytes_.store(store_.used_bytes(), std::memory_order_relaxed);
  } catch (const std::exception& ex) {  // fault barrier of this thread
    failure = std::string("internal error: ") + ex.what();
  }
  lk.lock();
  committing_ = false;
  if (!failure.empty()) {
    Failed(lk, failure);
    return;
  }
  const Job& job = head.job;
  done_.push_back({job.stream, job.batch.chunk ? job.batch.chunk->records : 0});
  queue_.pop_front();
  error_.clear();
  done_cv_.notify_all();
  work_cv_.notify_all();  // the next head may be ready
  lk.unlock();
  if (wake_ != nullptr) wake_->Wake();
  lk.lock();
}

void Sealer::Failed(std::unique_lock<std::mutex>& lk, const std::string& failure) {
  error_ = failure;
  retry_at_ = std::chrono::steady_clock::now() + kRetryPause;
  lk.unlock();
  if (wake_ != nullptr) wake_->Wake();
  lk.lock();
}

}  // namespace outpost
