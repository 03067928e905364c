// The `tandem` command with the built-in models. A project with its own
// models writes the same three lines and links its models too.
#include "tools/cli.h"

int main(int argc, char** argv) { return tandem::cli::main(argc, argv); }
