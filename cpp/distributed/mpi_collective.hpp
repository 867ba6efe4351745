// Collective on MPI, loaded at run time: deepr never links against MPI, so it installs and runs
// without it, and only a process that asks for MPI needs libmpi.
//
// The ABI is Open MPI's (libmpi.so.40, Open MPI 3 and 4): its handles (MPI_COMM_WORLD, MPI_FLOAT,
// MPI_SUM) are the addresses of exported objects, found with dlsym. MPICH's integer handles are a
// different ABI and are not supported.
#pragma once

#include "collective.hpp"

namespace deepr {

class MpiCollective final : public Collective {
 public:
  // The process's MPI, initialised on first use with MPI_THREAD_SERIALIZED (training runs on
  // worker threads, one call at a time). Throws std::runtime_error that names what to install
  // when libmpi cannot be loaded, or when MPI cannot give that thread level.
  static MpiCollective& instance();

  uint32_t rank() const override { return rank_; }
  uint32_t ranks() const override { return ranks_; }
  void sum(float* values, size_t count) override;

  // The code the process is about to exit with (1 until told). At exit (std::atexit, after
  // everything else has been printed) MPI then ends with MPI_Finalize for 0 (mpirun counts a
  // process that exits without it as failed), otherwise with MPI_Abort, which makes mpirun stop
  // the other processes at once instead of leaving them blocked in an all-reduce this process
  // will never join (a finalize would block this one too).
  static void set_exit_code(int exit_code);

 private:
  MpiCollective();

  using AllReduce = int (*)(const void*, void*, int, void*, void*, void*);
  AllReduce all_reduce_ = nullptr;
  void* comm_world_ = nullptr;
  void* float_type_ = nullptr;
  void* sum_op_ = nullptr;
  uint32_t rank_ = 0;
  uint32_t ranks_ = 1;
};

}  // namespace deepr
