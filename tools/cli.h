#pragma once
/// The `tandem` command line: launch | train | validate | export | sample | eval | predict | sweep |
/// report | probe.
/// Models and datasets are whatever the executable links (they register
/// themselves), so a user's own executable gets the same commands.

namespace tandem::cli {

/// Runs the command line; returns the process exit code
/// (0 ok, 2 bad input, 1 failure, 128+signal when stopped).
int main(int argc, char** argv);

}  // namespace tandem::cli
