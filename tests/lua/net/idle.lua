-- Does nothing: with --console, the console alone keeps the process serving.
injected = 0
