/// @file
/// MPI's C interface (<mpi.h>), without Open MPI's and MPICH's deprecated C++ bindings, which
/// would need a library of their own.
#pragma once

/// @cond INTERNAL
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
/// @endcond
#include <mpi.h>
