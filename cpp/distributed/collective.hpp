// What data-parallel training needs from a communication library: which process this is, how
// many there are, and an in-place sum of a float buffer over all of them (an all-reduce).
//
// MpiCollective (mpi_collective.hpp) implements it on MPI for processes on CPUs. A second
// implementation for GPUs would wrap NCCL the same way: dlopen("libnccl.so.2"), ncclCommInitRank
// with a unique id that rank 0 makes and MPI broadcasts, and ncclAllReduce(ncclFloat, ncclSum) on
// the stream of the device that holds the gradients, synchronised before sum() returns. Nothing
// above this interface (the packing in data_parallel_exchange.hpp, the sharding of the batches)
// changes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace deepr {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual uint32_t rank() const = 0;   // this process, in [0, ranks())
  virtual uint32_t ranks() const = 0;  // how many processes share the training
  // Replaces values[0 .. count) on every process by their sum over all processes. Every process
  // calls it with the same count, in the same order of calls.
  virtual void sum(float* values, size_t count) = 0;
};

}  // namespace deepr
