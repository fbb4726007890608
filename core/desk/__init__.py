"""The front desk: patients' records and bookings made for them by the clinic's staff."""
