// Precompiled for every Tandem target that uses LibTorch (see cmake/TandemTargets.cmake).
#pragma once
#include <torch/torch.h>
