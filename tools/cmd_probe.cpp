// `tandem probe-allreduce --out FILE`: a worker that times allreduce between
// the ranks at a range of sizes and fits the alpha-beta model (rank 0 writes
// FILE). `tandem sweep` runs it with 2 workers for the report's projection.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

#include "framework/dist/communicator.h"
#include "framework/dist/world.h"
#include "framework/core/atomic_file.h"
#include "sweep/projection.h"
#include "tools/commands.h"

namespace tandem::cli {

void add_probe_command(CLI::App& app, Action& action) {
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("probe-allreduce", "Time allreduce between the workers (run it under tandem launch).");
  cmd->add_option("--out", *out, "JSON file rank 0 writes")->required();
  cmd->callback([&action, out] {
    action = [out] {
      const auto world = dist::world_from_env();
      dist::DistOptions options;
      options.timeout = std::chrono::seconds(60);
      auto comm = dist::connect(world, options);
      std::vector<double> bytes, seconds;
      for (int64_t count : {1, 1024, 16384, 131072, 524288, 1048576, 2097152}) {
        at::Tensor t = at::ones({count}, at::kFloat);
        for (int i = 0; i < 3; ++i) comm->allreduce(t)->wait();
        const int reps = static_cast<int>(std::clamp<int64_t>(8000000 / (count * 4), 5, 200));
        std::vector<double> times;
        for (int i = 0; i < reps; ++i) {
          comm->barrier()->wait();
          const auto start = std::chrono::steady_clock::now();
          comm->allreduce(t)->wait();
          times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
        bytes.push_back(static_cast<double>(count * 4));
        seconds.push_back(times[times.size() / 2]);
      }
      if (world.rank == 0) {
        const auto net = sweep::fit_two_worker_allreduce(bytes, seconds, "measured");
        nlohmann::json j{{"world_size", world.world_size}, {"backend", comm->backend()}, {"bytes", bytes},
                         {"median_s", seconds}, {"alpha_s", net.alpha_s}, {"beta_s_per_byte", net.beta_s_per_byte}};
        write_file_atomically(*out, j.dump(2) + "\n");
        fmt::print("[probe] allreduce between {} workers: alpha {:.1f} us, {:.2f} GB/s\n", world.world_size,
                   net.alpha_s * 1e6, 1e-9 / net.beta_s_per_byte);
      }
      comm->barrier()->wait();
      return 0;
    };
  });
}

}  // namespace tandem::cli
