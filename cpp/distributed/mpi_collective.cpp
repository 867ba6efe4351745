#include "distributed/mpi_collective.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace deepr {

namespace {

// Open MPI's values (mpi.h): MPI_SUCCESS, MPI_THREAD_SERIALIZED and MPI_IN_PLACE.
constexpr int kSuccess = 0;
constexpr int kThreadSerialized = 2;
void* const kInPlace = reinterpret_cast<void*>(1);

const char* const kInstall =
    "install Open MPI (Debian, Ubuntu: sudo apt-get install openmpi-bin libopenmpi-dev; "
    "Fedora, RHEL: sudo dnf install openmpi) and start the processes with mpirun";

void* library() {
  // RTLD_GLOBAL: Open MPI's own plugins, which it dlopens in turn, resolve their symbols in libmpi.
  if (void* handle = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL)) return handle;
  const std::string why = dlerror();
  // libopenmpi-dev's unversioned name, for an Open MPI whose soname is not .40.
  if (void* handle = dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL)) return handle;
  throw std::runtime_error("cannot load Open MPI (" + why + "): " + kInstall);
}

void* symbol(void* handle, const char* name) {
  void* address = dlsym(handle, name);
  if (!address)
    throw std::runtime_error(std::string("the loaded libmpi has no ") + name +
                             ", so it is not Open MPI's (the only MPI deepr supports): " + kInstall);
  return address;
}

template <typename F>
F function(void* handle, const char* name) {
  return reinterpret_cast<F>(symbol(handle, name));
}

void check(int status, const char* call) {
  if (status != kSuccess)
    throw std::runtime_error(std::string("MPI: ") + call + " failed with error " + std::to_string(status));
}

// How MPI ends at exit: plain data, so that it outlives the static objects destroyed before the
// handler runs.
struct Ending {
  int (*finalize)() = nullptr;
  int (*abort)(void*, int) = nullptr;
  void* comm_world = nullptr;
  int exit_code = 1;
};
Ending ending;

void end_at_exit() {
  if (ending.exit_code == 0) ending.finalize();
  else ending.abort(ending.comm_world, ending.exit_code);
}

}  // namespace

void MpiCollective::set_exit_code(int exit_code) { ending.exit_code = exit_code; }

MpiCollective& MpiCollective::instance() {
  static MpiCollective collective;  // thread-safe initialisation; a throw leaves it for a retry
  return collective;
}

MpiCollective::MpiCollective() {
  void* handle = library();
  const auto initialized = function<int (*)(int*)>(handle, "MPI_Initialized");
  const auto init_thread = function<int (*)(int*, char***, int, int*)>(handle, "MPI_Init_thread");
  const auto query_thread = function<int (*)(int*)>(handle, "MPI_Query_thread");
  const auto comm_rank = function<int (*)(void*, int*)>(handle, "MPI_Comm_rank");
  const auto comm_size = function<int (*)(void*, int*)>(handle, "MPI_Comm_size");
  all_reduce_ = function<AllReduce>(handle, "MPI_Allreduce");
  ending.finalize = function<int (*)()>(handle, "MPI_Finalize");
  ending.abort = function<int (*)(void*, int)>(handle, "MPI_Abort");
  comm_world_ = symbol(handle, "ompi_mpi_comm_world");
  float_type_ = symbol(handle, "ompi_mpi_float");
  sum_op_ = symbol(handle, "ompi_mpi_op_sum");

  int already = 0, provided = 0;
  check(initialized(&already), "MPI_Initialized");
  if (already) {
    check(query_thread(&provided), "MPI_Query_thread");
  } else {
    check(init_thread(nullptr, nullptr, kThreadSerialized, &provided), "MPI_Init_thread");
    ending.comm_world = comm_world_;
    std::atexit(end_at_exit);
  }
  if (provided < kThreadSerialized)
    throw std::runtime_error("this MPI gives thread level " + std::to_string(provided) +
                             "; deepr needs MPI_THREAD_SERIALIZED (it trains on worker threads)");
  int rank = 0, size = 0;
  check(comm_rank(comm_world_, &rank), "MPI_Comm_rank");
  check(comm_size(comm_world_, &size), "MPI_Comm_size");
  rank_ = uint32_t(rank);
  ranks_ = uint32_t(size);
}

void MpiCollective::sum(float* values, size_t count) {
  // MPI counts are ints: a larger buffer goes in parts.
  for (size_t first = 0; first < count; first += INT_MAX) {
    const int part = int(std::min<size_t>(count - first, INT_MAX));
    check(all_reduce_(kInPlace, values + first, part, float_type_, sum_op_, comm_world_), "MPI_Allreduce");
  }
}

}  // namespace deepr
