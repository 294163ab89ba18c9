"""How a process is set up: settings read from the environment, and the log line format.

Below every layer but the domain: any part of the product may read it; it imports nothing of
the product.
"""
