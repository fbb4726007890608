"""Video consultations: a private room per appointment, links in time, attendance."""
