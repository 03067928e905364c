// my_tandem: the `tandem` command with the models and optimizers linked into
// this executable (the built-in ones, tiny_char_mlp and lion). Every
// subcommand works as in `tandem`.
#include "tools/cli.h"

int main(int argc, char** argv) { return tandem::cli::main(argc, argv); }
