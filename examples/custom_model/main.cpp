// my_tandem: the `tandem` command with the models linked into this executable
// (the built-in ones and tiny_char_mlp). Every subcommand works as in `tandem`.
#include "tools/cli.h"

int main(int argc, char** argv) { return tandem::cli::main(argc, argv); }
