#include "sluice/ops/cli.h"

int main(int argc, char** argv) { return sluice::ops::run_cli(argc, argv); }
