"""Runnable examples: python3 -m interop_fd.examples.view_moderngl."""
