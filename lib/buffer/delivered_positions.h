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
// The shipper writes it (a temporary file, then a rename) when it saves its status
// after deliveries, at most every 2 s and only when it changed; file sources read it
// once, at start. It only ever holds offsets whose lines were delivered, so a stale
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

// The text written for `positions` (stable: sources and files in order).
std::string RenderDeliveredPositions(const DeliveredPositions& positions);

// Writes the file: a temporary file beside it, renamed over it.
Status SaveDeliveredPositions(const std::filesystem::path& file,
                              const DeliveredPositions& positions);

}  // namespace outpost
