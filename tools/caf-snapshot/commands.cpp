// The table of subcommands. Each subcommand lives in its own source file.

#include "command.hpp"

namespace caf_snapshot_tool {

const std::vector<const command*>& commands() {
  static const std::vector<const command*> table{
    &list_command,
    &show_command,
    &diff_command,
    &check_command,
    &dot_command,
    &take_command,
  };
  return table;
}

const command* find_command(const std::string& name) {
  for (auto* cmd : commands())
    if (name == cmd->name)
      return cmd;
  return nullptr;
}

} // namespace caf_snapshot_tool
