"""The intake questionnaire a consumer completes before a first consultation (P03, P04, P06)."""
