"""Pure domain: enums, value objects and state machines. No I/O."""
