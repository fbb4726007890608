"""The Praxis kernel: everything every tenant shares."""
