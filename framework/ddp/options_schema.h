#pragma once
/// The recipe's `ddp:` section: its schema, and the DdpOptions read from it.
#include <yaml-cpp/yaml.h>

#include "framework/ddp/options.h"
#include "framework/recipe/schema.h"

namespace tandem::ddp {

recipe::Section ddp_schema();
DdpOptions ddp_options_from(const YAML::Node& resolved_ddp_section);

}  // namespace tandem::ddp
