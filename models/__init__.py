"""Pure domain: enums, value objects and state machines as transition tables. No I/O.

Imports nothing of the project outside `models`.
"""
