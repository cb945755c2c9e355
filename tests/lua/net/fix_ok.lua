-- A hotfix: changes module state visible through the `state` command.
state.v = state.v + 1
injected_global = true
