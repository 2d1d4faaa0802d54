/// @file
/// The MPI component (`xtnn::mpi`): data-parallel training over Open MPI (or any MPI).
/// environment starts and ends MPI; communicator is the process_group that fit trains on.
/// Link `xtnn::mpi` (`find_package(xtnn COMPONENTS mpi)`); the core does not need it.
/// See docs/distributed.md.
#pragma once

#include <xtnn/mpi/communicator.hpp>
#include <xtnn/mpi/environment.hpp>
