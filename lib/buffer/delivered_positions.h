// delivered.json: how far each file's lines are known to be delivered, kept beside
// buffer.db as a second, independent record (docs/buffer.md, "Delivered positions").
//
// buffer.db's checkpoints say how far each file was *read* (its lines are in committed
// chunks); when buffer.db is destroyed, or a checkpoint row is damaged, that is gone
// and the only safe thing left is to read the file again from its start, which sends
// everything delivered before the damage a second time. This file keeps, per file
// source, its checkpoints as they were the last time none of its chunks was waiting
// to be sent: every line before those offsets has reached the server. A file source
// that finds no usable checkpoint for a file at start-up resumes at the delivered
// offset instead of 0, provided the file is the same one (device, inode and the
// fingerprint of its first bytes) and is at least that long.
//
// The shipper writes it (a temporary file, then a rename) after deliveries, at most
// every 10 s and when it stops, and only when it changed; file sources read it once,
// at start. It only ever holds offsets whose lines were delivered, so a stale
// copy re-sends more but never skips a line; a damaged or unreadable file is ignored
// (its check value catches a torn write).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "buffer/buffer_store.h"
#include "util/status.h"

namespace outpost {

// The file beside buffer.db.
std::filesystem::path DeliveredPositionsPath(const std::filesystem::path& buffer_file);

// Positions per source (file checkpoints only: cursor is empty).
using DeliveredPositions = std::map<std::string, std::vector<Checkpoint>>;

// Reads the file. A missing file is no positions and OK; a damaged one (not JSON, a
// wrong check value, a field of the wrong type) is an error naming the file, and
// callers go on without positions.
Result<DeliveredPositions> LoadDeliveredPositions(const std::filesystem::path& file);

// What the file holds next: `current`, with the sources that have rows in `drained`
// (BufferStore::DeliveredCheckpoints: every source there has no live chunk) given
// those rows instead of their old entries. A row written before `trusted_since_ms`
// (not by the running agent) is taken only when the old entry for that file has the
// same offset and fingerprint; otherwise the old entry stays, or the file has none (a
// damaged row is never copied over a good position). Sources without rows keep theirs;
// old entries of a drained source without a row (the file vanished) are dropped.
DeliveredPositions MergeDelivered(const DeliveredPositions& current,
                                  std::vector<Checkpoint> drained, int64_t trusted_since_ms);

// The text written for `positions` (stable: sources and files in order).
std::string RenderDeliveredPositions(const DeliveredPositions& positions);

// Writes the file: a temporary file beside it, renamed over it.
Status SaveDeliveredPositions(const std::filesystem::path& file,
                              const DeliveredPositions& positions);

}  // namespace outpost
