// ntpcheck sweep on MPI (sweep_cli.hpp; docs/sweep.md "MPI"). Everything MPI is in this file,
// compiled with MPI only when CMake's NTPCHECK_MPI is enabled (NTPCHECK_HAVE_MPI=1); otherwise
// it provides the launcher-environment probes and a stub.
//
// Protocol (dynamic distribution; certified analyses vary widely in cost):
//   rank 0 is a pure coordinator: it takes the directory lock, scans the shards (truncating a
//   partial last line), and hands out the indices of unfinished points one at a time, in
//   ascending order, to whichever worker asks; ranks 1..K-1 compute and append to their own
//   shard-<rank>.jsonl. A worker's message kTagRequest carries the index it just finished (-1 on
//   its first request); the reply kTagWork carries the next index, or -1 when none is left (or
//   --max-seconds has passed). A worker then closes its shard and sends kTagClosed; when every
//   worker has, rank 0 merges (results.jsonl, phase diagram), prints, and sends each worker the
//   exit code (kTagExit), which every rank returns.
//   Waits poll (MPI_Iprobe / MPI_Test with short sleeps) instead of blocking: Open MPI's blocking
//   calls spin, and an idle coordinator must not take a core from a worker.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/sweep_cli.hpp"

namespace ntpcli {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || x < 0 || x > 1'000'000) return fallback;
  return static_cast<int>(x);
}

}  // namespace

int mpi_launch_size() {
  const int size = env_int("OMPI_COMM_WORLD_SIZE", -2);
  if (size != -2) return size;
  const int pmi = env_int("PMI_SIZE", -2);
  if (pmi != -2) return pmi;
  if (std::getenv("PMIX_RANK") != nullptr || std::getenv("PMI_RANK") != nullptr) return -1;
  return 0;
}

int mpi_launch_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    const int r = env_int(v, -1);
    if (r >= 0) return r;
  }
  return 0;
}

}  // namespace ntpcli

#if NTPCHECK_HAVE_MPI

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "ntp/errors.hpp"

namespace ntpcli {
namespace {

constexpr int kTagRequest = 1;
constexpr int kTagWork = 2;
constexpr int kTagClosed = 3;
constexpr int kTagExit = 4;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/** Sleeps between polls: 20 us doubling up to 500 us (the latency a worker may wait for its next
 * point; an idle poll every 0.5 ms costs next to no CPU), reset by reset(). */
class Backoff {
 public:
  void wait() {
    std::this_thread::sleep_for(std::chrono::microseconds(us_));
    us_ = us_ * 2 > 500 ? 500 : us_ * 2;
  }
  void reset() { us_ = 20; }

 private:
  int us_ = 20;
};

/** A receive of one int64 that polls instead of spinning. */
std::int64_t recv_polled(int source, int tag) {
  std::int64_t v = 0;
  MPI_Request req;
  MPI_Irecv(&v, 1, MPI_INT64_T, source, tag, MPI_COMM_WORLD, &req);
  Backoff b;
  for (;;) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done != 0) return v;
    b.wait();
  }
}

void send_int(std::int64_t v, int dest, int tag) {
  MPI_Send(&v, 1, MPI_INT64_T, dest, tag, MPI_COMM_WORLD);
}

/** FNV-1a of the spec as parsed, so every rank checks it read the same spec as rank 0. */
std::uint64_t digest(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/** An error of this rank: its exit code and message. */
struct Failure {
  int code = 0;
  std::string message;
};

template <class F>
Failure attempt(F&& f) {
  try {
    f();
  } catch (const ntp::Error& e) {
    return {static_cast<int>(e.exit_code()), e.what()};
  } catch (const std::bad_alloc&) {
    return {static_cast<int>(ntp::ExitCode::kInternalError), "internal error: out of memory"};
  } catch (const std::exception& e) {
    return {static_cast<int>(ntp::ExitCode::kInternalError),
            std::string("internal error: ") + e.what()};
  }
  return {};
}

[[noreturn]] void abort_job(int rank, const Failure& f) {
  std::fprintf(stderr, "ntpcheck: rank %d: %s\n", rank, f.message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, f.code == 0 ? 4 : f.code);
  std::exit(f.code == 0 ? 4 : f.code);
}

int coordinate(const ntp::SweepSpec& spec, const SweepArgs& a, int size,
               const std::vector<std::int64_t>& todo, SweepRunInfo info, double t0) {
  const int workers = size - 1;
  std::size_t next = 0;
  int closed = 0;
  SweepProgress progress(a.quiet, static_cast<std::int64_t>(todo.size()));
  Backoff b;
  while (closed < workers) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (flag == 0) {
      b.wait();
      continue;
    }
    b.reset();
    std::int64_t msg = 0;
    MPI_Recv(&msg, 1, MPI_INT64_T, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (st.MPI_TAG == kTagClosed) {
      ++closed;
      continue;
    }
    if (st.MPI_TAG != kTagRequest) continue;
    if (msg >= 0) {
      ++info.computed;
      progress(info.computed);
    }
    const bool budget = a.max_seconds > 0 && now_seconds() - t0 > a.max_seconds;
    if (budget && next < todo.size()) info.stopped_by_budget = true;
    if (!budget && next < todo.size()) {
      send_int(todo[next++], st.MPI_SOURCE, kTagWork);
    } else {
      send_int(-1, st.MPI_SOURCE, kTagWork);
    }
  }
  info.seconds = now_seconds() - t0;
  int code = 0;
  const Failure f = attempt([&] { code = finish_sweep(spec, a, info); });
  if (f.code != 0) {
    std::fprintf(stderr, "ntpcheck: %s\n", f.message.c_str());
    code = f.code;
  }
  for (int r = 1; r < size; ++r) send_int(code, r, kTagExit);
  return code;
}

int work(const ntp::SweepSpec& spec, const SweepArgs& a, int rank) {
  std::optional<ntp::ShardWriter> w;
  Failure f = attempt([&] { w.emplace(a.out, rank); });
  if (f.code != 0) abort_job(rank, f);
  std::int64_t done = -1;
  for (;;) {
    send_int(done, 0, kTagRequest);
    const std::int64_t i = recv_polled(0, kTagWork);
    if (i < 0) break;
    f = attempt([&] {
      const double t = now_seconds();
      nlohmann::json rec = ntp::run_sweep_point(spec, i);
      w->append(std::move(rec), now_seconds() - t);
    });
    if (f.code != 0) abort_job(rank, f);
    done = i;
  }
  f = attempt([&] { w->close(); });
  if (f.code != 0) abort_job(rank, f);
  send_int(0, 0, kTagClosed);
  return static_cast<int>(recv_polled(0, kTagExit));
}

}  // namespace

