"""The shell: the `bauhof` entry point, its own commands and the demo, wiring every part.

It stands above every part (see the README's architecture section); no part imports it.
"""
