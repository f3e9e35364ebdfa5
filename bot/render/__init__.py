"""Pure functions from domain state and a language to message text and keyboards."""
