"""Availability, consultation types, slots and appointments."""
