"""The demo's family messages chapter (order 250): filled in below."""
