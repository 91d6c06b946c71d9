#pragma once
// The agent's local status API: a unix stream socket on which every connection receives one JSON
// document (the binding loop's statusDocument()) and is closed. `bwfloorctl queues` reads it.
// Deliberately not HTTP: one local reader, one document, no request to parse; file permissions
// (0660, root's group) are the access control.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "core/result.h"

namespace bwfloor::agent {

class StatusSocket {
 public:
  using DocumentSource = std::function<std::string()>;

  // Binds `path` (creating its directory, replacing a stale socket) and serves from a thread.
  static Result<std::unique_ptr<StatusSocket>> open(const std::string& path, DocumentSource source);
  ~StatusSocket();
  StatusSocket(const StatusSocket&) = delete;
  StatusSocket& operator=(const StatusSocket&) = delete;

  const std::string& path() const { return path_; }

 private:
  StatusSocket(std::string path, int fd, DocumentSource source);
  void serve();

  std::string path_;
  int fd_;
  DocumentSource source_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Reads the document from a status socket (bwfloorctl).
Result<std::string> readStatusSocket(const std::string& path);

}  // namespace bwfloor::agent
