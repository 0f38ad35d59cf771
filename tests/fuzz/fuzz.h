/*
 * fuzz.h - shared by the fuzz targets: each target defines
 * LLVMFuzzerTestOneInput. Built with clang -fsanitize=fuzzer for
 * `make fuzz`, and with replay.c (any compiler) to replay the committed
 * corpus in `make check`.
 */
#ifndef E2E_FUZZ_H
#define E2E_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target checks: abort (a crash the fuzzer reports). */
#define FUZZ_ASSERT(cond) do { if (!(cond)) __builtin_trap(); } while (0)

#endif
