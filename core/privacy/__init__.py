"""The privacy a clinic runs and a patient uses: disclosures entered by hand."""