bool mpi_built() { return true; }

int run_sweep_mpi(const SweepArgs& a) {
  const double t0 = now_seconds();
  MPI_Init(nullptr, nullptr);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  // Every rank reads the spec; rank 0 also validates the points and prepares the directory.
  ntp::SweepSpec spec;
  std::optional<ntp::SweepDirectory> dir;
  std::vector<std::int64_t> todo;
  SweepRunInfo info;
  info.mode = "mpi";
  info.ranks = size;
  info.workers = size > 1 ? size - 1 : 1;
  Failure mine = attempt([&] { spec = ntp::read_sweep_spec(a.spec); });
  if (rank == 0 && mine.code == 0) {
    mine = attempt([&] {
      ntp::check_sweep_points(spec);
      dir.emplace(a.out, spec);
      const ntp::ShardScan scan = dir->scan();
      todo = ntp::pending_points(spec, scan);
      info.reused = spec.size - static_cast<std::int64_t>(todo.size());
      info.truncated_bytes = scan.truncated_bytes;
      info.duplicates = scan.duplicates;
    });
  }
  std::uint64_t h = mine.code == 0 ? digest(spec.source.dump()) : 0;
  std::uint64_t h0 = h;
  MPI_Bcast(&h0, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  if (rank != 0 && mine.code == 0 && h != h0) {
    mine = {static_cast<int>(ntp::ExitCode::kInvalidInput),
            "invalid sweep spec: " + a.spec +
                " differs from the file rank 0 read (every rank "
                "must see the same SPEC), got another content on rank " +
                std::to_string(rank)};
  }
  int code0 = mine.code;
  MPI_Bcast(&code0, 1, MPI_INT, 0, MPI_COMM_WORLD);
  int worst = 0;
  MPI_Allreduce(&mine.code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (worst != 0) {
    if (mine.code != 0 && (rank == 0 || code0 == 0)) {
      if (rank == 0) {
        std::fprintf(stderr, "ntpcheck: %s\n", mine.message.c_str());
      } else {
        std::fprintf(stderr, "ntpcheck: rank %d: %s\n", rank, mine.message.c_str());
      }
    }
    dir.reset();
    MPI_Finalize();
    return worst;
  }

  int code = 0;
  if (size == 1) {
    // mpirun -n 1: the single-process loop, inside MPI.
    const Failure f = attempt([&] {
      SweepProgress progress(a.quiet, static_cast<std::int64_t>(todo.size()));
      ntp::SweepRunOptions ro;
      ro.max_seconds = a.max_seconds;
      ro.progress = [&](std::int64_t d, std::int64_t) { progress(d); };
      const ntp::SweepRunStats st = ntp::run_sweep_points(spec, a.out, todo, ro);
      info.computed = st.computed;
      info.stopped_by_budget = st.stopped_by_budget;
      info.seconds = now_seconds() - t0;
      code = finish_sweep(spec, a, info);
    });
    if (f.code != 0) {
      std::fprintf(stderr, "ntpcheck: %s\n", f.message.c_str());
      code = f.code;
    }
  } else if (rank == 0) {
    code = coordinate(spec, a, size, todo, info, t0);
  } else {
    code = work(spec, a, rank);
  }
  dir.reset();
  MPI_Finalize();
  return code;
}

}  // namespace ntpcli

#else  // !NTPCHECK_HAVE_MPI

#include "ntp/errors.hpp"

namespace ntpcli {

bool mpi_built() { return false; }

int run_sweep_mpi(const SweepArgs&) {
  throw ntp::InternalError("run_sweep_mpi: ntpcheck was built without MPI (NTPCHECK_MPI=OFF)");
}

}  // namespace ntpcli

#endif
