print("loading mod", ...)
return {x = 15}
