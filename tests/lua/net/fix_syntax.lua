state.v = = 3
