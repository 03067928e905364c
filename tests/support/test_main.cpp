// main() of every Tandem test binary: a worker process of a multi-process test
// runs its worker function; otherwise GoogleTest runs as usual.
#include <gtest/gtest.h>

#include "tests/support/multiprocess.h"

int main(int argc, char** argv) {
  int code = 0;
  if (tandem::test::run_as_worker_if_asked(&code)) return code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
