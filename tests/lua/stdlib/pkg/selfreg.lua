package.loaded[...] = {selfreg = true}
